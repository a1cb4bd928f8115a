"""drift: audit how a repository's environment branches have drifted apart."""

__version__ = "0.1.0"
