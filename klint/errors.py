"""The base of errors that end a run with exit code 2 and a one-line message."""


class KlintError(Exception):
    """A configuration, catalogue or usage problem that stops the run."""
