"""What the bot keeps in Redis: subscriptions, stories and our messages, and the regions."""
