"""The notifier role: alerts fanned out to chats, sent, retried, digested or printed."""
