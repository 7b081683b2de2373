"""The moderation pages on a running instance: who may open them, suspend and unsuspend (login,
the actor document), roles, the reports queue, the audit log, and the `koers account` commands."""

from __future__ import annotations

import asyncio

from server.cli import main
from server.keys import CTX
from server.services import reports
from server.services.moderation import CLI
from tests.conftest import PASSWORD, post_form


async def _login_status(instance, name: str) -> int:  # type: ignore[no-untyped-def]
    client = await instance.new_client()
    resp = await post_form(client, "/login", {"login": name, "password": PASSWORD, "next": "/"})
    return resp.status


async def test_suspend_unsuspend_and_roles_from_the_web(instance) -> None:  # type: ignore[no-untyped-def]
    await instance.create_member("boss", admin=True)
    await instance.create_member("dana")
    await instance.create_member("eve")
    admin = await instance.login("boss")
    eve = await instance.login("eve")

    for path in ("/admin/accounts", "/admin/accounts/dana", "/admin/reports", "/admin/audit"):
        assert (await eve.get(path)).status == 403, path
    found = await (await admin.get("/admin/accounts?q=dan")).text()
    assert "/admin/accounts/dana" in found and "/admin/accounts/eve" not in found
    assert (await admin.get("/admin/accounts?state=bogus")).status == 422
    assert (await admin.get("/admin/accounts/nobody")).status == 404

    resp = await post_form(
        admin, "/admin/accounts/dana/suspend", {"note": "spam wave"}, page="/admin/accounts/dana"
    )
    assert resp.status == 302 and resp.headers["Location"] == "/admin/accounts/dana"
    page = await (await admin.get("/admin/accounts/dana")).text()
    assert "is suspended" in page and "spam wave" in page and "Unsuspend @dana" in page
    assert await _login_status(instance, "dana") == 403
    gone = await instance.client.get("/users/dana", headers={"Accept": "application/activity+json"})
    assert gone.status == 410
    again = await post_form(admin, "/admin/accounts/dana/suspend", {}, page="/admin/accounts/dana")
    assert again.status == 422 and "already suspended" in await again.text()

    await post_form(admin, "/admin/accounts/dana/unsuspend", {}, page="/admin/accounts/dana")
    assert await _login_status(instance, "dana") == 302
    ok = await instance.client.get("/users/dana", headers={"Accept": "application/activity+json"})
    assert ok.status == 200

    # A moderator handles accounts but not roles.
    await post_form(
        admin, "/admin/accounts/eve/role", {"role": "moderator"}, page="/admin/accounts/eve"
    )
    mod = await instance.login("eve")
    assert (await mod.get("/admin/accounts/dana")).status == 200
    assert "Change the role" not in await (await mod.get("/admin/accounts/dana")).text()
    refused = await post_form(
        mod, "/admin/accounts/dana/role", {"role": "admin"}, page="/admin/accounts/dana"
    )
    assert refused.status == 403
    silenced = await post_form(mod, "/admin/accounts/dana/silence", {}, page="/admin/accounts/dana")
    assert silenced.status == 302

    audit = await (await admin.get("/admin/audit")).text()
    for action in ("suspend", "unsuspend", "promote", "silence"):
        assert f"<td>{action}</td>" in audit, action


async def test_the_reports_queue(instance) -> None:  # type: ignore[no-untyped-def]
    boss = await instance.create_member("boss", admin=True)
    dana = await instance.create_member("dana")
    eve = await instance.create_member("eve")
    ctx = instance.app[CTX]
    report_id = await reports.create_report(
        ctx, eve.actor_id, reports.ReportRequest(dana.actor_id, comment="rude replies")
    )
    admin = await instance.login("boss")
    queue = await (await admin.get("/admin/reports")).text()
    assert f"Report #{report_id}" in queue and "rude replies" in queue
    bad = await post_form(
        admin, f"/admin/reports/{report_id}/resolve", {"action": "ban"}, page="/admin/reports"
    )
    assert bad.status == 422 and "one of none, silence, suspend" in await bad.text()
    done = await post_form(
        admin,
        f"/admin/reports/{report_id}/resolve",
        {"action": "silence", "note": "first warning"},
        page="/admin/reports",
    )
    assert done.status == 302
    assert "No open reports" in await (await admin.get("/admin/reports")).text()
    closed = await (await admin.get("/admin/reports?resolved=1")).text()
    assert "account silenced" in closed and "first warning" in closed
    assert boss.username == "boss"


async def test_account_commands_and_the_audit_log(instance, capsys) -> None:  # type: ignore[no-untyped-def]
    await instance.create_member("boss", admin=True)
    await instance.create_member("dana")
    common = ["--database-url", instance.settings.database_url]
    common += ["--data-dir", str(instance.settings.data_dir), "--url", instance.settings.url]

    def run(*argv: str) -> int:
        return main([*argv, *common])

    assert await asyncio.to_thread(run, "account", "promote", "dana") == 0
    assert "@dana: moderator" in capsys.readouterr().out
    assert await asyncio.to_thread(run, "account", "suspend", "dana", "--note", "why") == 0
    assert "suspended" in capsys.readouterr().out
    assert await _login_status(instance, "dana") == 403
    assert await asyncio.to_thread(run, "account", "unsuspend", "dana") == 0
    assert await asyncio.to_thread(run, "account", "demote", "dana") == 0
    assert "@dana: member" in capsys.readouterr().out
    assert await asyncio.to_thread(run, "account", "demote", "boss", "--to", "member") == 2
    assert "last administrator" in capsys.readouterr().err
    assert await asyncio.to_thread(run, "audit") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[4] for line in lines] == ["demote", "unsuspend", "suspend", "promote"]
    assert "command line" in lines[0] and "(why)" in lines[2]
    assert CLI.actor_id is None
