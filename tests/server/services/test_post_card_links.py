"""Post cards link the roles and roadmap item a post names to pages that exist here: a local
community's role/item pages, or a remote community's roles/roadmap pages on this instance."""

from __future__ import annotations

import dataclasses

import pytest

from server.services.views import PostView


def _post(**kw: object) -> PostView:
    """A PostView with placeholder values for everything a card link does not look at."""
    required = {
        f.name: None
        for f in dataclasses.fields(PostView)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    return PostView(**{**required, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "role", "item"),
    [
        ("/c/energy", "/c/energy/roles/7", "/c/energy/roadmap/9"),
        (
            "/c/energy@a.example",
            "/c/energy@a.example/roles#role-7",
            "/c/energy@a.example/roadmap#item-9",
        ),
    ],
)
def test_links_lead_to_pages_of_this_instance(path: str, role: str, item: str) -> None:
    post = _post(
        community_handle="energy", community_path=path, roadmap_item_id=9, roles=[(7, "Event host")]
    )
    assert post.role_path(7) == role and post.roadmap_item_path() == item


def test_without_a_path_the_local_community_is_meant() -> None:
    post = _post(community_handle="energy", roadmap_item_id=3)
    assert (
        post.role_path(1) == "/c/energy/roles/1"
        and post.roadmap_item_path() == "/c/energy/roadmap/3"
    )
