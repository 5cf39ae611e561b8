"""Fast tests of the local runtime's parts (faults, the meter's arithmetic): simulators on 127.0.0.1 at most, no
deployment, no state machine."""
