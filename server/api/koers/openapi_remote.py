"""The OpenAPI part for the roadmap and idea box of communities on other instances (merged by ``openapi``)."""

from __future__ import annotations

from typing import Any

from server.api.koers import openapi_parts as o

R = o.PREFIX + "/remote_communities/{acct}"
ACCT = {
    "name": "acct",
    "in": "path",
    "required": True,
    "description": "the community's address, handle@host",
    "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_]+@[A-Za-z0-9.\-]+(:[0-9]+)?$"},
}

SCHEMAS: dict[str, Any] = {
    "RemoteRoadmapItem": {
        "allOf": [
            o.ref("RoadmapItem"),
            o.obj(
                {
                    "supports": o.COUNT,
                    "followers": o.COUNT,
                    "following": {"type": "boolean"},
                    "supporting": {"type": "boolean"},
                }
            ),
        ]
    },
    "SharedIdea": o.obj(
        {
            "post_id": o.ID,
            "title": {"type": "string"},
            "author": {"type": "string"},
            "url": {"type": "string"},
            "supports": o.COUNT,
            "supported": {"type": "boolean"},
            "created_at": o.STAMP,
        }
    ),
    "RemoteIdeaBox": o.obj(
        {"community_id": o.ID, "ideas": o.list_of("Idea"), "shared": o.list_of("SharedIdea")}
    ),
    "IdeaSupport": o.obj({"post_id": o.ID, "supported": {"type": "boolean"}}),
}


def _op(
    summary: str, ok: Any, *, write: bool, ids: tuple[str, ...] = (), **kw: Any
) -> dict[str, Any]:
    op = o.op(summary, ok, write=write, params=ids, **kw)
    op["parameters"] = [ACCT, *op["parameters"]]
    return op


def by_handle(paths: dict[str, dict[str, Any]]) -> None:
    """The roadmap and idea-box reads (and adding an idea) take handle@host as well as the id."""
    for path, method in (
        (o.C + "/roadmap", "get"),
        (o.C + "/roadmap", "post"),
        (o.C + "/roadmap/{item_id}", "get"),
        (o.C + "/ideas", "get"),
        (o.C + "/ideas", "post"),
    ):
        o.either_id_or_handle(paths[path][method])


def paths() -> dict[str, dict[str, Any]]:
    """The remote roadmap and idea box paths."""
    read_errors = ("401", "403", "404")
    out: dict[str, dict[str, Any]] = {
        R + "/roadmap": {
            "get": _op(
                "The roadmap of a community on another instance, as known here, with support "
                "counts and your standing",
                o.list_of("RemoteRoadmapItem"),
                write=False,
                errors=read_errors,
            )
        },
        R + "/ideas": {
            "get": _op(
                "Ideas sent from here to a community on another instance (with the state it reports) and "
                "idea posts it shared",
                o.ref("RemoteIdeaBox"),
                write=False,
                errors=read_errors,
            ),
            "post": _op(
                "Send an idea to the idea box of a community on another instance (members)",
                o.ref("Idea"),
                write=True,
                body="NewIdea",
                created=True,
            ),
        },
    }
    for action, summary in (
        ("support", "Support an item (a Like sent to the community, which counts it)"),
        ("unsupport", "Withdraw your support"),
        ("follow", "Follow an item: its status changes are notified to you"),
        ("unfollow", "Stop following an item"),
    ):
        out[R + "/roadmap/{item_id}/" + action] = {
            "post": _op(summary, o.ref("RemoteRoadmapItem"), write=True, ids=("item_id",))
        }
    for action, summary in (
        ("support", "Support an idea (a Like of its post, counted by the community)"),
        ("unsupport", "Withdraw your support of an idea"),
    ):
        out[R + "/ideas/{post_id}/" + action] = {
            "post": _op(summary, o.ref("IdeaSupport"), write=True, ids=("post_id",))
        }
    return out
