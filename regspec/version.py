"""The package version, in a module of its own so that low stages can name it without the facade."""

__version__ = "0.1.0"
