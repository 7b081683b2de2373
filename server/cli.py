"""The ``koers`` command line: serve, demo, migrate, account management.

User mistakes (bad settings, unreachable database, port in use) end with one clear line and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import socket
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from server import __version__
from server.config import REGISTRATION_MODES, Settings, ensure_data_dir, load_settings
from server.context import Context
from server.errors import KoersError

if TYPE_CHECKING:
    from aiohttp import web

    from server.storage.db import Database

log = logging.getLogger("koers")
# Libraries whose debug lines carry statement parameters (secrets among them): warnings only,
# with ``--verbose`` too.
QUIET_LOGGERS = ("aiosqlite", "alembic")

Commands = dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, int]]]
# Areas (federation, …) add sub-commands through this hook: ``register(subparsers, commands)``.
EXTRA_COMMAND_MODULES = (
    "server.federation_commands",
    "server.admin_commands",
    "server.backup_commands",
    "server.counter_commands",
    "server.feed_commands",
    "server.mail_commands",
    "server.search_commands",
)

ENV_HELP = """\
settings (environment variables; flags override them):
  KOERS_URL                      public base URL, e.g. https://koers.example.org (fixes every id)
  KOERS_DATA_DIR                 data directory (default ./koers-data): database, media, secret
  KOERS_DATABASE_URL             sqlite:///PATH (default: KOERS_DATA_DIR/koers.sqlite3) or postgresql://…
  KOERS_HOST, KOERS_PORT         address to listen on (default 127.0.0.1:8080)
  KOERS_SECRET                   signing secret (generated and kept in the data dir when unset)
  KOERS_REGISTRATIONS            open | approval | invite | closed (default open)
  KOERS_ALLOW_PRIVATE_ADDRESSES  allow fetching from loopback/private addresses (default off)
  KOERS_FEDERATION_MODE          open | allowlist (default open)
  KOERS_SECURE_MODE              require signatures on every ActivityPub GET (default off)
  KOERS_PASSWORD_GRANT           allow the OAuth password grant for CLI clients (default on)
  KOERS_RUN_WORKERS              run delivery and inbox workers inside `koers serve` (default on)
  KOERS_SMTP_URL                 smtp://user:password@host:port[?starttls=true] or smtps://… (unset:
                                 mail is written as .eml files to KOERS_DATA_DIR/mail)
  KOERS_MAIL_FROM                the sender of every mail, e.g. "Koers <koers@example.org>"
  KOERS_OIDC_ISSUER              single sign-on: the OpenID provider's issuer URL (default off)
  KOERS_OIDC_CLIENT_ID, KOERS_OIDC_CLIENT_SECRET  the client registered there
  KOERS_OIDC_NAME                the sign-in button's label, e.g. "Contoso account"
  KOERS_OIDC_SCOPES              scopes asked for (default "openid profile email")
  KOERS_OIDC_ONLY                sign in through the provider only (administrators keep passwords)
  KOERS_REQUIRE_2FA_ADMINS       administrators must use two-factor sign-in (default off)
  KOERS_RATE_LIMIT               refuse API requests over their budget with 429 (default on)
  KOERS_RATE_LIMIT_REQUESTS, KOERS_RATE_LIMIT_WINDOW
                                 API requests per token or address per window (300 per 300 s)
  KOERS_RATE_LIMIT_LOOPBACK      off: never limit requests from loopback (default on)
  KOERS_TRUSTED_PROXIES          proxies whose X-Forwarded-For is believed (default 127.0.0.1,::1)
  KOERS_HEADER_TIMEOUT, KOERS_BODY_TIMEOUT
                                 seconds to send request headers (10) and a whole body (30)
  KOERS_CONNECTIONS_PER_ADDRESS  open connections from one address (default 64)
  KOERS_STREAM_HEARTBEAT, KOERS_STREAMS_PER_TOKEN
                                 WebSocket ping interval (30 s); open streams per token (8)
