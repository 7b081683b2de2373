"""Every form of the pages shows all its errors at once — beside each field (``aria-invalid``,
``aria-describedby``) and in the summary at the top — in plain words of the reader's language,
keeps what was typed, and writes nothing."""

from __future__ import annotations

import re

import sqlalchemy as sa
from bs4 import BeautifulSoup

from server.storage import schema as t
from tests.conftest import post_form
from tests.server.web.test_forms import _garden

DUTCH = {"Accept-Language": "nl"}


def every_error_shown(html: str, names: list[str]) -> BeautifulSoup:
    """The page shows an error for each of ``names``, beside its field and in the summary, in
    sentences (no code names of fields such as ``password_confirm:``)."""
    soup = BeautifulSoup(html, "html.parser")
    summary = soup.find(class_="error-summary")
    assert summary is not None, "no error summary"
    links = [a["href"] for a in summary.find_all("a")]
    assert sorted(links) == sorted(f"#f-{name}" for name in names), links
    for name in names:
        field = soup.find(id=f"f-{name}")
        assert field is not None, name
        if field.name in ("input", "select", "textarea"):
            assert field.get("aria-invalid") == "true", name
            assert field.get("aria-describedby") == f"h-{name}", name
            assert soup.find(id=f"h-{name}").get_text().strip(), name
        else:  # an error paragraph standing for a hidden field
            assert field.get_text().strip()
    text = soup.get_text()
    for name in names:  # "fields: …" from a service, not a label such as "Profile fields:"
        assert not re.search(rf"(?<![\w ]){name}:", text), f"the code name {name}: is shown"
    return soup


async def _count(instance, table) -> int:  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar())


async def test_sign_up_shows_every_error_and_keeps_the_values(instance) -> None:  # type: ignore[no-untyped-def]
    visitor = await instance.new_client()
    before = await _count(instance, t.users)
    resp = await post_form(
        visitor,
        "/signup",
        {
            "username": "Not Valid!",
            "display_name": "Dana D.",
            "email": "dana-at-example",
            "password": "short",
            "password_confirm": "other",
        },
        page="/signup",
    )
    assert resp.status == 422
    soup = every_error_shown(
        await resp.text(), ["username", "email", "password", "password_confirm"]
    )
    assert "4 things to put right" in soup.find(class_="error-summary").get_text()
    assert soup.find(id="f-username")["value"] == "Not Valid!"
    assert soup.find(id="f-display_name")["value"] == "Dana D."
    assert soup.find(id="f-email")["value"] == "dana-at-example"
    assert soup.find(id="f-password")["value"] == ""  # a password is never sent back
    assert await _count(instance, t.users) == before


async def test_sign_up_errors_in_dutch_and_a_taken_name_with_its_address(instance) -> None:  # type: ignore[no-untyped-def]
    await instance.create_member("ana")
    visitor = await instance.new_client()
    visitor.session.headers.update(DUTCH)
    resp = await post_form(
        visitor,
        "/signup",
        {"username": "admin", "email": "x", "password": "longenough", "password_confirm": "no"},
        page="/signup",
    )
    soup = every_error_shown(await resp.text(), ["username", "email", "password_confirm"])
    text = soup.find(class_="error-summary").get_text()
    assert "3 punten om te verbeteren" in text
    assert "admin is gereserveerd" in text and "geen geldig adres" in text
    assert "niet gelijk" in text
    taken = await post_form(
        visitor,
        "/signup",
        {
            "username": "ana",
            "email": "ana@example.test",
            "password": "longenough",
            "password_confirm": "longenough",
        },
        page="/signup",
    )
    assert taken.status == 409
    soup = every_error_shown(await taken.text(), ["username", "email"])
    assert "ana is al in gebruik" in soup.get_text()


async def test_the_idea_form_shows_every_error(instance) -> None:  # type: ignore[no-untyped-def]
    client = await _garden(instance)
    resp = await post_form(
        client,
        "/c/garden/ideas",
        {"title": "", "text": "x" * 20001, "audience": "everyone-ever"},
        page="/c/garden/ideas",
    )
    assert resp.status == 422
    soup = every_error_shown(await resp.text(), ["title", "text", "audience"])
    assert soup.find(id="f-text").get_text() == "x" * 20001
    assert await _count(instance, t.ideas) == 0


