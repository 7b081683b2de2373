"""The bounds on what other servers send us, in one place (the table is ``docs/limits.md``).

Everything remote is bounded before it is stored: a value over a limit is either cut as Mastodon
cuts it (display names, bios, profile fields, the number of attachments …) or, where cutting would
change what the object says (a poll with more options than we hold, a post larger than any real
one), the whole object is refused with :class:`OverLimit`, which the inbox records as the reason
the activity was ignored. Pure functions and constants: no statement is run here.

A leaf: it imports nothing of ``server/``, so the transport (``federation/actors.py``) and the
ingest of posts (``server/activitypub/core/ingest.py``) both use it.
"""

from __future__ import annotations

from typing import Any

from federation import jsonload
from federation.errors import Ignore

# Posts (Note, Article, Page, Event, Question)
CONTENT_CHARS = 100_000  # HTML as sent, before sanitising; refused above
SUMMARY_CHARS = 500  # content warning, as text; cut
NAME_CHARS = 255  # title of an article or event, as text; cut
LANGUAGE_CHARS = 16  # a contentMap key; cut
ATTACHMENTS = 8  # media attachments; the rest dropped
ATTACHMENT_DESCRIPTION_CHARS = 1_500  # alt text; cut
URL_CHARS = 2_048  # a media URL; cut
HASHTAGS = 50  # distinct hashtags kept; the rest dropped
HASHTAG_CHARS = 100  # one hashtag; cut
MENTIONS = 100  # Mention tags read; the rest dropped
RECIPIENTS = 500  # distinct ids in to + cc + audience + Mention tags; refused above
TAG_ENTRIES = 1_000  # entries of ``tag`` (mentions, hashtags, emoji …); refused above
POLL_OPTIONS = 20  # options of a Question; refused above
POLL_OPTION_CHARS = 200  # one option's text; cut
CONTRIBUTORS = 50  # koers:contributors of a result; the rest dropped
RESULT_ROLES = 20  # koers:roles of a result; the rest dropped
PROPOSAL_CHARS = 5_000  # koers:proposal text; cut
PROPOSAL_REASON_CHARS = 2_000  # koers:proposal reason; cut

# Actors (Person, Group, Organization, Service, Application)
USERNAME_CHARS = 255  # preferredUsername; cut
DISPLAY_NAME_CHARS = 255  # name; cut
BIO_CHARS = 20 * 1024  # summary HTML as sent, before sanitising; cut (Mastodon: 20 KB)
PROFILE_FIELDS = 20  # PropertyValue attachments; the rest dropped
FIELD_NAME_CHARS = 255  # cut
FIELD_VALUE_CHARS = 2_048  # HTML as sent, before sanitising; cut

# Every document (checked by ``federation.jsonload`` before parsing)
NESTING_DEPTH = jsonload.MAX_DEPTH  # objects and arrays inside each other; refused above (400)
BODY_BYTES = jsonload.MAX_BYTES  # an inbox body or a fetched document; refused above


class OverLimit(Ignore):
    """A remote object we refuse as a whole: it is over a limit that cutting cannot honour."""

    def __init__(self, what: str, count: int, limit: int) -> None:
        super().__init__("over_limit", f"{what}: {count} is over the limit of {limit}")
        self.what = what


def _listed(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _recipients(doc: dict[str, Any]) -> set[str]:
    named: set[str] = set()
    for key in ("to", "cc", "audience", "bto", "bcc"):
        for v in _listed(doc.get(key)):
            if isinstance(v, str):
                named.add(v)
            elif isinstance(v, dict) and isinstance(v.get("id"), str):
                named.add(v["id"])
    return named


def check_post(doc: dict[str, Any]) -> None:
    """Refuse (``OverLimit``) a remote post that no cut could store faithfully."""
    content = doc.get("content")
    if isinstance(content, str) and len(content) > CONTENT_CHARS:
        raise OverLimit("content characters", len(content), CONTENT_CHARS)
    content_map = doc.get("contentMap")
    if isinstance(content_map, dict):
        longest = max((len(v) for v in content_map.values() if isinstance(v, str)), default=0)
        if longest > CONTENT_CHARS:
            raise OverLimit("content characters", longest, CONTENT_CHARS)
    for key in ("oneOf", "anyOf"):
        options = _listed(doc.get(key))
        if len(options) > POLL_OPTIONS:
            raise OverLimit("poll options", len(options), POLL_OPTIONS)
    tags = _listed(doc.get("tag"))
    if len(tags) > TAG_ENTRIES:
        raise OverLimit("tag entries", len(tags), TAG_ENTRIES)
    named = _recipients(doc)
    named.update(
        t["href"]
        for t in tags
        if isinstance(t, dict) and t.get("type") == "Mention" and isinstance(t.get("href"), str)
    )
    if len(named) > RECIPIENTS:
        raise OverLimit("recipients", len(named), RECIPIENTS)
