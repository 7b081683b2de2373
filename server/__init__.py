"""Koers: a federated ActivityPub server for communities of purpose."""

__version__ = "0.1.0"
