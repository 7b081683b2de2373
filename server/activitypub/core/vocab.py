"""ActivityStreams vocabulary bits shared by the converters and handlers: contexts, ids, lists."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from federation import context as federation_context

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AP_CONTENT_TYPE = "application/activity+json"

# Object types whose Create/Update/Delete store a post.
POST_TYPES = ("Note", "Article", "Page", "Question", "Event")


def context(base: str) -> list[Any]:
    """The ``@context`` of every document that may carry Koers terms (the transport's, plus post terms)."""
    return [
        *federation_context.context(base),
        {
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "blurhash": "toot:blurhash",
            "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
            "votersCount": "toot:votersCount",
        },
    ]


def koers(doc: dict[str, Any], name: str) -> Any:
    """A Koers term of a remote document, written ``koers:name`` or plain ``name``."""
    return doc.get(f"koers:{name}", doc.get(name))


def as_list(value: object) -> list[Any]:
    """A JSON-LD value that may be absent, single or a list, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def ids(value: object) -> list[str]:
    """The ids in a property that may hold strings, objects with ids, or lists of either."""
    out: list[str] = []
    for v in as_list(value):
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict) and isinstance(v.get("id"), str):
            out.append(v["id"])
    return out


def first_id(value: object) -> str | None:
    """The first id in a property (``actor``, ``object``, ``inReplyTo`` …)."""
    found = ids(value)
    return found[0] if found else None


def host_of(uri: str | None) -> str:
    """``host[:port]`` of an id, lower-cased; empty for anything unparsable."""
    if not uri:
        return ""
    try:
        return urlsplit(uri).netloc.lower()
    except ValueError:
        return ""


def same_origin(a: str | None, b: str | None) -> bool:
    """Two ids from the same host (the origin check of DESIGN.md)."""
    return bool(a and b) and host_of(a) == host_of(b)


def type_of(doc: object) -> str:
    """The first ``type`` of a document ('' when absent)."""
    if not isinstance(doc, dict):
        return ""
    kind = doc.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if isinstance(k, str)), "")
    return kind if isinstance(kind, str) else ""


def setup_terms() -> None:
    """Declare the Koers terms of communities, role terms and initiatives in the JSON-LD context."""
    federation_context.add_term("community", id_valued=True)
    # role terms and initiatives (server/services/role_terms.py, initiatives.py)
    for term in ("termDays", "terms", "endsAt"):
        federation_context.add_term(term)
    federation_context.add_term("holder", id_valued=True)
    federation_context.add_term("lead", id_valued=True)
