"""Shared fixtures: databases on both backends, real instances on loopback, members, logins.

Storage-dependent tests run on SQLite always and on PostgreSQL when ``KOERS_TEST_DATABASE_URL``
names a server (``.ci/run`` starts one). Each test gets a fresh database copied from a migrated
template, so tests are independent and fast.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestClient, TestServer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from server.app import create_app
from server.config import Settings, load_settings, normalise_database_url
from server.context import Context
from server.keys import CTX
from server.services import accounts
from server.storage.db import Database, migrate
from tests import fast

# Generated-input tests judge correctness, never speed: on a shared two-core machine an example
# can take seconds, so no deadline and no "too slow" health check (speed lives in bench/).
hypothesis_settings.register_profile(
    "koers", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("koers")

PG_URL = os.environ.get("KOERS_TEST_DATABASE_URL", "")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_admin_url() -> str:
    return normalise_database_url(PG_URL)


def _with_db(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _pg_exec(sql: str) -> None:
    import asyncpg

    raw = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(raw)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await migrate(db)
        await db.close()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def pg_template() -> str | None:
    if not PG_URL:
        yield None
        return
    name = f"koers_tpl_{WORKER}_{uuid.uuid4().hex[:6]}"

    async def build() -> None:
        await _pg_exec(f'CREATE DATABASE "{name}"')
        db = Database(_with_db(_pg_admin_url(), name))
        await migrate(db)
        await db.close()

    asyncio.run(build())
    yield name
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("KOERS_TEST_DATABASE_URL is not set (PostgreSQL tests run in CI)")
    return request.param


@pytest.fixture
def new_database_url(
    backend: str, sqlite_template: Path, pg_template: str | None, tmp_path: Path
) -> Callable[[], Awaitable[str]]:
    """A factory of fresh, migrated databases on the current backend (several per test allowed)."""
    created: list[str] = []

    async def make() -> str:
        if backend == "sqlite":
            target = tmp_path / f"db-{uuid.uuid4().hex[:8]}.sqlite3"
            shutil.copy(sqlite_template, target)
            return f"sqlite+aiosqlite:///{target}"
        name = f"koers_t_{uuid.uuid4().hex[:12]}"
        await _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
        created.append(name)
        return _with_db(_pg_admin_url(), name)

    yield make
    for name in created:
        asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Instance:
    """A real Koers instance serving HTTP on a loopback port."""

    app: web.Application
    server: TestServer
    client: TestClient
    settings: Settings
    clients: list[TestClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.settings.url

    @property
    def ctx(self) -> Context:
        return self.app[CTX]

    @property
    def db(self) -> Database:
        return self.ctx.db

    async def new_client(self) -> TestClient:
        """Another browser (own cookie jar) talking to this instance."""
        client = TestClient(self.server)
        await client.start_server()
        self.clients.append(client)
        return client

    async def create_member(
        self, username: str, *, admin: bool = False, **kw: object
    ) -> accounts.Account:
        return await accounts.create_account(
            self.db,
            self.settings,
            username=username,
            email=f"{username}@example.test",
            password=PASSWORD,
            is_admin=admin,
            **kw,  # type: ignore[arg-type]
        )

    async def login(self, username: str, password: str = PASSWORD) -> TestClient:
        """A new client logged in through the real login form."""
        client = await self.new_client()
        await web_login(client, username, password)
        return client


def csrf_from(html: str) -> str:
    m = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


async def web_login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    page = await client.get("/login")
    token = csrf_from(await page.text())
    resp = await client.post(
        "/login",
        data={"login": username, "password": password, "_csrf": token, "next": "/home"},
        allow_redirects=False,
    )
    assert resp.status == 302, await resp.text()


async def post_form(client: TestClient, path: str, data: dict, *, page: str | None = None, **kw):  # type: ignore[no-untyped-def]
    """POST a form the way a browser does: fetch a page for the CSRF token first."""
    html = await (await client.get(page or "/login")).text()
    payload = {"_csrf": csrf_from(html), **data}
    return await client.post(
        path, data=payload, allow_redirects=kw.pop("allow_redirects", False), **kw
    )


@pytest.fixture
async def make_instance(
    new_database_url: Callable[[], Awaitable[str]], tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Instance]]]:
    """Start real instances on loopback; each has its own database, data dir and keys."""
    started: list[Instance] = []

    async def start(**overrides: object) -> Instance:
        port = free_port()
        data_dir = tmp_path / f"instance-{port}"
        settings = load_settings(
            env={},
            **{
                "rate_limit_loopback": False,  # tests: loopback is not rate-limited
                "url": f"http://127.0.0.1:{port}",
                "data_dir": str(data_dir),
                "database_url": await new_database_url(),
                "host": "127.0.0.1",
                "port": port,
                "allow_private_addresses": True,
                "secret": "test-secret-" + uuid.uuid4().hex,
                **overrides,
            },
        )
        app = create_app(settings)
        server = TestServer(app, host="127.0.0.1", port=port)
        client = TestClient(server)
        await client.start_server()
        inst = Instance(app=app, server=server, client=client, settings=app[CTX].settings)
        started.append(inst)
        return inst

    yield start
    for inst in reversed(started):
        for c in inst.clients:
            await c.close()
        await inst.client.close()


@pytest.fixture
async def instance(make_instance: Callable[..., Awaitable[Instance]]) -> Instance:
    """One running instance (on each backend)."""
    return await make_instance()


# --- Test layers -------------------------------------------------------------------------------
#
# The fast layer (``pytest -m "not slow"``) runs services, converters and pure functions against a
# database file, never an HTTP server. Every test that starts an application or server is ``slow``:
# the hook below marks it from the fixtures it uses, and modules that start servers, processes or
# browsers themselves carry ``pytestmark = pytest.mark.slow``. A test that starts a test server
# without being marked fails, so the layers stay apart without anybody having to remember.

# Fixtures that start a server: pytest-aiohttp's and the real instances above (``instance``, the
# federation ``pair`` and the client-library fixtures all depend on ``make_instance``).
SLOW_FIXTURES = frozenset(
    {"aiohttp_client", "aiohttp_server", "aiohttp_raw_server", "make_instance"}
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that uses a fixture starting an application or a server."""
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


