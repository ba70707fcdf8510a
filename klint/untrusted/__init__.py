"""Confined interpreters for what custom rules bring: message templates and JSON Schemas.

Below the catalogue and config (which validate custom rules when they load them) and below the
checks (which run them); imports only the foundation.
"""
