"""The ActivityStreams vocabulary Koers speaks, and its own JSON-LD context (``/ns/koers``).

Koers terms are plain keys in compacted documents (``koers:role``, ``koers:competencies`` …);
servers that do not know them ignore them, a Koers server reads them back into ``extra``.

Every Koers term has one IRI, the same on every instance: ``VOCAB`` + name (documented at
``VOCAB``). Each instance serves the context document that maps the ``koers`` prefix to it at
``/ns/koers``. Instances before the fixed IRI mapped ``koers`` to ``https://<their host>/ns/koers#``;
``normalise`` turns terms written with that IRI (or the fixed one, or another prefix bound to
either) back into ``koers:name`` keys, so their documents are understood as before.
"""

from __future__ import annotations

import re
from typing import Any

AS = "https://www.w3.org/ns/activitystreams"
SECURITY = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
KOERS_PATH = "/ns/koers"
# The one vocabulary IRI of Koers terms (the term ``role`` is ``https://koers.social/ns#role``).
VOCAB = "https://koers.social/ns#"
# The per-instance vocabulary of older Koers versions: https://<host>/ns/koers#<term>.
LEGACY_VOCAB = re.compile(r"^https?://[^/#\s]+/ns/koers#$")

# term -> (IRI suffix, JSON-LD type or None). The semantics side may add terms with ``add_term``
# at import time of its own module (before the app starts serving).
TERMS: dict[str, tuple[str, str | None]] = {
    "role": ("role", "@id"),
    "roles": ("roles", "@id"),
    "competency": ("competency", None),
    "competencies": ("competencies", None),
    "level": ("level", None),
    "status": ("status", None),
    "purpose": ("purpose", "@id"),
    "members": ("members", "@id"),
    "roadmap": ("roadmap", "@id"),
    "roadmapItem": ("roadmapItem", "@id"),
    "contributors": ("contributors", "@id"),
    "openness": ("openness", None),
    "fillMode": ("fillMode", None),
    "holders": ("holders", "@id"),
    "version": ("version", None),
    "idea": ("idea", None),
    "result": ("result", None),
    "audienceKind": ("audienceKind", None),
    "derivedFrom": ("derivedFrom", None),
}
# Mastodon's extensions we emit on actors.
MASTODON_TERMS: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}


def add_term(name: str, *, id_valued: bool = False) -> None:
    """Declare another Koers term (``id_valued`` when its values are IRIs)."""
    TERMS[name] = (name, "@id" if id_valued else None)


def koers_context_url(base: str) -> str:
    """The URL of this instance's Koers context document."""
    return base + KOERS_PATH


def context(base: str) -> list[Any]:
    """The ``@context`` of every Koers document: AS, security, and the Koers context."""
    return [AS, SECURITY, koers_context_url(base), MASTODON_TERMS]


def context_document() -> dict[str, Any]:
    """The JSON-LD document served at ``/ns/koers``: the same on every instance."""
    terms: dict[str, Any] = {"koers": VOCAB}
    for name, (suffix, kind) in sorted(TERMS.items()):
        terms[name] = {"@id": f"koers:{suffix}", "@type": kind} if kind else f"koers:{suffix}"
    return {"@context": terms}


def is_koers_vocab(iri: object) -> bool:
    """Whether ``iri`` is the Koers vocabulary IRI: the fixed one, or an older per-instance one."""
    return isinstance(iri, str) and (iri == VOCAB or bool(LEGACY_VOCAB.match(iri)))


def _aliases(ctx: Any) -> set[str]:
    """Prefixes other than ``koers`` that a document's inline ``@context`` binds to Koers' IRI."""
    found: set[str] = set()
    for entry in ctx if isinstance(ctx, list) else [ctx]:
        if isinstance(entry, dict):
            found.update(k for k, v in entry.items() if k != "koers" and is_koers_vocab(v))
    return found


def _term_key(key: str, aliases: set[str]) -> str:
    """``key`` as ``koers:name`` when it names a Koers term in any accepted spelling."""
    if "#" in key:
        iri, _, name = key.rpartition("#")
        if name and is_koers_vocab(iri + "#"):
            return f"koers:{name}"
        return key
    prefix, sep, name = key.partition(":")
    if sep and prefix in aliases and name:
        return f"koers:{name}"
    return key


def _rewrite(value: Any, aliases: set[str]) -> Any:
    if isinstance(value, list):
        return [_rewrite(v, aliases) for v in value]
    if not isinstance(value, dict):
        return value
    inner = aliases | _aliases(value.get("@context")) if "@context" in value else aliases
    return {
        (k if k == "@context" else _term_key(k, inner)): (
            v if k == "@context" else _rewrite(v, inner)
        )
        for k, v in value.items()
    }


def _needs_rewrite(value: Any, aliases: set[str]) -> bool:
    if isinstance(value, list):
        return any(_needs_rewrite(v, aliases) for v in value)
    if not isinstance(value, dict):
        return False
    if "@context" in value and _aliases(value["@context"]):
        return True
    return any(
        k != "@context" and (_term_key(k, aliases) != k or _needs_rewrite(v, aliases))
        for k, v in value.items()
    )


def normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """A received document with every Koers term written ``koers:name`` (see the module doc).

    Documents that already use the ``koers:`` prefix (every Koers instance does) come back as
    they are; only full-IRI keys and other prefixes bound to a Koers IRI are rewritten.
    """
    if not _needs_rewrite(doc, set()):
        return doc
    rewritten: dict[str, Any] = _rewrite(doc, set())
    return rewritten


def koers_terms(doc: dict[str, Any]) -> dict[str, Any]:
    """The Koers terms of a remote document (plain or ``koers:``-prefixed keys), for ``extra``."""
    out: dict[str, Any] = {}
    for key, value in normalise(doc).items():
        name = key.split(":", 1)[1] if key.startswith("koers:") else key
        if name in TERMS:
            out[name] = value
    return out
