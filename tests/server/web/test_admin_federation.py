"""``/admin/federation``: administrators see and change partners and domain blocks; others cannot."""

from __future__ import annotations

import sqlalchemy as sa

from server.storage import schema as t
from tests.conftest import post_form

PAGE = "/admin/federation"


async def test_admin_manages_partners_and_blocks(instance) -> None:
    await instance.create_member("boss", admin=True)
    async with instance.db.write() as conn:
        await conn.execute(
            t.hosts.insert().values(
                domain="down.example",
                consecutive_failures=7,
                failure_days=3,
                unavailable=True,
                last_error="http_503",
            )
        )
    client = await instance.login("boss")
    html = await (await client.get("/admin")).text()
    assert 'href="/admin/federation"' in html
    page = await client.get(PAGE)
    html = await page.text()
    assert (
        page.status == 200
        and "No partner organisations yet." in html
        and "No domain is blocked." in html
    )
    assert "down.example: unavailable, 7 failures on 3 days (http_503)" in html

    resp = await post_form(
        client,
        PAGE + "/partners",
        {"partner_domain": "https://Koers.Partner.example/", "partner_name": "Partner org"},
        page=PAGE,
    )
    assert resp.status == 302
    resp = await post_form(
        client,
        PAGE + "/blocks",
        {"block_domain": "spam.example", "block_severity": "silence", "block_reason": "spam waves"},
        page=PAGE,
    )
    assert resp.status == 302
    html = await (await client.get(PAGE)).text()
    assert (
        "koers.partner.example" in html
        and "Partner org" in html
        and "spam.example" in html
        and "spam waves" in html
    )
    async with instance.db.read() as conn:
        assert (await conn.execute(sa.select(t.partners.c.domain, t.partners.c.state))).all() == [
            ("koers.partner.example", "active")
        ]
        assert (await conn.execute(sa.select(t.domain_blocks.c.severity))).scalars().all() == [
            "silence"
        ]

    # Bad input comes back with the error under the right field, nothing written.
    resp = await post_form(
        client,
        PAGE + "/blocks",
        {"block_domain": "not a domain", "block_severity": "suspend"},
        page=PAGE,
    )
    html = await resp.text()
    assert resp.status == 422 and 'id="h-block_domain"' in html and 'value="not a domain"' in html
    resp = await post_form(
        client, PAGE + "/blocks", {"block_domain": "x.example", "block_severity": "nuke"}, page=PAGE
    )
    assert resp.status == 422
    async with instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.domain_blocks))
        ).scalar_one() == 1

    # Removing both.
    assert (
        await post_form(
            client,
            PAGE + "/partners/remove",
            {"partner_domain": "koers.partner.example"},
            page=PAGE,
        )
    ).status == 302
    assert (
        await post_form(
            client, PAGE + "/blocks/remove", {"block_domain": "spam.example"}, page=PAGE
        )
    ).status == 302
    html = await (await client.get(PAGE)).text()
    assert "No partner organisations yet." in html and "No domain is blocked." in html
    assert (
        await post_form(
            client, PAGE + "/blocks/remove", {"block_domain": "spam.example"}, page=PAGE
        )
    ).status == 404


async def test_only_admins_see_the_federation_page(instance) -> None:
    await instance.create_member("alice")
    client = await instance.login("alice")
    assert (await client.get(PAGE)).status == 403
    assert (
        await post_form(
            client, PAGE + "/partners", {"partner_domain": "evil.example"}, page="/home"
        )
    ).status == 403
    anon = await instance.client.get(PAGE, allow_redirects=False)
    assert anon.status == 302 and anon.headers["Location"].startswith("/login")
    async with instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(t.partners))
        ).scalar_one() == 0
