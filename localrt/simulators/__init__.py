"""Vendor simulators: real HTTP servers on 127.0.0.1 that follow the vendors' documents."""
