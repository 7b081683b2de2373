"""``koers federation …`` commands, and the policy they set as the inbox and delivery see it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from federation.delivery import run_delivery_once
from federation.policy import block_severity, domain_matches, refused_hosts
from server import clock
from server.cli import main
from server.storage import schema as t
from tests.federation.conftest import deliveries, post_activity, queue, signer_for


def koers(tmp_path: Path, *args: str) -> int:
    return main(
        [*args, "--data-dir", str(tmp_path), "--database-url", f"sqlite:///{tmp_path}/k.sqlite3"]
    )


def test_federation_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert koers(tmp_path, "federation", "block", "Spam.Example", "--severity", "silence") == 0
    assert koers(tmp_path, "federation", "block", "https://evil.example/") == 0
    assert koers(tmp_path, "federation", "allow", "friends.example") == 0
    assert (
        koers(tmp_path, "federation", "partner", "add", "partner.example", "--name", "Partner Org")
        == 0
    )
    assert koers(tmp_path, "federation", "partner", "list") == 0
    out = capsys.readouterr().out
    assert "blocked spam.example (silence)" in out and "blocked evil.example (suspend)" in out
    assert "partner.example" in out and "Partner Org" in out
    assert koers(tmp_path, "federation", "status") == 0
    out = capsys.readouterr().out
    assert "deliveries: none" in out and "failing hosts: none" in out
    assert koers(tmp_path, "federation", "unblock", "spam.example") == 0
    assert koers(tmp_path, "federation", "unblock", "spam.example") == 2  # not blocked any more
    assert "spam.example is not blocked" in capsys.readouterr().err
    assert koers(tmp_path, "federation", "disallow", "friends.example") == 0
    assert koers(tmp_path, "federation", "partner", "remove", "partner.example") == 0

    async def check() -> None:
        from server.storage.db import Database

        db = Database(f"sqlite+aiosqlite:///{tmp_path}/k.sqlite3")
        async with db.read() as conn:
            assert await block_severity(conn, "sub.evil.example") == "suspend"
            assert await block_severity(conn, "spam.example") is None
            assert (
                await conn.execute(sa.select(sa.func.count()).select_from(t.partners))
            ).scalar() == 0
        await db.close()

    asyncio.run(check())


def test_domain_matching() -> None:
    assert domain_matches("evil.example", ["evil.example"])
    assert domain_matches("a.evil.example:8443", ["evil.example"])
    assert not domain_matches("notevil.example", ["evil.example"])
    assert domain_matches("127.0.0.1:9000", ["127.0.0.1:9000"])
    assert not domain_matches("127.0.0.1:9001", ["127.0.0.1:9000"])


@pytest.mark.slow
async def test_allowlist_mode_refuses_others(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False, federation_mode="allowlist")
    await a.create_member("alice")
    await b.create_member("bob")
    alice = await signer_for(a, "alice")
    # B federates only with allowed domains and partners: A is neither.
    status, _ = await post_activity(
        f"{b.url}/inbox", alice.activity("Follow", object=f"{b.url}/users/bob"), alice
    )
    assert status == 403
    async with b.db.read() as conn:
        assert await refused_hosts(conn, b.settings, [a.settings.domain]) == {a.settings.domain}
    await queue(b, "bob", [f"{a.url}/inbox"])
    await run_delivery_once(b.app)
    assert [(r.state, r.last_error) for r in await deliveries(b)] == [
        ("skipped", "domain blocked or not allowed")
    ]
    # A becomes a partner: both directions work.
    async with b.db.write() as conn:
        await conn.execute(
            sa.insert(t.partners).values(domain=a.settings.domain, created_at=clock.now())
        )
    status, _ = await post_activity(
        f"{b.url}/inbox", alice.activity("Follow", object=f"{b.url}/users/bob"), alice
    )
    assert status == 202
    await queue(b, "bob", [f"{a.url}/users/alice/inbox"])
    await run_delivery_once(b.app)
    assert (await deliveries(b))[-1].state == "sent"
