"""Property tests for the visibility policy: replies never widen, addressing round-trips."""

from __future__ import annotations

from dataclasses import asdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.visibility import (
    PUBLIC_COLLECTION,
    Audience,
    addressing,
    audience_from_addressing,
    reply_audience,
)
from tests.server.test_visibility_matrix import CAN_SEE

audiences = st.sampled_from(list(Audience))
hosts = st.from_regex(r"[a-z]{1,10}\.(org|net|test)", fullmatch=True)
names = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)


@st.composite
def actor_urls(draw: st.DrawFn, kind: str = "users") -> str:
    return f"https://{draw(hosts)}/{kind}/{draw(names)}"


@given(parent=audiences, requested=audiences)
def test_a_reply_never_reaches_anyone_the_parent_did_not(
    parent: Audience, requested: Audience
) -> None:
    reply = reply_audience(parent, requested)
    # Besides the people it mentions (who are told about it directly), nobody new can read it.
    assert CAN_SEE[reply] - {"mentioned"} <= CAN_SEE[parent], (parent, requested, reply)
    if not parent.open_to_all:
        assert reply in (parent, Audience.DIRECT)
    if not parent.listed:
        assert not reply.listed
    if parent is Audience.MEMBERS and reply is not Audience.DIRECT:
        assert not reply.federates


@given(parent=audiences, requested=audiences)
def test_reply_audience_is_stable(parent: Audience, requested: Audience) -> None:
    once = reply_audience(parent, requested)
    assert reply_audience(parent, once) == once


@given(parent=audiences)
def test_a_reply_may_always_narrow_to_direct(parent: Audience) -> None:
    assert reply_audience(parent, Audience.DIRECT) is Audience.DIRECT


@given(
    audience=st.sampled_from([a for a in Audience if a.federates]),
    author=actor_urls(),
    mentioned=st.lists(actor_urls(), max_size=4, unique=True),
    community=actor_urls("communities"),
    partners_host=hosts,
    with_community=st.booleans(),
)
# Generation speed depends on how busy the machine is, not on the code: no health check for it.
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_addressing_round_trips(
    audience: Audience,
    author: str,
    mentioned: list[str],
    community: str,
    partners_host: str,
    with_community: bool,
) -> None:
    """What we send is read back as the same audience (by a Koers server that knows the names)."""
    followers = author + "/followers"
    partners = f"https://{partners_host}/partners"
    mentioned = [m for m in mentioned if m not in (followers, community, partners, author)]
    if audience is Audience.DIRECT and not mentioned:
        mentioned = [author.replace("/users/", "/users/x")]
    named = community if (with_community or audience is Audience.COMMUNITY) else None
    sent = addressing(
        audience,
        followers_url=followers,
        mentioned=mentioned,
        community_uri=named,
        partners_url=partners,
    )
    assert sent is not None
    document = {k: v for k, v in asdict(sent).items() if v is not None}
    got, got_community = audience_from_addressing(
        document,
        followers_url=followers,
        community_uris=[community],
        partner_collections=[partners],
    )
    assert got is audience, (document, got)
    if audience is not Audience.DIRECT:
        # The community link survives, and never turns a followers/partners post into a community one.
        assert got_community == named
    # Only public and unlisted objects carry the Public collection.
    assert (PUBLIC_COLLECTION in sent.to + sent.cc) == audience.open_to_all


def test_members_is_never_addressed() -> None:
    assert addressing(Audience.MEMBERS, followers_url="https://a.test/users/x/followers") is None


@given(to=st.lists(st.text(max_size=20), max_size=3), cc=st.lists(st.text(max_size=20), max_size=3))
def test_unknown_addressing_is_the_narrowest_audience(to: list[str], cc: list[str]) -> None:
    """Addressing we cannot place (no Public, no known followers/community/partners) is ``direct``."""
    to = [x for x in to if x not in ("Public", "as:Public", PUBLIC_COLLECTION)]
    cc = [x for x in cc if x not in ("Public", "as:Public", PUBLIC_COLLECTION)]
    got, community = audience_from_addressing({"to": to, "cc": cc}, followers_url=None)
    assert (got, community) == (Audience.DIRECT, None)
