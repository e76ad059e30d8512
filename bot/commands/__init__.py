"""The bot role: the PTB application, its command handlers, admin commands and webhook."""
