"""ActivityPub for Koers: vocabulary, signatures, discovery, inbox, delivery and fetching.

This package knows ActivityPub and nothing of web pages or the Mastodon API.
"""
