"""The scanner's version, in its own module so that the engine and the report writers can import it
without importing the package's public API (no arrow back up to scanner/__init__.py)."""
__version__ = "0.1.0"
