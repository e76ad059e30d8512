"""Feed poller: fetch feeds politely and safely, parse, normalise, dedupe, queue articles."""