async def test_the_roadmap_item_target_date_is_changed_and_cleared(instance) -> None:  # type: ignore[no-untyped-def]
    client = await _garden(instance)
    made = await post_form(
        client,
        "/c/garden/roadmap/new",
        {"title": "Pond", "status": "planned", "audience": "public", "target_date": ""},
        page="/c/garden/roadmap/new",
    )
    item = made.headers["Location"]
    page = BeautifulSoup(await (await client.get(item)).text(), "html.parser")
    assert page.find(id="f-target_date")["type"] == "date"
    bad = await post_form(
        client,
        item + "/status",
        {"status": "someday", "target_date": "soon", "note": ""},
        page=item,
    )
    assert bad.status == 422
    soup = every_error_shown(await bad.text(), ["status", "target_date"])
    assert soup.find(id="f-target_date")["value"] == "soon"
    ok = await post_form(
        client, item + "/status", {"status": "planned", "target_date": "2027-06-01"}, page=item
    )
    assert ok.status == 302
    async with instance.db.read() as conn:
        row = (await conn.execute(sa.select(t.roadmap_items))).one()
        changes = (await conn.execute(sa.select(t.roadmap_status_changes))).all()
    assert str(row.target_date) == "2027-06-01" and row.status == "planned"
    assert len(changes) == 1  # a new date is no status change
    timeline = await (await client.get("/c/garden/roadmap?view=timeline")).text()
    assert "June 2027" in timeline and "Pond" in timeline
    dutch = await instance.new_client()
    dutch.session.headers.update(DUTCH)
    board = await (await dutch.get("/c/garden/roadmap")).text()
    assert "1 juni 2027" in board  # a Dutch month name
    timeline = await (await dutch.get("/c/garden/roadmap?view=timeline")).text()
    assert "juni 2027" in timeline
    cleared = await post_form(
        client, item + "/status", {"status": "in_progress", "target_date": ""}, page=item
    )
    assert cleared.status == 302
    async with instance.db.read() as conn:
        row = (await conn.execute(sa.select(t.roadmap_items))).one()
    assert row.target_date is None and row.status == "in_progress"
    again = await post_form(
        client, item + "/status", {"status": "in_progress", "target_date": ""}, page=item
    )
    assert again.status == 422 and "already" in await again.text()


async def test_the_profile_form_shows_every_error_and_writes_nothing(instance) -> None:  # type: ignore[no-untyped-def]
    from tests.server.web.helpers import upload_form

    await instance.create_member("ana", display_name="Ana")
    client = await instance.login("ana")
    fields = {
        "display_name": "N" * 101,
        "bio": "kept bio",
        "bio_format": "wiki",
        "competencies": "",
        "default_audience": "community",
        "field_name_0": "",
        "field_value_0": "a value without a name",
    }
    resp = await upload_form(client, "/settings/profile", fields)
    assert resp.status == 422
    soup = every_error_shown(
        await resp.text(), ["display_name", "bio_format", "fields", "default_audience"]
    )
    assert soup.find(id="f-bio").get_text() == "kept bio"
    assert soup.find(id="f-field_value_0")["value"] == "a value without a name"
    async with instance.db.read() as conn:
        name = (
            await conn.execute(
                sa.select(t.actors.c.display_name).where(t.actors.c.username == "ana")
            )
        ).scalar()
    assert name == "Ana"


async def test_the_invite_form_shows_both_errors_and_keeps_them(instance) -> None:  # type: ignore[no-untyped-def]
    await instance.create_member("ana")
    client = await instance.login("ana")
    client.session.headers.update(DUTCH)
    resp = await post_form(
        client, "/settings/invites", {"max_uses": "0", "days": "9999"}, page="/settings/invites"
    )
    assert resp.status == 422
    soup = every_error_shown(await resp.text(), ["max_uses", "days"])
    assert "van 1 tot 1.000" in soup.get_text()  # in Dutch, the number as Dutch writes it
    assert soup.find(id="f-max_uses")["value"] == "0" and soup.find(id="f-days")["value"] == "9999"
    assert await _count(instance, t.invites) == 0


async def test_the_admin_invite_form_shows_both_errors_and_keeps_them(instance) -> None:  # type: ignore[no-untyped-def]
    await instance.create_member("boss", admin=True)
    client = await instance.login("boss")
    client.session.headers.update(DUTCH)
    resp = await post_form(
        client, "/admin/invites", {"max_uses": "0", "days": "9999"}, page="/admin"
    )
    assert resp.status == 422
    soup = every_error_shown(await resp.text(), ["max_uses", "days"])
    assert "van 1 tot 1.000" in soup.get_text() and "365" in soup.get_text()
    assert soup.find(id="f-max_uses")["value"] == "0" and soup.find(id="f-days")["value"] == "9999"
    assert await _count(instance, t.invites) == 0


