"""klint: an offline static security linter for Kubernetes configuration."""

from klint.import_cost import prime_yaml_reader

__version__ = "0.1.0"

prime_yaml_reader()  # before any klint module imports yaml
