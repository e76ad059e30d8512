"""Pipeline roles of ceasefire-watch: the feed poller and the ceasefire classifier."""