"""


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="public base URL (KOERS_URL)")
    p.add_argument("--data-dir", help="data directory (KOERS_DATA_DIR)")
    p.add_argument("--database-url", help="database URL (KOERS_DATABASE_URL)")


def _add_listen(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="address to listen on (KOERS_HOST)")
    p.add_argument("--port", type=int, help="port to listen on (KOERS_PORT)")


def _settings(args: argparse.Namespace, **extra: object) -> Settings:
    return load_settings(
        None,
        url=getattr(args, "url", None),
        data_dir=getattr(args, "data_dir", None),
        database_url=getattr(args, "database_url", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        registrations=getattr(args, "registrations", None),
        **extra,
    )


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise KoersError(
                    f"port {port} on {host} is already in use; choose another with --port"
                ) from None
            raise KoersError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


async def _start_server(settings: Settings) -> tuple[web.AppRunner, Database]:
    """Build the application and listen: (the runner, the database)."""
    from aiohttp import web

    from server.app import create_app
    from server.http import idle_trim, slow_clients
    from server.http.access_log import ACCESS_LOG
    from server.storage import faults
    from server.storage.db import Database

    db = Database(settings.database_url)
    await faults.check_writable(settings, db)
    app = create_app(settings, db=db)
    idle_trim.install(app)
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_GRACE, **ACCESS_LOG)
    try:
        await runner.setup()
        assert runner.server is not None
        slow_clients.guard(runner.server, settings)
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise KoersError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}"
        ) from None
    return runner, db


async def _run_server(settings: Settings, *, banner: Callable[[], None] | None = None) -> int:
    from server import startup_gc

    settings = ensure_data_dir(settings)
    with _stop_signals() as stop:
        with startup_gc.paused():  # the imports and the start-up: no collections midway
            runner, db = await _start_server(settings)
        await _serve_until(stop, runner, db, settings, banner)
    log.info("Koers stopped")
    return 0


async def _serve_until(
    stop: asyncio.Event,
    runner: Any,
    db: Any,
    settings: Settings,
    banner: Callable[[], None] | None,
) -> None:
    """Say where the server listens, then serve until ``stop`` is set, and clean up."""
    log.info(
        "Koers %s listening on http://%s:%s (public URL %s)",
        __version__,
        settings.host,
        settings.port,
        settings.url,
    )
    if settings.oidc_enabled:
        log.info(
            "single sign-on through %s: register the redirect URI %s at the provider",
            settings.oidc_issuer,
            settings.oidc_redirect_uri,
        )
    if banner:
        banner()
    await _until_stopped(stop, runner, db)


async def _until_stopped(stop: asyncio.Event, runner: Any, db: Any) -> None:
    """Wait for ``stop``, then clean the application up and close the database, however it ends."""
    try:
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()
        await db.close()


# Seconds requests in flight get to finish once the server stops (open streams end at once).
SHUTDOWN_GRACE = 10.0


@contextmanager
def _stop_signals() -> Iterator[asyncio.Event]:
    """An event set by SIGTERM (a service manager's stop) or SIGINT (Ctrl-C), installed before
    the start-up, so that a stop at any moment lets the caller's clean-up run: requests in flight
    end, the workers and the signing pool's processes stop, the database closes. Without it
    SIGTERM ends the process at once and the pool's processes live on, orphaned."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for number in signals:
        loop.add_signal_handler(number, stop.set)
    try:
        yield stop
    finally:
        for number in signals:
            loop.remove_signal_handler(number)


async def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args, run_workers=False if args.no_workers else None)
    _check_port_free(settings.host, settings.port)
    return await _run_server(settings)


async def cmd_worker(args: argparse.Namespace) -> int:
    """Run only the background workers (delivery, inbox processing): no HTTP listener."""
    from aiohttp import web

    from server import startup_gc
    from server.app import create_app
    from server.storage import faults
    from server.storage.db import Database

    settings = ensure_data_dir(_settings(args, run_workers=True))
    db = Database(settings.database_url)
    await faults.check_writable(settings, db)
    with _stop_signals() as stop:
        with startup_gc.paused():
            runner = web.AppRunner(create_app(settings, db=db))
            await runner.setup()  # runs the app's start-up: migrations and the workers
        log.info("Koers %s worker running for %s", __version__, settings.url)
        await _until_stopped(stop, runner, db)
    log.info("Koers worker stopped")
    return 0


