"""``python -m tom_harness`` runs the ``tom-harness`` command line."""
import sys

from tom_harness.cli.main import main

sys.exit(main())
