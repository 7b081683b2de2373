"""Full-text search of posts (``storage/fulltext.py``, ``timelines.search_posts``) on SQLite and
PostgreSQL: accents and Dutch words, prefixes, the index following edits and deletes in the same
transaction, HTML that is not found by its markup, paging, visibility, the rebuild, and a database
migrated with posts in it."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from server import clock
from server.cli import main
from server.config import load_settings
from server.context import Context
from server.services import accounts, follows, post_search, posts, timelines
from server.services.posts import Draft
from server.storage import fulltext, revisions
from server.storage import schema as t
from server.storage.db import Database
from server.visibility import ANONYMOUS, Audience, Viewer
from tests import fast
from tests.conftest import PASSWORD, UNIT_URL
from tests.server.storage.test_migrations_keep_rows import STAMP, _fill

Page = timelines.Page


@pytest.fixture
async def bctx(new_database_url, tmp_path: Path, monkeypatch) -> AsyncIterator[Context]:  # type: ignore[no-untyped-def]
    """A service context on a fresh database of the current backend (both are run)."""
    url = await new_database_url()
    settings = load_settings(
        env={}, url=UNIT_URL, data_dir=str(tmp_path / "data"), database_url=url, secret="s" * 40
    )
    fast.KEYS.rewind()
    monkeypatch.setattr(accounts, "generate_key_pair", fast.KEYS.take)
    monkeypatch.setattr(accounts, "_hasher", fast.CHEAP_HASHER)
    db = Database(url)
    context = Context(db, settings)
    context.organization_id = await accounts.ensure_organization(db, settings)
    yield context
    await db.close()


async def _person(ctx: Context, name: str) -> Viewer:
    account = await accounts.create_account(
        ctx.db, ctx.settings, username=name, email=f"{name}@example.test", password=PASSWORD
    )
    return Viewer(actor_id=account.actor_id, local=True)


async def _say(ctx: Context, who: Viewer, text: str, **kw) -> int:  # type: ignore[no-untyped-def]
    assert who.actor_id is not None
    return await posts.create_post(ctx, who.actor_id, Draft(source=text, **kw))


async def _find(ctx: Context, who: Viewer, q: str, page: Page | None = None, **kw) -> list[int]:  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        return await timelines.search_posts(conn, who, q, page or Page(), **kw)


async def test_words_are_found_without_accents_and_as_prefixes(bctx: Context) -> None:
    ana = await _person(bctx, "ana")
    dutch = await _say(bctx, ana, "Nieuwe ideeën voor het café op de Coöperatiestraat")
    english = await _say(bctx, ana, "Rain barrels for the garden")
    assert await _find(bctx, ana, "ideeën") == [dutch]
    assert await _find(bctx, ana, "IDEEEN cafe") == [dutch]
    assert await _find(bctx, ana, "idee") == [dutch]  # a prefix: idee → ideeën
    assert await _find(bctx, ana, "coöperatie") == [dutch]
    assert await _find(bctx, ana, "rain garden") == [english]
    assert await _find(bctx, ana, "rain café") == []  # every word in the same post
    assert await _find(bctx, ana, "  ") == []
    assert await _find(bctx, ana, '"); DROP TABLE posts; --') == []
    assert await _find(bctx, ana, "NEAR(rain barrels) OR * AND") == []


async def test_the_index_follows_an_edit_and_a_delete(bctx: Context) -> None:
    ana = await _person(bctx, "ana")
    assert ana.actor_id is not None
    post = await _say(bctx, ana, "the tulip bulbs arrived")
    assert await _find(bctx, ana, "tulip") == [post]
    await posts.edit_post(bctx, ana.actor_id, post, source="the daffodil bulbs arrived")
    assert await _find(bctx, ana, "tulip") == []
    assert await _find(bctx, ana, "daffodil") == [post]
    await posts.delete_post(bctx, ana.actor_id, post)
    assert await _find(bctx, ana, "daffodil") == []
    assert await _find(bctx, ana, "bulbs") == []


async def test_a_followers_only_post_is_never_found_by_a_stranger(bctx: Context) -> None:
    ana, bo, stranger = [await _person(bctx, n) for n in ("ana", "bo", "cy")]
    assert ana.actor_id is not None and bo.actor_id is not None
    await follows.follow(bctx, bo.actor_id, ana.actor_id)
    private = await _say(bctx, ana, "zeldzame vlinders gezien", audience=Audience.FOLLOWERS)
    public = await _say(bctx, ana, "vlinders in de tuin")
    assert await _find(bctx, ana, "vlinders") == [public, private]
    assert await _find(bctx, bo, "vlinders") == [public, private]
    assert await _find(bctx, stranger, "vlinders") == [public]
    assert await _find(bctx, ANONYMOUS, "zeldzame") == []
    direct = await _say(bctx, ana, "@bo geheim vlinders", audience=Audience.DIRECT)
    assert await _find(bctx, bo, "geheim") == [direct]
    assert await _find(bctx, stranger, "geheim") == []


async def test_results_page_newest_first_by_id_and_by_offset(bctx: Context) -> None:
    ana = await _person(bctx, "ana")
    ids = [await _say(bctx, ana, f"compost report {n}") for n in range(5)]
    newest = list(reversed(ids))
    assert await _find(bctx, ana, "compost", Page(limit=2)) == newest[:2]
    assert await _find(bctx, ana, "compost", Page(max_id=newest[1], limit=2)) == newest[2:4]
    assert await _find(bctx, ana, "compost", Page(min_id=ids[0], limit=2)) == [ids[2], ids[1]]
    assert await _find(bctx, ana, "compost", Page(limit=2), offset=2) == newest[2:4]


def _remote_post(conn: sa.Connection, html: str, values: dict[str, object]) -> int:
    """A post as the inbox stores one: HTML only, no source."""
    now = clock.now()
    actor = conn.execute(
        t.actors.insert()
        .values(
            uri=f"https://remote.test/users/r{now.timestamp()}",
            kind="person",
            username=f"rosa{now.timestamp():.0f}{now.microsecond}",
            domain="remote.test",
            created_at=now,
            updated_at=now,
        )
        .returning(t.actors.c.id)
    ).scalar_one()
    return int(
        conn.execute(
            t.posts.insert()
            .values(
                uri=f"https://remote.test/notes/{now.timestamp()}",
                author_id=actor,
                local=False,
                audience="public",
                content_html=html,
                created_at=now,
                **values,
            )
            .returning(t.posts.c.id)
        ).scalar_one()
    )


async def test_html_is_found_by_its_text_not_by_its_markup(bctx: Context) -> None:
    html = (
        '<p>Hello <span class="h-card"><a href="https://koers.test/@ana" class="u-url mention">'
        "@<span>ana</span></a></span>, see the</p><p>roadmap&amp;plans &lt;soon&gt;</p>"
    )
    post = await bctx.db.write(
        _remote_post, html, {"spoiler_text": "Vergadering", "title": "Agenda"}
    )
    for words in ("hello ana", "roadmap plans", "see roadmap", "soon", "vergadering", "agenda"):
        assert await _find(bctx, ANONYMOUS, words) == [post], words
    for markup in ("span", "class", "mention", "href", "card", "u", "amp", "lt"):
        assert await _find(bctx, ANONYMOUS, markup) == [], markup
    boost = await bctx.db.write(_remote_post, "", {"reblog_of_id": post})
    assert boost not in await _find(bctx, ANONYMOUS, "hello")


async def test_rebuild_indexes_what_the_triggers_missed(bctx: Context) -> None:
    ana = await _person(bctx, "ana")
    post = await _say(bctx, ana, "kaasmarkt in Gouda")
    await bctx.db.write(lambda conn: conn.exec_driver_sql("DELETE FROM post_search"))
    assert await _find(bctx, ana, "gouda") == []
    assert await post_search.rebuild(bctx.db) == 1
    assert await _find(bctx, ana, "gouda") == [post]


def test_the_index_tables_are_left_out_of_the_schema_comparison() -> None:
    meta = sa.MetaData()
    index = sa.Table("post_search", meta, sa.Column("body", sa.Text))
    shadow = sa.Table("post_search_data", meta, sa.Column("block", sa.LargeBinary))
    for table in (index, shadow):
        assert not fulltext.include_object(table, table.name, "table", True, None)
    assert fulltext.include_object(t.posts, "posts", "table", False, t.posts)
    assert fulltext.include_object(t.posts.c.id, "id", "column", False, None)
    assert not fulltext.is_index_table("post_searches")


async def test_a_database_migrated_with_posts_has_them_indexed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        cfg = revisions.alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "a7f3c91e5d20")  # the revision before the index
        _fill(
            conn,
            "actors",
            {
                "id": 1,
                "uri": "https://k.test/u/ana",
                "kind": "person",
                "username": "ana",
                "created_at": STAMP,
                "updated_at": STAMP,
            },
        )
        _fill(
            conn,
            "posts",
            {
                "id": 7,
                "uri": "https://k.test/p/7",
                "author_id": 1,
                "local": 1,
                "audience": "public",
                "content_html": "<p>Oude fietsen</p>",
                "created_at": STAMP,
            },
        )
    engine.dispose()
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        assert await revisions.upgrade(db)
        async with db.read() as conn:
            found = await timelines.search_posts(conn, ANONYMOUS, "fietsen", Page())
    finally:
        await db.close()
    assert found == [7]


def test_the_rebuild_command_indexes_every_post(
    unit_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    for name in list(os.environ):
        if name.startswith("KOERS_"):
            monkeypatch.delenv(name)
    path = tmp_path / "koers.sqlite3"
    shutil.copy(unit_template, path)
    url = f"sqlite+aiosqlite:///{path}"

    async def world() -> None:
        db = Database(url)
        await db.write(_remote_post, "<p>Molens aan de Zaan</p>", {})
        await db.write(lambda conn: conn.exec_driver_sql("DELETE FROM post_search"))
        await db.close()

    asyncio.run(world())
    args = ["--data-dir", str(tmp_path / "data"), "--database-url", url, "--url", UNIT_URL]
    assert main(["search", "rebuild", *args]) == 0
    assert "search index rebuilt: 1 posts" in capsys.readouterr().out


async def test_a_very_long_post_is_stored_and_found_by_its_beginning(bctx: Context) -> None:
    words = " ".join(f"w{n}x" for n in range(60_000))  # some 400,000 characters
    post = await bctx.db.write(_remote_post, f"<p>begin {words} einde</p>", {})
    assert await _find(bctx, ANONYMOUS, "begin w7x") == [post]
    assert await _find(bctx, ANONYMOUS, "einde") == []  # past what is indexed
