"""The purpose page of a community hosted on another instance (/c/{handle}@{host}/purpose), on both backends.

The remote Group and what federation brought (version 1, the drafting phase, a decision post) are
written directly; the two-instance flow is in tests/federation/test_remote_purpose_e2e.py.
"""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from server import clock
from server.services import posts
from server.storage import schema as t
from tests.conftest import post_form

HOST = "a.example:8080"
PAGE = f"/c/garden@{HOST}/purpose"


async def _remote_garden(instance, *, phase: str = "drafting") -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A Group ``garden`` on a.example:8080, known here with purpose version 1 and ``phase``: (group, community)."""
    now = clock.now()
    async with instance.db.write() as conn:
        res = await conn.execute(
            t.actors.insert().values(
                uri=f"http://{HOST}/communities/garden",
                url=f"http://{HOST}/c/garden",
                kind="group",
                username="garden",
                domain=HOST,
                display_name="Garden",
                inbox=f"http://{HOST}/communities/garden/inbox",
                created_at=now,
                updated_at=now,
            )
        )
        group_id = int(res.inserted_primary_key[0])
        res = await conn.execute(
            t.communities.insert().values(
                actor_id=group_id, name="Garden", local=False, created_at=now
            )
        )
        community_id = int(res.inserted_primary_key[0])
        await conn.execute(
            t.purpose_versions.insert().values(
                community_id=community_id,
                version=1,
                text_source="Grow food together",
                text_html="<p>Grow food together</p>",
                uri=f"http://{HOST}/c/garden/purpose/1",
                created_at=now - timedelta(days=30),
            )
        )
        await conn.execute(
            t.purpose_phases.insert().values(
                community_id=community_id,
                phase=phase,
                started_at=now - timedelta(days=2),
                planned_end=now + timedelta(days=12),
                note="Write with us",
            )
        )
    return group_id, community_id


async def _member(instance, name: str, group_id: int) -> int:  # type: ignore[no-untyped-def]
    account = await instance.create_member(name)
    async with instance.db.write() as conn:
        await conn.execute(
            t.follows.insert().values(
                follower_id=account.actor_id,
                target_id=group_id,
                state="accepted",
                uri=f"{instance.url}/follows/{name}",
                created_at=clock.now(),
            )
        )
    return account.actor_id


async def _count(instance, table: sa.Table) -> int:  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def _activities(instance) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    async with instance.db.read() as conn:
        rows = (
            (
                await conn.execute(
                    sa.select(t.activities.c.document)
                    .where(t.activities.c.direction == "out")
                    .order_by(t.activities.c.id)
                )
            )
            .scalars()
            .all()
        )
    return [r if isinstance(r, dict) else json.loads(r) for r in rows]


async def test_visitor_sees_phase_and_version_but_no_forms(instance) -> None:  # type: ignore[no-untyped-def]
    await _remote_garden(instance)
    res = await (await instance.new_client()).get(PAGE)
    html = await res.text()
    assert res.status == 200
    assert (
        "Where the purpose stands: Drafting" in html
        and "Write with us" in html
        and "planned until" in html
    )
    assert "In force: version 1" in html and "Grow food together" in html
    assert "I endorse" not in html and "Propose a new text" not in html
    overview = await (await (await instance.new_client()).get(f"/c/garden@{HOST}")).text()
    assert (
        "Phase: <strong>Drafting</strong>" in overview
        and f'href="/c/garden@{HOST}/purpose"' in overview
    )


async def test_member_endorses_and_withdraws_which_federates(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, _ = await _remote_garden(instance)
    bob = await _member(instance, "bob", group_id)
    client = await instance.login("bob")
    res = await post_form(client, PAGE + "/endorse", {}, page=PAGE)
    assert res.status == 302
    async with instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(t.purpose_endorsements.c.actor_id))
        ).scalars().all() == [bob]
    html = await (await client.get(PAGE)).text()
    assert "You endorse version 1" in html and "Withdraw my endorsement" in html
    res = await post_form(client, PAGE + "/withdraw", {}, page=PAGE)
    assert res.status == 302 and await _count(instance, t.purpose_endorsements) == 0
    like, undo = [a for a in await _activities(instance) if a["type"] in ("Like", "Undo")]
    assert like["object"] == f"http://{HOST}/c/garden/purpose/1"
    assert undo["object"]["id"] == like["id"] and undo["object"]["type"] == "Like"
    assert "I endorse version 1 of the purpose" in await (await client.get(PAGE)).text()


async def test_proposal_from_here_is_a_community_post_with_its_diff(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id = await _remote_garden(instance)
    await _member(instance, "bob", group_id)
    client = await instance.login("bob")
    before = await _count(instance, t.posts)
    res = await post_form(client, PAGE + "/proposals", {"text": "  ", "why": "nothing"}, page=PAGE)
    assert res.status == 422 and "write what the community works towards" in await res.text()
    assert await _count(instance, t.posts) == before
    res = await post_form(
        client,
        PAGE + "/proposals",
        {"text": "Grow and share food together", "why": "share"},
        page=PAGE,
    )
    assert res.status == 302
    async with instance.db.read() as conn:
        post = (
            await conn.execute(sa.select(t.posts).where(t.posts.c.community_id == community_id))
        ).one()
    assert (
        post.audience == "community"
        and post.extra["proposal"]["text"] == "Grow and share food together"
    )
    (create,) = [a for a in await _activities(instance) if a["type"] == "Create"]
    assert create["object"]["koers:proposal"]["text"] == "Grow and share food together"
    html = await (await client.get(PAGE)).text()
    assert '<p class="diff">Grow<ins aria-label="added"> and share</ins> food together</p>' in html
    assert f'href="/posts/{post.id}"' in html  # its discussion thread


async def test_no_proposal_form_outside_drafting(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, _ = await _remote_garden(instance, phase="in_force")
    await _member(instance, "bob", group_id)
    html = await (await (await instance.login("bob")).get(PAGE)).text()
    assert "Propose a new text" not in html and "Proposals are made while drafting" in html


async def _decision(instance, community_id: int, author_id: int, method: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A decision post of the remote community (written here by a member for the test) and its row here."""
    poll = (
        posts.PollSpec(options=("Adopt", "Keep current"), expires_in=3600)
        if method == "poll"
        else None
    )
    post_id = await posts.create_post(
        instance.ctx,
        author_id,
        posts.Draft(
            source="Decision on the purpose",
            audience=posts.Audience("community"),
            community_id=community_id,
            poll=poll,
        ),
    )
    async with instance.db.write() as conn:
        res = await conn.execute(
            t.purpose_decisions.insert().values(
                community_id=community_id,
                method=method,
                post_id=post_id,
                opened_at=clock.now(),
                counts={},
            )
        )
    return int(res.inserted_primary_key[0]), post_id


