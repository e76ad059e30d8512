"""What every role shares: settings, models, Redis, streams, lifecycle, logging and CLI."""

__version__ = "0.1.0"
