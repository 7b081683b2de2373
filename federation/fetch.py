"""Outgoing HTTP for federation: signed GETs of remote documents and signed POSTs for delivery.

One ``Fetcher`` (one aiohttp session) per app. Every request is checked against SSRF: the host is
resolved first and refused when any address is private, loopback, link-local, multicast, reserved
or unspecified (unless ``allow_private_addresses``); the connector's resolver checks again at
connection time, so a DNS answer that changes between check and connect is still refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from federation import context as vocab
from federation import jsonload
from federation.errors import FetchError
from federation.signatures import KeyCache, sign_request
from server import __version__
from server.config import Settings

log = logging.getLogger(__name__)

AP = "application/activity+json"
ACCEPT_AP = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MAX_BODY = 1024 * 1024
MAX_REDIRECTS = 3
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
CACHE_TTL = 300.0
CACHE_SIZE = 1000
# A host a delivery POST passed the address check for is not checked again for this long (the
# connector's DNS cache keeps its addresses as long; a new connection is checked regardless).
CHECKED_TTL = 10  # seconds
CHECKED_SIZE = 4096


def is_forbidden_address(address: str) -> bool:
    """Whether ``address`` is one we never connect to without ``allow_private_addresses``."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or not ip.is_global
    )


async def resolve_checked(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve ``host`` and refuse it when any of its addresses is forbidden (no connection made)."""
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError("dns", f"cannot resolve {host}: {exc}") from None
        addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise FetchError("dns", f"{host} has no addresses")
    if not allow_private:
        for address in addresses:
            if is_forbidden_address(address):
                raise FetchError(
                    "private_address", f"{host} resolves to a non-public address {address}"
                )
    return addresses


async def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse non-http(s) URLs and hosts that resolve to forbidden addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("bad_url", f"not an http(s) URL: {url[:200]}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchError("bad_url", f"invalid port in {url[:200]}") from None
    await resolve_checked(parts.hostname, port, allow_private=allow_private)


class _GuardedResolver(AbstractResolver):
    """The connector's resolver: the same address check at connection time."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not self._allow_private:
            for r in results:
                if is_forbidden_address(r["host"]):
                    raise FetchError("private_address", f"{host} resolves to a non-public address")
        return results

    async def close(self) -> None:
        await self._inner.close()


def post_headers(content_type: str = AP) -> dict[str, str]:
    """The headers of a signed ActivityPub POST before ``sign_request`` adds its own."""
    return {"Content-Type": content_type, "Accept": AP}


def _put_newest(cache: OrderedDict[Any, Any], key: Any, value: Any, size: int) -> None:
    """Store ``value`` as the newest entry of ``cache``, dropping the oldest beyond ``size``."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)


class Fetcher:
    """Signed GETs and POSTs with size, time and redirect limits; a small in-memory cache."""

    def __init__(self, settings: Settings, keys: KeyCache | None = None) -> None:
        self.settings = settings
        self.keys = keys or KeyCache()
        self.user_agent = f"Koers/{__version__} (+{settings.url})"
        self._session: aiohttp.ClientSession | None = None
        self._cache: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        # (scheme, netloc) -> when it passed ``check_url`` (delivery POSTs; ``_check_host``)
        self._checked: OrderedDict[tuple[str, str], float] = OrderedDict()

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session, created on first use (inside the running loop)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                resolver=_GuardedResolver(self.settings.allow_private_addresses),
                limit=100,
                limit_per_host=8,
                ttl_dns_cache=CHECKED_TTL,
            )
            timeout = aiohttp.ClientTimeout(
                total=None,
                sock_connect=CONNECT_TIMEOUT,
                sock_read=READ_TIMEOUT,
                connect=CONNECT_TIMEOUT,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=timeout, headers={"User-Agent": self.user_agent}
            )
        return self._session

    async def close(self) -> None:
        """Close the session (on app shutdown)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def forget(self, url: str) -> None:
        """Drop ``url`` from the cache (after a Delete or Update of it)."""
        self._cache.pop(url, None)

    def _cached(self, url: str, max_age: float) -> dict[str, Any] | None:
        hit = self._cache.get(url)
        if hit and time.monotonic() - hit[0] < max_age:
            return hit[1]
        return None

    def _remember(self, url: str, doc: dict[str, Any]) -> None:
        _put_newest(self._cache, url, (time.monotonic(), doc), CACHE_SIZE)

    async def _check(self, url: str) -> None:
        await check_url(url, allow_private=self.settings.allow_private_addresses)

    async def _check_host(self, url: str) -> None:
        """``_check`` at most once per ``CHECKED_TTL`` for each scheme and host (what the check
        depends on): a delivery cycle POSTs to the same few hosts again and again, and for a
        host name each check is a resolution on the resolver's thread. A refusal is never
        remembered, and the connector's resolver still checks every connection it opens."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc.lower())
        now = time.monotonic()
        passed = self._checked.get(key)
        if passed is not None and now - passed < CHECKED_TTL:
            return
        await self._check(url)
        _put_newest(self._checked, key, now, CHECKED_SIZE)

    async def fetch_json(
        self,
        url: str,
        *,
        key_id: str | None = None,
        private_key_pem: str | None = None,
        accept: str = ACCEPT_AP,
        max_age: float = CACHE_TTL,
    ) -> dict[str, Any]:
        """GET a JSON object (signed when a key is given), following at most 3 checked redirects.

        A document fetched less than ``max_age`` seconds ago comes from the cache; ``max_age=0``
        fetches afresh and keeps nothing in the cache.
        """
        if max_age > 0 and (hit := self._cached(url, max_age)) is not None:
            return hit
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            await self._check(current)
            headers = {"Accept": accept}
            if key_id and private_key_pem:
                headers = sign_request(
                    "GET", current, headers, None, key_id, private_key_pem, keys=self.keys
                )
            try:
                async with self.session.get(
                    current, headers=headers, allow_redirects=False
                ) as resp:
                    if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                        current = urljoin(current, resp.headers["Location"])
                        continue
                    if resp.status == 410:
                        raise FetchError("gone", f"{current} is gone")
                    if resp.status >= 400:
                        raise FetchError(
                            f"http_{resp.status}", f"GET {current} answered {resp.status}"
                        )
                    body = await _read_limited(resp)
            except aiohttp.ClientError as exc:
                raise FetchError("network", f"GET {current}: {type(exc).__name__} {exc}") from None
            except TimeoutError:
                raise FetchError("timeout", f"GET {current} timed out") from None
            try:
                doc = jsonload.load(body, max_bytes=MAX_BODY)
            except jsonload.JSONRefused as exc:
                raise FetchError("not_json", f"{current} did not answer JSON: {exc}") from None
            if not isinstance(doc, dict):
                raise FetchError("not_json", f"{current} did not answer a JSON object")
            doc = vocab.normalise(doc)  # Koers terms of older instances, as ``koers:name``
            # Only cacheable fetches are remembered: a document fetched with max_age=0 (a refresh, or
            # one fetched as a particular actor) replaces nothing that others could read.
            if max_age > 0:
                self._remember(url, doc)
            else:
                self.forget(url)
            return doc
        raise FetchError("redirects", f"more than {MAX_REDIRECTS} redirects from {url}")

    async def post_signed(
        self, url: str, body: bytes, key_id: str, private_key_pem: str, *, content_type: str = AP
    ) -> tuple[int, Mapping[str, str]]:
        """POST ``body`` signed by ``key_id``; returns (status, response headers). No redirects.

        Network failures raise ``FetchError`` (reason ``network``, ``timeout``, ``private_address``).
        """
        await self._check(url)
        headers = sign_request(
            "POST", url, post_headers(content_type), body, key_id, private_key_pem, keys=self.keys
        )
        return await self._post(url, body, headers)

    async def post_presigned(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, Mapping[str, str]]:
        """``post_signed`` with headers signed beforehand (``post_headers`` plus the signature);
        the address check is remembered per host for ``CHECKED_TTL``."""
        await self._check_host(url)
        return await self._post(url, body, headers)

    async def _post(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, Mapping[str, str]]:
        try:
            async with self.session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                await resp.content.read(64 * 1024)
                return resp.status, resp.headers
        except aiohttp.ClientError as exc:
            raise FetchError("network", f"POST {url}: {type(exc).__name__} {exc}") from None
        except TimeoutError:
            raise FetchError("timeout", f"POST {url} timed out") from None

    async def post_bytes(
        self, url: str, body: bytes, headers: Mapping[str, str], *, total: float | None = None
    ) -> int:
        """POST ``body`` with ``headers`` (no signature, no redirects; e.g. a Web Push message); the status.

        The same address guard, limits and failures as ``post_signed``; ``total``: at most this many
        seconds for the whole exchange (a ``timeout`` failure after).
        """
        await self._check(url)
        timeout = aiohttp.ClientTimeout(
            total=total,
            sock_connect=CONNECT_TIMEOUT,
            sock_read=READ_TIMEOUT,
            connect=CONNECT_TIMEOUT,
        )
        try:
            async with self.session.post(
                url, data=body, headers=dict(headers), allow_redirects=False, timeout=timeout
            ) as resp:
                await resp.content.read(64 * 1024)
                return resp.status
        except aiohttp.ClientError as exc:
            raise FetchError("network", f"POST {url}: {type(exc).__name__} {exc}") from None
        except TimeoutError:
            raise FetchError("timeout", f"POST {url} timed out") from None


async def _read_limited(resp: aiohttp.ClientResponse) -> bytes:
    length = resp.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise FetchError("too_large", f"{resp.url} is larger than {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            raise FetchError("too_large", f"{resp.url} is larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
