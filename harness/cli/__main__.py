"""``python -m tom_harness.cli``."""
from tom_harness.cli.main import main

raise SystemExit(main())
