"""Entry point for ``python -m klint``."""

from klint.cli import main

main()
