"""HTTP to the OpenID provider, over federation's guarded client session.

Every URL is checked as federation's fetches are: a host that resolves to a loopback, private or
otherwise non-public address is refused unless ``KOERS_ALLOW_PRIVATE_ADDRESSES`` is set (an
organisation whose provider lives on its own network sets it, and the test suite does).
Answers are read up to 1 MiB and must be JSON objects.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import aiohttp

from federation import jsonload
from federation.errors import FederationError
from federation.fetch import Fetcher, check_url
from server.services.oidc import TransportError

MAX_BODY = 1024 * 1024


class GuardedTransport:
    """The ``services.oidc.Transport`` of a running instance."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    async def _send(self, method: str, url: str, **kw: Any) -> dict[str, Any]:
        try:
            await check_url(url, allow_private=self.fetcher.settings.allow_private_addresses)
            async with self.fetcher.session.request(
                method, url, allow_redirects=False, **kw
            ) as resp:
                body = await resp.content.read(MAX_BODY + 1)
                status = resp.status
        except FederationError as exc:
            raise TransportError(f"{method} {url}: {exc}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransportError(f"{method} {url}: {type(exc).__name__} {exc}") from None
        if len(body) > MAX_BODY:
            raise TransportError(f"{method} {url}: answer larger than {MAX_BODY} bytes")
        try:
            doc = jsonload.load(body)
        except ValueError:
            doc = None
        if status != 200:
            detail = doc.get("error") if isinstance(doc, dict) else body[:200]
            raise TransportError(f"{method} {url}: HTTP {status} {detail!r}")
        if not isinstance(doc, dict):
            raise TransportError(f"{method} {url}: the answer is not a JSON object")
        return doc

    async def get_json(self, url: str, *, bearer: str | None = None) -> dict[str, Any]:
        """GET a JSON object (with a bearer token for the userinfo endpoint)."""
        headers = {"Accept": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return await self._send("GET", url, headers=headers)

    async def post_form(
        self, url: str, form: Mapping[str, str], *, basic: tuple[str, str]
    ) -> dict[str, Any]:
        """POST a form to the token endpoint, the client authenticated with HTTP Basic."""
        credentials = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode("ascii")
        return await self._send(
            "POST",
            url,
            data=dict(form),
            headers={"Accept": "application/json", "Authorization": f"Basic {credentials}"},
        )
