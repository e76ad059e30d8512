"""What every role shares: settings, models, Redis, streams, lifecycle, logging and CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    # pyproject.toml holds the one version number; this reads it back from the installed copy.
    __version__ = version("ceasefire-watch")
except PackageNotFoundError:  # run from a checkout that was never pip-installed
    __version__ = "0+unknown"
