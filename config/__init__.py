"""Default configuration files shipped with ceasefire-watch (YAML, lexicons, feeds)."""
