"""Truces: what items report about a truce, and the role that keeps each region's state."""
