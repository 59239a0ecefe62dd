"""The library's version (its own module, so reports can show it without importing the package)."""

__version__ = "0.1.0"
