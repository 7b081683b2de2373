"""A real OpenID provider for the tests: ``tests/node/oidc_provider.mjs`` (the npm package
``oidc-provider``, installed by ``.ci/run`` into ``tests/node``) on a loopback port.

``provider_missing()`` says why it cannot run (no node, package not installed), so the tests
that need it skip with that reason. ``sign_in`` drives the provider's login form the way a
browser does, with a real HTTP client.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "oidc_provider.mjs"
CLIENT_ID = "koers-test"
CLIENT_SECRET = "koers-test-secret-0123456789"


def provider_missing() -> str | None:
    """Why the provider cannot start here, or None."""
    if shutil.which("node") is None:
        return "node is not installed (the single sign-on tests need Node.js)"
    if not (NODE_DIR / "node_modules" / "oidc-provider").is_dir():
        return "the npm package oidc-provider is missing: npm install --prefix tests/node"
    return None


@dataclass
class Provider:
    """A running provider: its issuer, the test client's credentials, its accounts file."""

    issuer: str
    accounts: Path

    def settings(self, **extra: object) -> dict[str, object]:
        """The instance settings that point single sign-on at this provider."""
        return {
            "oidc_issuer": self.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_name": "Test ID",
            **extra,
        }

    def env(self) -> dict[str, str]:
        """The same as ``KOERS_*`` variables (for ``koers serve`` in a subprocess)."""
        return {
            "KOERS_OIDC_ISSUER": self.issuer,
            "KOERS_OIDC_CLIENT_ID": CLIENT_ID,
            "KOERS_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "KOERS_OIDC_NAME": "Test ID",
            "KOERS_ALLOW_PRIVATE_ADDRESSES": "true",
        }

    def set_account(self, login: str, **claims: Any) -> None:
        """What the provider says about ``login`` (its ``sub``) from now on."""
        known = json.loads(self.accounts.read_text()) if self.accounts.exists() else {}
        known[login] = claims
        self.accounts.write_text(json.dumps(known))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_provider(folder: Path) -> Iterator[Provider]:
    """Start the provider in ``folder``; stop it afterwards."""
    port = _free_port()
    config = folder / "oidc-provider.json"
    accounts = folder / "oidc-accounts.json"
    config.write_text(
        json.dumps(
            {
                "port": port,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "accounts": str(accounts),
            }
        )
    )
    log = (folder / "oidc-provider.log").open("w")
    proc = subprocess.Popen(
        ["node", str(SCRIPT), str(config)],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        line = proc.stdout.readline()
        if line.strip() != "ready" or time.monotonic() > deadline:
            raise RuntimeError(
                "the OpenID provider did not start: " + (folder / "oidc-provider.log").read_text()
            )
        yield Provider(f"http://127.0.0.1:{port}", accounts)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def browser_session() -> aiohttp.ClientSession:
    """A client that keeps cookies for loopback hosts, as a browser does."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def provider_login(
    session: aiohttp.ClientSession, start_url: str, login: str
) -> aiohttp.ClientResponse:
    """Open ``start_url`` (a "Log in with" link), sign in at the provider as ``login``,
    and follow the redirects back; returns the last answer (where the member landed)."""
    page = await session.get(start_url)
    html = await page.text()
    m = re.search(r'<form[^>]*action="([^"]+)"', html)
    assert m and "/interaction/" in m.group(1), (
        f"no provider login form at {page.url}: {html[:300]}"
    )
    action = m.group(1).replace("&amp;", "&")
    if action.startswith("/"):
        action = f"{page.url.scheme}://{page.url.host}:{page.url.port}{action}"
    answer = await session.post(action, data={"prompt": "login", "login": login, "password": "x"})
    await answer.read()
    return answer
