"""A local Telegram Bot API emulator: server and limits, methods and state, Telegram's rules."""
