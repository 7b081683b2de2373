"""``koers demo``: the partner community's purpose process as this instance knows it."""

import pytest

from server.config import load_settings
from server.context import Context
from server.demo import (
    _communities,
    _demo_remote_purpose,
    _demo_remote_roadmap,
    _demo_remote_roles,
    _people,
)
from server.services import (
    purpose,
    purpose_endorsements,
    purpose_phases,
    purpose_proposals,
    remote_communities,
)
from server.storage.db import Database, migrate
from server.visibility import Viewer
from tests.conftest import free_port


@pytest.mark.slow
async def test_demo_shows_the_partner_communitys_purpose_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    settings = load_settings(
        env={},
        rate_limit_loopback=False,  # tests: loopback is not rate-limited
        url=f"http://127.0.0.1:{port}",
        data_dir=str(tmp_path / "demo"),
        secret="demo-remote-purpose-secret",
        port=port,
    )
    db = Database(settings.database_url)
    ctx = Context(db, settings)
    try:
        await migrate(db)
        ids = await _people(ctx, lambda _: None)
        await _communities(ctx, ids, lambda _: None)
        await _demo_remote_roadmap(ctx, ids, lambda _: None)
        await _demo_remote_roles(ctx, ids, lambda _: None)
        await _demo_remote_purpose(ctx, ids, lambda _: None)
        async with db.read() as conn:
            rc = await remote_communities.find(conn, "rivers", "koers.waterschap.example")
            assert rc.community is not None
            cid = rc.community.id
            phase = await purpose_phases.current(conn, cid)
            versions = await purpose.history(conn, cid)
            found = await purpose_proposals.proposals(
                conn, Viewer(actor_id=ids["anouk"], local=True), cid
            )
            endorsed_now = await purpose_endorsements.has_endorsed(conn, cid, ids["anouk"])
    finally:
        await db.close()
    assert phase.phase == "drafting" and phase.planned_end is not None
    assert [v.version for v in versions] == [2, 1]
    assert [(p.author_handle, p.state) for p in found] == [
        ("femke@koers.waterschap.example", "open")
    ]
    assert not endorsed_now  # she endorsed version 1; version 2 asks her again
