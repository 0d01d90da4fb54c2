"""Run the command-line interface: ``python -m artifactlab``."""

from artifactlab.cli import app

app()
