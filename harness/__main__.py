"""``python -m tom_harness`` runs the ``tom-harness`` command line."""
import sys

from .cli import main

sys.exit(main())