async def test_the_security_page_names_the_field_of_its_error(instance) -> None:  # type: ignore[no-untyped-def]
    from tests.server.web.test_two_factor_pages import _turn_on

    await instance.create_member("ana")
    client = await instance.login("ana")
    await _turn_on(client)
    resp = await post_form(
        client, "/settings/2fa/disable", {"code_disable": "000000"}, page="/settings/security"
    )
    assert resp.status in (403, 422)
    soup = every_error_shown(await resp.text(), ["code_disable"])
    assert soup.find(id="f-code_recovery").get("aria-invalid") is None  # the other form is calm


async def test_the_password_reset_form_tells_a_short_and_a_mistyped_password_at_once(
    instance,
) -> None:  # type: ignore[no-untyped-def]
    visitor = await instance.new_client()
    resp = await post_form(
        visitor,
        "/password/reset/not-a-real-token",
        {"password": "short", "password_confirm": "other"},
        page="/password/reset",
    )
    assert resp.status == 422
    every_error_shown(await resp.text(), ["password", "password_confirm"])


async def test_the_address_change_tells_a_bad_address_and_a_wrong_password_at_once(
    instance,
) -> None:  # type: ignore[no-untyped-def]
    await instance.create_member("ana")
    client = await instance.login("ana")
    resp = await post_form(
        client,
        "/settings/email/change",
        {"email": "not an address", "password": "wrong"},
        page="/settings/email",
    )
    assert resp.status == 403
    soup = every_error_shown(await resp.text(), ["email", "password"])
    assert soup.find(id="f-email")["value"] == "not an address"


async def test_the_target_date_goes_with_the_item_to_other_servers(instance) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from server.activitypub.communities.objects import roadmap_object
    from server.events import Event
    from server.services import roadmap
    from tests.server.web.test_remote_roadmap_pages import item_doc, remote_garden, store

    client = await _garden(instance)
    made = await post_form(
        client,
        "/c/garden/roadmap/new",
        {"title": "Pond", "status": "planned", "audience": "public", "target_date": "2027-06-01"},
        page="/c/garden/roadmap/new",
    )
    item_id = int(made.headers["Location"].rsplit("/", 1)[1])
    seen: list[Event] = []

    async def listener(conn, event: Event) -> None:  # type: ignore[no-untyped-def]
        seen.append(event)

    instance.ctx.events.on("roadmap.updated", listener)  # as the outbound Update listens
    ana = await _actor_id(instance, "ana")
    await roadmap.edit_item(instance.ctx, ana, item_id, status="planned", target_date="2027-07-15")
    assert [e.data["item_id"] for e in seen] == [item_id]  # an Update of the item goes out
    async with instance.db.read() as conn:
        doc = await roadmap_object(conn, instance.ctx.base, item_id)
    assert doc is not None and doc["koers:targetDate"] == "2027-07-15"

    group_id, _community = await remote_garden(instance)
    remote = await store(
        instance, group_id, {**item_doc(1, "Seeds", "planned"), "koers:targetDate": "2027-03-01"}
    )
    async with instance.db.read() as conn:
        kept = (
            await conn.execute(
                sa.select(t.roadmap_items.c.target_date).where(t.roadmap_items.c.id == remote)
            )
        ).scalar()
    assert kept == date(2027, 3, 1)
    await store(instance, group_id, {**item_doc(1, "Seeds", "planned"), "koers:targetDate": None})
    async with instance.db.read() as conn:
        kept = (
            await conn.execute(
                sa.select(t.roadmap_items.c.target_date).where(t.roadmap_items.c.id == remote)
            )
        ).scalar()
    assert kept is None  # cleared there, cleared here


async def _actor_id(instance, username: str) -> int:  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        return int(
            (
                await conn.execute(
                    sa.select(t.actors.c.id).where(
                        t.actors.c.username == username, t.actors.c.domain.is_(None)
                    )
                )
            ).scalar()
        )


async def test_the_block_form_tells_a_bad_domain_and_severity_at_once(instance) -> None:  # type: ignore[no-untyped-def]
    await instance.create_member("boss", admin=True)
    admin = await instance.login("boss")
    page = "/admin/federation"
    resp = await post_form(
        admin,
        page + "/blocks",
        {"block_domain": "not a domain", "block_severity": "banish", "block_reason": "spam"},
        page=page,
    )
    assert resp.status == 422
    soup = every_error_shown(await resp.text(), ["block_domain", "block_severity"])
    assert soup.find(id="f-block_reason")["value"] == "spam"
    assert await _count(instance, t.domain_blocks) == 0
    done = await post_form(
        admin,
        page + "/blocks",
        {"block_domain": "spam.example", "block_severity": "suspend"},
        page=page,
    )
    assert done.status == 302
    admin.session.headers.update(DUTCH)
    shown = await (await admin.get(page)).text()
    assert "spam.example is geblokkeerd." in shown
