"""The Bot API as we use it: the client, flood limits, HTML and what each error means."""
