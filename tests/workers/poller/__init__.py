"""Tests of the feed poller."""
