"""Shared parts of the ActivityPub side: vocabulary, conversion, ingest, recipients, lookup,
actor documents and the two routing tables (``inbound.py``, ``outbound.py``)."""