async def test_consent_answer_is_a_reply_carrying_koers_consent(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id = await _remote_garden(instance, phase="decision")
    bob = await _member(instance, "bob", group_id)
    decision_id, round_post = await _decision(instance, community_id, bob, "consent")
    client = await instance.login("bob")
    html = await (await client.get(PAGE)).text()
    assert "A consent round since" in html and f"/decisions/{decision_id}/consent" in html
    before = await _count(instance, t.posts)
    res = await post_form(
        client,
        f"{PAGE}/decisions/{decision_id}/consent",
        {"position": "block", "reason": " "},
        page=PAGE,
    )
    assert (
        res.status == 422
        and "a block needs a reason" in await res.text()
        and await _count(instance, t.posts) == before
    )
    res = await post_form(
        client, f"{PAGE}/decisions/{decision_id}/consent", {"position": "maybe"}, page=PAGE
    )
    assert res.status == 422 and await _count(instance, t.posts) == before
    res = await post_form(
        client, f"{PAGE}/decisions/{decision_id + 99}/consent", {"position": "agree"}, page=PAGE
    )
    assert res.status == 404
    res = await post_form(
        client,
        f"{PAGE}/decisions/{decision_id}/consent",
        {"position": "disagree", "reason": "Too narrow"},
        page=PAGE,
    )
    assert res.status == 302
    async with instance.db.read() as conn:
        reply = (
            await conn.execute(sa.select(t.posts).where(t.posts.c.in_reply_to_id == round_post))
        ).one()
        answer = (await conn.execute(sa.select(t.purpose_consents))).one()
    assert reply.extra == {"consent": "disagree"} and reply.audience == "community"
    assert (answer.position, answer.reason) == ("disagree", "Too narrow")
    # the answer in the words of its button, as on the community's own instance
    shown = await (await client.get(PAGE)).text()
    assert "You answered: <strong>I have concerns, go ahead</strong> — “Too narrow”" in shown


async def test_poll_vote_from_the_page(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id = await _remote_garden(instance, phase="decision")
    bob = await _member(instance, "bob", group_id)
    decision_id, _ = await _decision(instance, community_id, bob, "poll")
    client = await instance.login("bob")
    assert "Which text do we adopt?" in await (await client.get(PAGE)).text()
    res = await post_form(
        client, f"{PAGE}/decisions/{decision_id}/vote", {"choice": "7"}, page=PAGE
    )
    assert res.status == 422 and await _count(instance, t.poll_votes) == 0
    res = await post_form(
        client, f"{PAGE}/decisions/{decision_id}/vote", {"choice": "0"}, page=PAGE
    )
    assert res.status == 302
    async with instance.db.read() as conn:
        assert (await conn.execute(sa.select(t.poll_votes.c.choice))).scalars().all() == [0]
    # the choice (by the poll's own words: no proposal of this decision reached us), and the
    # counts once voted, as on the community's own instance
    shown = await (await client.get(PAGE)).text()
    assert "You voted: <strong>Adopt</strong>." in shown and 'class="poll-results"' in shown


async def test_outsiders_and_bad_input_write_nothing(instance) -> None:  # type: ignore[no-untyped-def]
    group_id, community_id = await _remote_garden(instance)
    await instance.create_member("cy")
    client = await instance.login("cy")
    for path, data in (
        (PAGE + "/endorse", {}),
        (PAGE + "/proposals", {"text": "Ours"}),
        (f"/c/garden@{HOST}/refresh", {}),
    ):
        res = await post_form(client, path, data, page=PAGE)
        assert res.status == 403, path
    assert (
        await _count(instance, t.purpose_endorsements) == 0 and await _count(instance, t.posts) == 0
    )
    no_csrf = await client.post(PAGE + "/endorse", data={}, allow_redirects=False)
    assert no_csrf.status in (400, 403)
    assert (
        await post_form(client, f"/c/nobody@{HOST}/purpose/endorse", {}, page=PAGE)
    ).status == 404
    assert (await (await instance.new_client()).get(f"/c/nobody@{HOST}/purpose")).status == 404