_running: dict[str, pytest.Item | None] = {"item": None}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _running["item"] = item


def _refuse_in_fast_layer(start: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    async def guarded(self: object, *args: object, **kw: object) -> None:
        item = _running["item"]
        if item is not None and item.get_closest_marker("slow") is None:
            raise RuntimeError(
                f"{item.nodeid} starts a test server but is not marked slow: use a fixture "
                "of tests/conftest.py that starts instances, or mark it @pytest.mark.slow"
            )
        await start(self, *args, **kw)

    return guarded


BaseTestServer.start_server = _refuse_in_fast_layer(BaseTestServer.start_server)  # type: ignore[method-assign]


# --- The fast layer's fixtures ------------------------------------------------------------------
#
# A fresh SQLite database per test (a file copy of the migrated template), the settings of an
# instance at ``UNIT_URL``, and the services' ``Context`` on it: no application, no server. Members
# get their key pairs from a per-process pool and their passwords hashed at Argon2's lowest cost,
# so creating one takes milliseconds. ``wired`` adds the application built but never started, for
# services whose effects run through the listeners the areas register (the federation outbox …).

UNIT_URL = "https://koers.test"


@pytest.fixture
def unit_settings(tmp_path: Path) -> Settings:
    """Settings of a test instance at ``UNIT_URL`` on a fresh copy of the migrated template."""
    return load_settings(
        env={},
        rate_limit_loopback=False,  # tests: loopback is not rate-limited
        url=UNIT_URL,
        data_dir=str(tmp_path / "data"),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unit.sqlite3'}",
        secret="unit-secret-" + "x" * 32,
        run_workers=False,
    )


@pytest.fixture(scope="session")
def unit_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated template with the organisation actor of ``UNIT_URL`` already in it."""
    path = tmp_path_factory.mktemp("unit-template") / "unit.sqlite3"
    shutil.copy(sqlite_template, path)

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        settings = load_settings(env={}, url=UNIT_URL, database_url=db.url, secret="x" * 40)
        await accounts.ensure_organization(db, settings)
        await db.close()

    asyncio.run(build())
    return path


@pytest.fixture
async def unit_db(
    unit_settings: Settings, unit_template: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Database]:
    """The test's database: migrated, empty but for the organisation actor."""
    from sqlalchemy.engine import make_url

    path = make_url(unit_settings.database_url).database
    assert path
    shutil.copy(unit_template, path)
    fast.KEYS.rewind()
    monkeypatch.setattr(accounts, "generate_key_pair", fast.KEYS.take)
    monkeypatch.setattr(accounts, "_hasher", fast.CHEAP_HASHER)
    db = Database(unit_settings.database_url)
    yield db
    await db.close()


@pytest.fixture
async def ctx(unit_db: Database, unit_settings: Settings) -> Context:
    """What services need: the database, settings, an event hub without listeners."""
    context = Context(unit_db, unit_settings)
    context.organization_id = await accounts.ensure_organization(unit_db, unit_settings)
    return context


@pytest.fixture
async def wired(ctx: Context, unit_db: Database, unit_settings: Settings) -> fast.Wired:
    """The application built around the test database, never started (see ``tests.fast.Wired``).

    Its event hub, with every listener the areas' ``setup()`` registered (the federation outbox,
    notifications, …), becomes ``ctx``'s too: in a test that asks for ``wired``, services called
    with ``ctx`` (or ``wired.ctx``) have their effects as in a running instance.
    """
    app = create_app(unit_settings, db=unit_db, run_migrations=False)
    app[CTX].organization_id = ctx.organization_id
    ctx.events = app[CTX].events
    return fast.Wired(app)


@pytest.fixture
async def org(unit_db: Database) -> Any:
    """The instance's organisation actor row."""
    import sqlalchemy as sa

    from server.storage import schema as t

    async with unit_db.read() as conn:
        return (
            await conn.execute(
                sa.select(t.actors).where(
                    t.actors.c.kind == "organization", t.actors.c.domain.is_(None)
                )
            )
        ).one()


@pytest.fixture
def make_member(
    unit_db: Database, unit_settings: Settings
) -> Callable[..., Awaitable[accounts.Account]]:
    """``await make_member("bo", admin=False, **create_account options)``: a local member."""

    async def make(username: str, *, admin: bool = False, **kw: Any) -> accounts.Account:
        return await accounts.create_account(
            unit_db,
            unit_settings,
            username=username,
            email=kw.pop("email", f"{username}@example.test"),
            password=PASSWORD,
            is_admin=admin,
            **kw,
        )

    return make


@pytest.fixture
async def member(make_member: Callable[..., Awaitable[accounts.Account]]) -> accounts.Account:
    """A local member, ``ana`` (password ``PASSWORD``)."""
    return await make_member("ana")


@pytest.fixture
async def remote_actor(wired: fast.Wired) -> fast.RemoteActor:
    """``rosa`` on ``remote.example``, stored from her actor document, with her signing key."""
    return await wired.remote_actor("rosa")


@pytest.fixture
def key_pair() -> tuple[str, str]:
    """An RSA key pair (private PEM, public PEM) from the per-process pool."""
    return fast.KEYS.take()


@pytest.fixture
async def api_token(ctx: Context, member: accounts.Account) -> str:
    """A bearer token of ``member`` for an app with ``read write follow``."""
    from server.services import oauth

    scopes = ("read", "write", "follow")
    app = await oauth.register_app(
        ctx, name="unit", redirect_uris=["urn:ietf:wg:oauth:2.0:oob"], scopes=scopes, website=None
    )
    return (await oauth.issue_for(ctx, app, member.user_id, scopes)).token


@pytest.fixture
async def crew(
    ctx: Context, member: accounts.Account, make_member: Callable[..., Awaitable[accounts.Account]]
) -> fast.Crew:
    """A community with people around it (see ``tests.fast.Crew``)."""
    from server.services import communities

    community = await communities.create_community(
        ctx, member.actor_id, handle="garden", name="Garden", purpose_text="Grow food"
    )
    bo, cy, dan = [await make_member(n) for n in ("bo", "cy", "dan")]
    for person in (bo, cy):
        await communities.join(ctx, person.actor_id, community.id)
    return fast.Crew(community, member, bo, cy, dan)
