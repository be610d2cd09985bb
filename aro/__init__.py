"""aro-py: a fast Python runtime for ARO, the Action-Result-Object language."""

__version__ = "0.1.0"
