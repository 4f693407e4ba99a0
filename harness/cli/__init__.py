"""The ``tom-harness`` command line: flags, dispatch, exit codes."""
from tom_harness.cli.main import main

__all__ = ["main"]
