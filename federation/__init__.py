"""ActivityPub for Koers: vocabulary, signatures, discovery, inbox, delivery and fetching.

This package knows ActivityPub and HTTP and nothing of web pages or the Mastodon API. What
``server/`` uses:

- ``signatures``: ``sign_request``, ``verify_request`` (→ ``VerifyResult`` or ``SignatureError``
  with a ``reason``), ``KeyCache`` (on the app as ``state.KEYS``).
- ``fetch``: ``Fetcher.fetch_json`` / ``post_signed`` with SSRF guard and limits (``state.FETCHER``).
- ``actors``: ``resolve_actor``, ``resolve_handle_to_actor``, ``fetch_signed`` (as the instance
  actor, or ``as_actor=`` a local actor), ``key_lookup``; ``state.REMOTE_ACTOR_HOOKS`` is how
  ``server/`` sanitises and completes the remote actors it stores.
- ``delivery``: ``enqueue(conn, activity=, actor_id=, inboxes=)`` inside a write transaction,
  ``inboxes_for(conn, actor_ids)``, ``run_delivery_once(app)``, ``wake(app)``.
- ``inbox``: ``InboxHandlers.register(type, handler)`` (``state.INBOX_HANDLERS``), handlers raise
  ``errors.Ignore(reason)``; ``process_inbox_once(app)``.
- ``documents``: ``signed_viewer`` / ``ap_viewer`` (authorized fetch, secure mode),
  ``wants_activitypub``, ``activity_json``, ``render_actor``; ``state.ACTOR_EXTRAS`` adds terms to
  local actors.
- ``discovery``: WebFinger and NodeInfo, ``host_software`` (remembered in ``hosts.software``).
- ``context``: the Koers JSON-LD context (``add_term``, the fixed ``VOCAB`` IRI, ``normalise`` for
  older instances' terms), ``policy``: blocks, allowlist, partners.
"""
