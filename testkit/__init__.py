"""Local stand-ins for the outside world, shared by tests and benches (never by the service)."""
