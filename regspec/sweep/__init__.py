"""Sweeps: a sweep file names a base spec and axes; trials run in workers, recorded in SQLite."""