async def cmd_demo(args: argparse.Namespace) -> int:
    from server.demo import DEMO_PASSWORD, load_demo

    # The demo never sends real mail: every message is written to DATA_DIR/mail as an .eml file.
    settings = _settings(args, allow_private_addresses=True, smtp_url="")
    _check_port_free(settings.host, settings.port)
    settings = ensure_data_dir(settings)
    logins = await load_demo(settings, progress=lambda msg: print(f"  {msg}", flush=True))

    def banner() -> None:
        print(f"\nKoers demo is running at {settings.url}", flush=True)
        print(
            f"Log in as any of: {', '.join(logins)} (password: {DEMO_PASSWORD}); admin: {logins[0]}",
            flush=True,
        )
        print(f"Mail (sign-up, password reset, …) is written to {settings.mail_dir}/", flush=True)
        print("Press Ctrl+C to stop.", flush=True)

    return await _run_server(settings, banner=banner)


async def cmd_migrate(args: argparse.Namespace) -> int:
    from server.storage.db import Database, migrate, safe_url

    settings = ensure_data_dir(_settings(args))
    db = Database(settings.database_url)
    try:
        await db.check()
        await migrate(db)
    finally:
        await db.close()
    print(f"database {safe_url(settings.database_url)} is up to date")
    return 0


def ask_password() -> str:
    """Ask for a new password twice, without echo; KoersError when the two differ."""
    import getpass

    first = getpass.getpass("Password: ")
    if first != getpass.getpass("The password again: "):
        raise KoersError("the passwords do not match")
    return first


async def cmd_account_create(args: argparse.Namespace) -> int:
    from server.services import accounts
    from server.storage.db import migrated

    if args.password is None:
        args.password = ask_password()
    settings = ensure_data_dir(_settings(args))
    async with migrated(settings.database_url) as db:
        account = await accounts.create_account(
            db,
            settings,
            username=args.username,
            email=args.email,
            password=args.password,
            display_name=args.display_name or "",
            is_admin=args.admin,
        )
    print(f"created @{account.username}@{settings.domain}{' (admin)' if args.admin else ''}")
    return 0


async def cmd_account_list(args: argparse.Namespace) -> int:
    from server.services import accounts
    from server.storage.db import migrated

    settings = ensure_data_dir(_settings(args))
    async with migrated(settings.database_url) as db:
        rows = await accounts.list_accounts(db)
    if not rows:
        print(
            "no accounts yet; create one with: koers account create USERNAME --email E --password P"
        )
        return 0
    print(f"{'username':20} {'email':32} {'state':10} admin")
    for r in rows:
        print(f"{r.username:20} {r.email:32} {r.state:10} {'yes' if r.is_admin else ''}")
    return 0


@asynccontextmanager
async def _instance(args: argparse.Namespace) -> AsyncIterator[Context]:
    """The instance's context with every area's listeners, without serving or workers: what a
    command does federates as from the web (the running server's workers deliver it)."""
    from aiohttp import web

    from server.app import create_app
    from server.keys import CTX

    app = create_app(_settings(args, run_workers=False))
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        yield app[CTX]
    finally:
        await runner.cleanup()


async def cmd_account_moderate(args: argparse.Namespace) -> int:
    from server.services import moderation

    async with _instance(args) as ctx:
        action = args.account_command
        if action == "suspend":
            done = await moderation.suspend(ctx, moderation.CLI, args.username, args.note)
        elif action == "unsuspend":
            done = await moderation.unsuspend(ctx, moderation.CLI, args.username, args.note)
        else:
            current = await moderation.account(ctx, args.username)
            step = 1 if action == "promote" else -1
            index = moderation.ROLES.index(current.role) + step
            role = args.to or moderation.ROLES[max(0, min(index, len(moderation.ROLES) - 1))]
            done = await moderation.set_role(ctx, moderation.CLI, args.username, role, args.note)
    state = "suspended" if done.suspended else done.state
    print(f"@{done.username}: {done.role}, {state}")
    return 0


async def cmd_audit(args: argparse.Namespace) -> int:
    from server.services import moderation

    async with _instance(args) as ctx:
        entries = await moderation.audit_log(ctx, limit=args.limit)
    if not entries:
        print("no administrative actions yet")
    for e in entries:
        when = e.created_at.strftime("%Y-%m-%d %H:%M")
        note = f" ({e.note})" if e.note else ""
        print(f"{when}  {e.by or 'command line':20} {e.action:16} {e.summary}{note}")
    return 0


