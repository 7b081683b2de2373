"""The URL scheme of a Koers instance: ActivityPub ids and web addresses of every local object.

Ids depend on ``KOERS_URL`` only, so they stay stable however the instance is reached.
"""

from __future__ import annotations

from urllib.parse import quote


def person(base: str, username: str) -> str:
    return f"{base}/users/{username}"


def person_page(base: str, username: str) -> str:
    return f"{base}/@{username}"


def community(base: str, handle: str) -> str:
    return f"{base}/communities/{handle}"


def community_page(base: str, handle: str) -> str:
    return f"{base}/c/{handle}"


def organization(base: str) -> str:
    return f"{base}/actor"


def partners_collection(base: str) -> str:
    return f"{base}/partners"


def post(base: str, username: str, post_id: int) -> str:
    return f"{base}/users/{username}/posts/{post_id}"


def post_page(base: str, username: str, post_id: int) -> str:
    return f"{base}/@{username}/{post_id}"


def role(base: str, handle: str, role_id: int) -> str:
    return f"{base}/c/{handle}/roles/{role_id}"


def roadmap_item(base: str, handle: str, item_id: int) -> str:
    return f"{base}/c/{handle}/roadmap/{item_id}"


def purpose_version(base: str, handle: str, version: int) -> str:
    return f"{base}/c/{handle}/purpose/{version}"


def tag(base: str, name: str) -> str:
    return f"{base}/tags/{quote(name)}"


def media(base: str, path: str) -> str:
    return f"{base}/media/{path}"
