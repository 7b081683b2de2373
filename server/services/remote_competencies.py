"""Competencies of remote people, read from their actor documents so the people finder finds them.

A Koers actor says it with ``koers:competencies`` (``[{name, koers:level}]``) or ``koers:competency``;
other servers have profile fields ("Skills", "Competencies", "Expertise" …) and hashtags in the bio.
``from_actor_document`` is pure; ``store`` replaces the remote actor's rows (called by
``federation.actors.store_actor`` inside its write, so they refresh with the actor).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from server.services.text import html_to_text
from server.storage import schema as t

LEVELS = ("learning", "practised", "expert")
MAX_PER_ACTOR = 30
MAX_NAME = 100
FIELD_NAMES = re.compile(
    r"skill|competenc|expertise|vaardigheid|kompetenz|compétence", re.IGNORECASE
)
LEVEL_SUFFIX = re.compile(
    r"^(?P<name>.+?)\s*[(:]\s*(?P<level>learning|practised|practiced|expert)\s*\)?$", re.IGNORECASE
)
BIO_TAG = re.compile(r"(?:^|\s)#(\w{2,100})", re.UNICODE)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value] if isinstance(value, dict) else []


def _clean(name: object) -> str:
    return (
        html_to_text(name).strip().lstrip("#").strip().lower()[:MAX_NAME]
        if isinstance(name, str)
        else ""
    )


def _level(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip().lower().replace("practiced", "practised")
    return value if value in LEVELS else None


def _koers_terms(doc: dict[str, Any]) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for key in ("koers:competencies", "competencies", "koers:competency", "competency"):
        value = doc.get(key)
        for entry in value if isinstance(value, list) else [value] if value is not None else []:
            if isinstance(entry, dict):
                out.append(
                    (
                        _clean(entry.get("name")),
                        _level(entry.get("koers:level", entry.get("level"))),
                    )
                )
            elif isinstance(entry, str):
                out.append((_clean(entry), None))
    return out


def _profile_fields(doc: dict[str, Any]) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for field in _list(doc.get("attachment")):
        if not isinstance(field, dict) or field.get("type") != "PropertyValue":
            continue
        if not isinstance(field.get("name"), str) or not FIELD_NAMES.search(field["name"]):
            continue
        for part in re.split(r"[,;·•\n]+", html_to_text(str(field.get("value", "")))):
            match = LEVEL_SUFFIX.match(part.strip())
            if match:
                out.append((_clean(match["name"]), _level(match["level"])))
            else:
                out.append((_clean(part), None))
    return out


def _bio_hashtags(doc: dict[str, Any]) -> list[tuple[str, str | None]]:
    tags = [
        tag.get("name")
        for tag in _list(doc.get("tag"))
        if isinstance(tag, dict) and tag.get("type") == "Hashtag"
    ]
    tags += BIO_TAG.findall(html_to_text(str(doc.get("summary") or "")))
    return [(_clean(tag), None) for tag in tags]


def from_actor_document(doc: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(name, level) pairs an actor document declares: Koers terms first, then profile fields, then
    bio hashtags; lower-cased, one per name (the first, most explicit, wins), at most 30."""
    seen: dict[str, str | None] = {}
    for name, level in _koers_terms(doc) + _profile_fields(doc) + _bio_hashtags(doc):
        if name and name not in seen:
            seen[name] = level
    return list(seen.items())[:MAX_PER_ACTOR]


def from_actor_values(values: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The same, from the stored form of an actor (``federation.actors.actor_values``): Koers terms
    kept in ``extra``, profile ``fields`` and the bio (``summary_html``)."""
    extra = values.get("extra") or {}
    doc = {
        "competencies": extra.get("competencies"),
        "competency": extra.get("competency"),
        "attachment": [
            {"type": "PropertyValue", **f}
            for f in values.get("fields") or []
            if isinstance(f, dict)
        ],
        "summary": values.get("summary_html") or "",
    }
    return from_actor_document(doc)


async def store(
    conn: AsyncConnection, actor_id: int, competencies: list[tuple[str, str | None]]
) -> None:
    """Replace a remote actor's competencies (inside the caller's write transaction)."""
    await conn.execute(t.competencies.delete().where(t.competencies.c.actor_id == actor_id))
    if competencies:
        await conn.execute(
            t.competencies.insert(),
            [{"actor_id": actor_id, "name": n, "level": lvl} for n, lvl in competencies],
        )
