"""The run directory: its layout and record (layout.py), reading it (read.py), its figures."""
