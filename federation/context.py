"""The ActivityStreams vocabulary Koers speaks, and its own JSON-LD context (``/ns/koers``).

Koers terms are plain keys in compacted documents (``role``, ``competency``, ``purpose`` …);
servers that do not know them ignore them, a Koers server reads them back into ``extra``.
"""

from __future__ import annotations

from typing import Any

AS = "https://www.w3.org/ns/activitystreams"
SECURITY = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
KOERS_PATH = "/ns/koers"

# term -> (IRI suffix, JSON-LD type or None). The semantics side adds terms with ``add_term``
# from its ``setup`` (before the app starts serving).
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


def context_document(base: str) -> dict[str, Any]:
    """The JSON-LD document served at ``/ns/koers``."""
    ns = base + KOERS_PATH + "#"
    terms: dict[str, Any] = {"koers": ns}
    for name, (suffix, kind) in sorted(TERMS.items()):
        terms[name] = {"@id": f"koers:{suffix}", "@type": kind} if kind else f"koers:{suffix}"
    return {"@context": terms}


def koers_terms(doc: dict[str, Any]) -> dict[str, Any]:
    """The Koers terms of a remote document (plain or ``koers:``-prefixed keys), for ``extra``."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = key.split(":", 1)[1] if key.startswith("koers:") else key
        if name in TERMS:
            out[name] = value
    return out
