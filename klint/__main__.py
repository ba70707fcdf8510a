"""Entry point for ``python -m klint``."""

from klint.entry import main

main()
