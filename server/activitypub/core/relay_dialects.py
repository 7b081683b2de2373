"""How a community's Group relays to each follower host: FEP-1b12 or plain boosts.

A Group relays its members' activities as ``Announce`` of the activity (FEP-1b12, as Lemmy does).
Servers of the Mastodon family (Mastodon, GoToSocial, Akkoma, Misskey …) boost only objects, so a
follower there would see none of the community's posts. Each follower host is therefore addressed
in the dialect its NodeInfo software names (``hosts.software``, asked by the transport the first
time one of its actors is stored):

- FEP-1b12-aware software (``AWARE``): ``Announce`` of the activity, as before;
- other known software: ``Announce`` of the post object for a ``Create`` (a boost by the Group),
  ``Undo`` of that boost for a ``Delete``; the ``Update`` and ``Delete`` of a local member's post
  also go there from its author (``from_author``: those servers take an edit or a deletion only
  from the author); other relayed activities are not sent (they cannot be understood there);
- a host whose software is unknown gets both: FEP-1b12 receivers (Koers among them) store a post
  once by its id whichever way it arrives, and boost-only receivers ignore the ``Announce`` of an
  activity, so the post is shown exactly once either way.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from federation import hosts
from server.activitypub.core import convert
from server.activitypub.core.vocab import POST_TYPES, first_id, host_of, type_of

AWARE = frozenset({"koers", "lemmy", "mbin", "kbin", "piefed", "lotide", "nodebb"})


def dialect(software: str | None) -> str:
    """``activity``, ``object`` or ``both`` for a host running ``software`` (None/'' unknown)."""
    if not software:
        return "both"
    return "activity" if software.lower() in AWARE else "object"


async def split_inboxes(conn: AsyncConnection, inboxes: list[str]) -> tuple[list[str], list[str]]:
    """(inboxes for the ``Announce`` of the activity, inboxes for the boost of the object)."""
    known = await hosts.states(conn, {host_of(i) for i in inboxes})
    by_activity: list[str] = []
    by_object: list[str] = []
    for inbox in inboxes:
        row = known.get(host_of(inbox))
        kind = dialect(row.software if row is not None else None)
        if kind in ("activity", "both"):
            by_activity.append(inbox)
        if kind in ("object", "both"):
            by_object.append(inbox)
    return by_activity, by_object


def boost_id(group_uri: str, object_uri: str) -> str:
    """The id of the Group's boost of ``object_uri`` (the same for its ``Create`` and ``Delete``)."""
    return f"{group_uri}/boosts/{hashlib.sha256(object_uri.encode()).hexdigest()[:24]}"


def group_boost(
    base: str, group_uri: str, relayed: dict[str, Any], *, to: list[str], cc: list[str] | None
) -> dict[str, Any] | None:
    """What boost-only receivers get for the activity ``relayed`` by the Group at ``group_uri``:
    the Group's boost of a created post, the ``Undo`` of that boost for its ``Delete``, or
    ``None``."""
    kind = type_of(relayed)
    obj = relayed.get("object")
    target = first_id(obj)
    if target is None or kind not in ("Create", "Delete"):
        return None
    if kind == "Create" and not isinstance(obj, str) and type_of(obj) not in POST_TYPES:
        return None
    boost = convert.activity(
        base,
        "Announce",
        id=boost_id(group_uri, target),
        actor=group_uri,
        object=obj if kind == "Create" else target,
        to=to,
        cc=cc,
    )
    if kind == "Create":
        return boost
    return convert.activity(
        base,
        "Undo",
        id=f"{boost['id']}/undo",
        actor=group_uri,
        object={k: v for k, v in boost.items() if k != "@context"},
        to=to,
        cc=cc,
    )


def from_author(relayed: dict[str, Any]) -> bool:
    """Does the author's own ``relayed`` activity go to boost-only receivers as well? Edits and
    deletions do: they are shown a post as the Group's boost, and they accept an ``Update`` or
    ``Delete`` of it from its author only (queuing it again adds only inboxes it lacks)."""
    return type_of(relayed) in ("Update", "Delete")
