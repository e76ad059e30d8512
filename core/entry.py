"""The console script's entry point, kept small: the parse workers import it again.

multiprocessing starts each parse worker (forkserver) by importing the parent's main module
once more, and for ``ceasefire-watch`` that is the console script, which imports this module.
Importing ``core.cli`` there (click, structlog with rich, redis, pydantic settings: about
19 MiB) would cost every worker that much memory for nothing; so it is imported on call.
"""

from __future__ import annotations


def main() -> None:
    """Run the ``ceasefire-watch`` command line."""
    from core.cli import main as cli_main  # here, not above: see the module docstring

    cli_main()
