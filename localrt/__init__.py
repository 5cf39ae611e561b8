"""The local runtime: the real template, state machine and handlers, on emulated AWS and vendor simulators."""
