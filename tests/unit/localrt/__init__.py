"""Fast tests of the local runtime's fault machinery: simulators on 127.0.0.1, no moto, no state machine."""
