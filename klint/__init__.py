"""klint: an offline static security linter for Kubernetes configuration."""

__version__ = "0.1.0"