def _add_moderation(acc: Any, commands: Commands) -> None:
    helps = {
        "suspend": "suspend a member: no login, tokens revoked, the actor deleted on other servers",
        "unsuspend": "lift a suspension",
        "promote": "raise a member's role (member → moderator → admin)",
        "demote": "lower a member's role (admin → moderator → member)",
    }
    for name, text in helps.items():
        pm = acc.add_parser(name, help=text, description=text)
        pm.add_argument("username")
        pm.add_argument("--note", default="", help="why (kept in the audit log)")
        if name in ("promote", "demote"):
            pm.add_argument("--to", choices=("member", "moderator", "admin"), help="the new role")
        _add_common(pm)
        commands[f"account {name}"] = cmd_account_moderate


def build_parser() -> tuple[argparse.ArgumentParser, Commands]:
    parser = argparse.ArgumentParser(
        prog="koers",
        description="Koers: a federated ActivityPub server for communities of purpose.",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"koers {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands: Commands = {}

    p = sub.add_parser(
        "serve",
        help="run the instance (migrates the database first)",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(p)
    _add_listen(p)
    p.add_argument(
        "--registrations",
        choices=REGISTRATION_MODES,
        help="registration mode (KOERS_REGISTRATIONS)",
    )
    p.add_argument(
        "--no-workers",
        action="store_true",
        help="serve HTTP only; run `koers worker` processes for delivery and inbox work (KOERS_RUN_WORKERS=false)",
    )
    commands["serve"] = cmd_serve

    p = sub.add_parser(
        "worker",
        help="run the background workers only (delivery, inbox processing), for deployments with "
        "several web processes on one PostgreSQL",
    )
    _add_common(p)
    commands["worker"] = cmd_worker

    p = sub.add_parser(
        "demo",
        help="start a ready instance with realistic sample data on 127.0.0.1:8080",
        description="Create (or reuse) a demo data directory with sample communities, members, roles, "
        "roadmaps, results and posts in every audience, then serve it.",
    )
    _add_common(p)
    _add_listen(p)
    p.set_defaults(data_dir="koers-demo")
    commands["demo"] = cmd_demo

    p = sub.add_parser("migrate", help="create or upgrade the database schema")
    _add_common(p)
    commands["migrate"] = cmd_migrate

    p = sub.add_parser("account", help="manage local accounts")
    acc = p.add_subparsers(dest="account_command", metavar="ACTION")
    pc = acc.add_parser("create", help="create a member account")
    pc.add_argument("username")
    pc.add_argument("--email", required=True)
    pc.add_argument("--password", help="the password (left out: asked twice, without echo)")
    pc.add_argument("--display-name")
    pc.add_argument("--admin", action="store_true", help="make the account an administrator")
    _add_common(pc)
    commands["account create"] = cmd_account_create
    pl = acc.add_parser("list", help="list local accounts")
    _add_common(pl)
    commands["account list"] = cmd_account_list
    _add_moderation(acc, commands)

    p = sub.add_parser("audit", help="the audit log of administrative actions, newest first")
    p.add_argument("--limit", type=int, default=50, help="how many entries (default 50)")
    _add_common(p)
    commands["audit"] = cmd_audit

    for module_name in EXTRA_COMMAND_MODULES:
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        module.register(sub, commands, _add_common, _settings)
    return parser, commands


def main(argv: list[str] | None = None) -> int:
    parser, commands = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    key = args.command or ""
    for sub_attr in (
        "account_command",
        "federation_command",
        "partner_command",
        "domain_command",
        "counters_command",
        "feeds_command",
        "search_command",
    ):
        if getattr(args, sub_attr, None):
            key += " " + getattr(args, sub_attr)
    command = commands.get(key)
    if command is None:
        parser.print_help() if not args.command else parser.parse_args([args.command, "--help"])
        return 2
    try:
        return asyncio.run(command(args))
    except KoersError as exc:
        print(f"koers: error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return 0


if __name__ == "__main__":
    sys.exit(main())
