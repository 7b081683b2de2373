"""Real-world captures (../shared/fixtures) through the transport: actor parsing, WebFinger, inbox.

The domain effects are tested in tests/server/activitypub/test_fixtures.py; here the question is
whether the transport accepts or refuses each payload cleanly — never a 500.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.actors import ACTOR_TYPES, actor_values
from federation.discovery import resolve_handle
from federation.errors import ActorError, FetchError
from server import clock
from server.services.keys import generate_key_pair
from server.storage import schema as t
from tests.federation.conftest import Signer, activity_rows, post_activity

FIXTURES = Path("/work/shared/fixtures")
pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason="no shared fixtures folder")


def _json_docs() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.suffix not in (".json", ".txt"):
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".txt":  # an HTTP capture: headers, blank line, body
            parts = re.split(r"\r?\n\r?\n", text, maxsplit=1)
            text = parts[1] if len(parts) == 2 else ""
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        if isinstance(doc, dict):
            out.append((str(path.relative_to(FIXTURES)), doc))
    return out


DOCS = _json_docs()
ACTORS = [
    (name, doc)
    for name, doc in DOCS
    if doc.get("type") in ACTOR_TYPES and isinstance(doc.get("id"), str)
]
ACTIVITIES = [
    (name, doc)
    for name, doc in DOCS
    if isinstance(doc.get("actor"), str | dict) and isinstance(doc.get("id"), str)
]


def test_fixture_actors_parse_or_are_refused_with_a_reason() -> None:
    assert len(ACTORS) >= 5
    parsed = refused = 0
    for name, doc in ACTORS:
        try:
            values = actor_values(doc, doc["id"])
        except ActorError as exc:
            refused += 1
            assert exc.reason in ("no_key", "key_owner", "no_inbox", "type", "id_host"), name
        else:
            parsed += 1
            assert values["inbox"] and values["public_key_pem"], name
            assert "<script" not in values["summary_html"], name
    assert parsed >= 4
    noinbox = dict(ACTORS)["mastodon/activitypub-actor-noinbox.txt"]
    with pytest.raises(ActorError) as err:
        actor_values(noinbox, noinbox["id"])
    assert err.value.reason == "no_inbox"


@pytest.mark.slow  # serves the captures over HTTP
async def test_webfinger_captures() -> None:
    captures = {name.split("/")[-1]: doc for name, doc in DOCS if "subject" in doc}
    app = web.Application()

    async def finger(request: web.Request) -> web.Response:
        user = request.query["resource"].split(":", 1)[1].split("@")[0]
        return web.json_response(captures[user + ".txt"], content_type="application/jrd+json")

    app.router.add_get("/.well-known/webfinger", finger)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    from federation.fetch import Fetcher
    from server.config import load_settings

    fetcher = Fetcher(load_settings(env={}, allow_private_addresses=True))
    host = f"127.0.0.1:{server.port}"
    try:
        assert (
            await resolve_handle(fetcher, "activitypub-webfinger", host)
            == "https://ap.example.com/users/foo"
        )
        # OStatus-era answers without an ActivityPub "self" link are refused, not guessed.
        for name in ("webfinger-hacker1", "webfinger-noncanonical"):
            with pytest.raises(FetchError) as err:
                await resolve_handle(fetcher, name, host)
            assert err.value.reason == "webfinger"
    finally:
        await fetcher.close()
        await server.close()


@pytest.mark.slow
async def test_fixture_activities_through_the_inbox(make_instance) -> None:
    inst = await make_instance(run_workers=False)
    private, public = generate_key_pair()
    statuses: dict[str, int] = {}
    accepted_ids = set()
    for name, doc in ACTIVITIES:
        actor = doc["actor"]["id"] if isinstance(doc["actor"], dict) else doc["actor"]
        signer = Signer(actor, f"{actor}#main-key", private)
        async with inst.db.write() as conn:
            known = (await conn.execute(t.actors.select().where(t.actors.c.uri == actor))).first()
            if known is None:
                now = clock.now()
                await conn.execute(
                    t.actors.insert().values(
                        uri=actor,
                        kind="person",
                        username=f"u{len(statuses)}",
                        domain=actor.split("/")[2],
                        inbox=actor + "/inbox",
                        key_id=signer.key_id,
                        public_key_pem=public,
                        fields=[],
                        extra={},
                        created_at=now,
                        updated_at=now,
                        fetched_at=now,
                    )
                )
        status, text = await post_activity(f"{inst.url}/inbox", doc, signer)
        statuses[name] = status
        assert status in (202, 400), (name, status, text)
        if status == 202:
            accepted_ids.add(doc["id"])
    assert all(s == 202 for s in statuses.values()), statuses  # all 63 captures pass the checks
    stored = {r.uri for r in await activity_rows(inst)}
    assert stored == accepted_ids
