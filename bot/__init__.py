"""Telegram side: bot commands, subscriptions, rendering and the notifier."""
