"""logsieve: a fast, drop-in replacement for Debian's logcheck."""

__version__ = "0.1.0"
