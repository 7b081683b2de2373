"""``koers demo``: the purpose process in a realistic state (version 2 with endorsements pending, a draft proposal)."""

import pytest

from server.config import load_settings
from server.context import Context
from server.demo import _communities, _demo_purpose, _people
from server.services import (
    accounts,
    communities,
    purpose_endorsements,
    purpose_phases,
    purpose_proposals,
)
from server.storage.db import Database, migrate
from server.visibility import Viewer
from tests.conftest import free_port


@pytest.mark.slow
async def test_demo_shows_the_purpose_process(tmp_path):
    port = free_port()
    settings = load_settings(
        env={},
        rate_limit_loopback=False,  # tests: loopback is not rate-limited
        url=f"http://127.0.0.1:{port}",
        data_dir=str(tmp_path / "demo"),
        secret="demo-purpose-secret",
        port=port,
    )
    db = Database(settings.database_url)
    ctx = Context(db, settings)
    try:
        await migrate(db)
        ctx.organization_id = await accounts.ensure_organization(db, settings)
        ids = await _people(ctx, lambda _: None)
        await _communities(ctx, ids, lambda _: None)  # what ``load_demo`` builds the process on
        await _demo_purpose(ctx, ids, lambda _: None)
        async with db.read() as conn:
            energy = await communities.get_by_handle(conn, "energy")
            kitchen = await communities.get_by_handle(conn, "circular_kitchen")
            lotte = (await communities.managers(conn, ctx, energy.id))[0]
            state = await purpose_endorsements.endorsements(
                conn, ctx, Viewer(actor_id=lotte.id, local=True), energy.id
            )
            assert (await purpose_phases.current(conn, energy.id)).phase == "in_force"
            phase = await purpose_phases.current(conn, kitchen.id)
            ingrid = (await communities.managers(conn, ctx, kitchen.id))[0]
            open_ = await purpose_proposals.proposals(
                conn, Viewer(actor_id=ingrid.id, local=True), kitchen.id, state="open"
            )
    finally:
        await db.close()
    assert state.version == 2
    assert {m.username for m in state.endorsed} == {"lotte", "samir", "joris"}
    assert {"mei", "daan", "anouk"} <= {m.username for m in state.pending}
    assert phase.phase == "drafting" and phase.planned_end is not None
    assert len(open_) == 1 and open_[0].author_handle == "mei" and open_[0].replies_count == 1
