"""Run the command-line interface: ``python -m artifactlab``."""

import sys

from artifactlab.cli import main

sys.exit(main())
