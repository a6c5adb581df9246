"""`python -m orchestrator.cli`: the same as the `smm-engine` command."""

from orchestrator.cli import run

run()
