"""Converters both ways, and the audience ↔ addressing mapping for Koers peers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.activitypub.core import convert
from server.activitypub.core.ingest import (
    _common_values,
    _poll_values,
    parse_time,
    partners_collection_of,
)
from server.visibility import PUBLIC_COLLECTION, Audience, addressing, audience_from_addressing

BASE = "https://a.example"
AUTHOR = f"{BASE}/users/alice"
FOLLOWERS = f"{AUTHOR}/followers"
GROUP = f"{BASE}/communities/garden"
PARTNERS = f"{BASE}/partners"
BOB = "https://b.example/users/bob"


def _parts(audience: Audience, **kw: object) -> convert.PostParts:
    address = addressing(
        audience,
        followers_url=FOLLOWERS,
        mentioned=[BOB],
        community_uri=GROUP,
        partners_url=PARTNERS,
    )
    assert address is not None
    values: dict[str, object] = dict(
        uri=f"{AUTHOR}/posts/1",
        url=f"{BASE}/@alice/1",
        kind="note",
        author_uri=AUTHOR,
        audience=audience.value,
        addressing=address,
        content_html="<p>hi</p>",
        published=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    values.update(kw)
    return convert.PostParts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("audience", [a for a in Audience if a is not Audience.MEMBERS])
def test_every_audience_survives_the_round_trip(audience: Audience) -> None:
    doc = convert.to_object(_parts(audience), BASE)
    back, community = audience_from_addressing(
        doc,
        followers_url=FOLLOWERS,
        community_uris=[GROUP],
        partner_collections=[partners_collection_of(AUTHOR)],
    )
    assert back is audience
    if audience is Audience.COMMUNITY:
        assert community == GROUP


def test_members_is_never_addressed() -> None:
    assert addressing(Audience.MEMBERS, followers_url=FOLLOWERS) is None


def test_unknown_addressing_is_direct() -> None:
    doc = {"to": ["https://c.example/some/collection"], "cc": []}
    assert audience_from_addressing(doc, followers_url=FOLLOWERS)[0] is Audience.DIRECT


def test_public_note_has_mentions_hashtags_media_and_edit_time() -> None:
    parts = _parts(
        Audience.PUBLIC,
        mentions=((BOB, "@bob@b.example"),),
        hashtags=(("koers", f"{BASE}/tags/koers"),),
        media=(
            convert.MediaPart(
                url=f"{BASE}/media/x.png",
                media_type="image/png",
                description="a cat",
                blurhash="LEHV6n",
                focus=(0.5, -0.25),
            ),
        ),
        summary="cw",
        sensitive=True,
        updated=datetime(2026, 1, 3, tzinfo=UTC),
        in_reply_to="https://b.example/n/1",
    )
    doc = convert.to_object(parts, BASE)
    assert (
        doc["type"] == "Note"
        and doc["to"] == [PUBLIC_COLLECTION]
        and FOLLOWERS in doc["cc"]
        and BOB in doc["cc"]
    )
    assert {"type": "Mention", "href": BOB, "name": "@bob@b.example"} in doc["tag"]
    assert {"type": "Hashtag", "href": f"{BASE}/tags/koers", "name": "#koers"} in doc["tag"]
    att = doc["attachment"][0]
    assert att["type"] == "Document" and att["name"] == "a cat" and att["blurhash"] == "LEHV6n"
    assert att["focalPoint"] == [0.5, -0.25]
    assert doc["summary"] == "cw" and doc["sensitive"] is True
    assert (
        doc["updated"] == "2026-01-03T00:00:00.000Z" and doc["inReplyTo"] == "https://b.example/n/1"
    )


def test_titled_result_is_an_article_with_koers_terms() -> None:
    parts = _parts(
        Audience.COMMUNITY,
        kind="result",
        title="We planted 40 trees",
        community_uri=GROUP,
        roadmap_item_uri=f"{BASE}/c/garden/roadmap/3",
        role_uris=(f"{BASE}/c/garden/roles/2",),
        contributor_uris=(AUTHOR,),
    )
    doc = convert.to_object(parts, BASE)
    assert doc["type"] == "Article" and doc["name"] == "We planted 40 trees"
    assert doc["koers:result"] is True and doc["koers:community"] == GROUP
    assert doc["koers:roadmapItem"].endswith("/roadmap/3") and doc["koers:roles"] == [
        f"{BASE}/c/garden/roles/2"
    ]
    assert doc["to"] == [GROUP] and doc["audience"] == GROUP
    assert _common_values(doc)["kind"] == "result"


def test_poll_becomes_a_question_and_reads_back() -> None:
    poll = convert.PollPart(
        options=("yes", "no"),
        counts=(3, 1),
        multiple=True,
        end_time=datetime(2026, 2, 1, tzinfo=UTC),
        voters=4,
    )
    doc = convert.to_object(_parts(Audience.PUBLIC, poll=poll), BASE)
    assert doc["type"] == "Question" and [o["name"] for o in doc["anyOf"]] == ["yes", "no"]
    assert (
        doc["anyOf"][0]["replies"]["totalItems"] == 3
        and doc["endTime"] == "2026-02-01T00:00:00.000Z"
    )
    values = _poll_values(doc)
    assert values is not None
    assert (
        values["options"] == ["yes", "no"]
        and values["multiple"]
        and values["remote_counts"] == [3, 1]
    )
    assert values["expires_at"] == datetime(2026, 2, 1, tzinfo=UTC)


def test_remote_html_is_sanitised_and_summary_is_plain() -> None:
    doc = {
        "type": "Note",
        "content": '<p onclick="x()">hi<script>alert(1)</script></p>',
        "summary": "<b>spoiler</b>",
    }
    values = _common_values(doc)
    assert "script" not in values["content_html"] and "onclick" not in values["content_html"]
    assert values["spoiler_text"] == "spoiler" and values["sensitive"] is True


def test_delete_and_undo_keep_the_recipients() -> None:
    address = addressing(Audience.FOLLOWERS, followers_url=FOLLOWERS)
    assert address is not None
    doc = convert.delete_post(
        BASE, activity_id="x#delete", actor=AUTHOR, uri="x", addressing=address
    )
    assert doc["object"]["type"] == "Tombstone" and doc["to"] == [FOLLOWERS]
    like = convert.activity(BASE, "Like", id="l", actor=AUTHOR, object="o", to=[BOB])
    undo = convert.undo(BASE, activity_id="l#undo", actor=AUTHOR, inner=like)
    assert (
        undo["object"]["type"] == "Like"
        and "@context" not in undo["object"]
        and undo["to"] == [BOB]
    )


def test_parse_time_accepts_z_and_rejects_garbage() -> None:
    assert parse_time("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_time("yesterday") is None and parse_time(None) is None


_actors = st.lists(
    st.sampled_from([BOB, "https://c.example/users/carol", "https://d.example/u/dan"]), max_size=3
)


@given(
    audience=st.sampled_from([a for a in Audience if a is not Audience.MEMBERS]),
    mentioned=_actors,
    in_community=st.booleans(),
)
def test_round_trip_holds_for_any_mentions(
    audience: Audience, mentioned: list[str], in_community: bool
) -> None:
    if audience is Audience.DIRECT and not mentioned:
        mentioned = [BOB]
    community = GROUP if in_community or audience is Audience.COMMUNITY else None
    address = addressing(
        audience,
        followers_url=FOLLOWERS,
        mentioned=mentioned,
        community_uri=community,
        partners_url=PARTNERS,
    )
    assert address is not None
    doc = convert.to_object(_parts(audience, addressing=address), BASE)
    back, _ = audience_from_addressing(
        doc,
        followers_url=FOLLOWERS,
        community_uris=[GROUP],
        partner_collections=[partners_collection_of(AUTHOR)],
    )
    assert back is audience
