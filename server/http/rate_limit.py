"""Enforced request limits, as Mastodon's defaults, with truthful ``X-RateLimit-*`` headers.

Every ``/api/`` request counts against one budget, ``rate_limit_requests`` per
``rate_limit_window`` seconds (300 per 5 minutes), keyed by the access token when the request
carries one and by the client address when anonymous. A few actions have a stricter budget of
their own on top (``RULES``: sign-up, login, media uploads, new posts). Over a budget the answer is
``429`` with ``Retry-After``; every API answer says ``X-RateLimit-Limit``, ``-Remaining`` and
``-Reset`` of the tightest budget it counted against.

Windows are fixed (they start at multiples of their length since the epoch), so ``Reset`` is the
moment the counts really start again. Counts are kept per process, in one dict per budget that is
dropped whole when its window turns: a request costs a dict lookup or two, never a database
statement. Several processes behind one proxy each enforce the budget on their own.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from server.config import Settings
from server.errors import RateLimited


@dataclass(frozen=True, slots=True)
class Rule:
    """A budget: ``limit`` requests per ``window`` seconds per token (or address)."""

    name: str
    limit: int
    window: int
    by_token: bool = True  # False: always per address (sign-up, login come before any token)


SIGN_UP = Rule("sign_up", 25, 300, by_token=False)
LOGIN = Rule("login", 25, 300, by_token=False)
MEDIA = Rule("media", 30, 1800)
STATUSES = Rule("statuses", 300, 3 * 3600)

# The stricter budgets by (method, path); Mastodon's defaults.
RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/accounts"): SIGN_UP,
    ("POST", "/signup"): SIGN_UP,
    ("POST", "/login"): LOGIN,
    ("POST", "/oauth/token"): LOGIN,
    ("POST", "/api/v1/media"): MEDIA,
    ("POST", "/api/v2/media"): MEDIA,
    ("POST", "/api/v1/statuses"): STATUSES,
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a request stands against the tightest budget it counted against."""

    limit: int
    remaining: int
    reset: int  # epoch seconds when the window turns
    exceeded: bool


class Counter:
    """Counts of one rule in its current fixed window."""

    __slots__ = ("rule", "window_start", "counts")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.window_start = 0
        self.counts: dict[str, int] = {}

    def hit(self, key: str, now: int) -> Verdict:
        """Count one request for ``key`` at ``now`` (epoch seconds)."""
        start = now - now % self.rule.window
        if start != self.window_start:
            self.window_start, self.counts = start, {}
        count = self.counts.get(key, 0) + 1
        self.counts[key] = count
        limit = self.rule.limit
        return Verdict(limit, max(0, limit - count), start + self.rule.window, count > limit)


class RateLimiter:
    """The counters of one process: the general API budget and the stricter ones."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.api = Counter(Rule("api", settings.rate_limit_requests, settings.rate_limit_window))
        self.strict = {key: Counter(rule) for key, rule in RULES.items()}
        # the same rule on two paths shares one counter (sign-up by the API or the page)
        by_rule: dict[str, Counter] = {}
        for key, counter in self.strict.items():
            self.strict[key] = by_rule.setdefault(counter.rule.name, counter)

    def check(self, request: web.Request, now: int | None = None) -> Verdict | None:
        """Count ``request``; None when no budget applies to it. The verdict is the exceeded
        budget that frees last, else the one with the fewest requests left."""
        path = request.path
        strict = self.strict.get((request.method, path)) if request.method == "POST" else None
        is_api = path.startswith("/api/") and request.method != "OPTIONS"
        if strict is None and not is_api:
            return None
        address = client_address(request)
        auth = request.headers.get("Authorization")
        # keyed by a hash of the token, never the token itself
        token = "t:" + hashlib.sha256(auth.encode()).hexdigest() if auth else "a:" + address
        now = int(time.time()) if now is None else now
        verdicts = [self.api.hit(token, now)] if is_api else []
        if strict is not None:
            verdicts.append(strict.hit(token if strict.rule.by_token else "a:" + address, now))
        exceeded = [v for v in verdicts if v.exceeded]
        if exceeded:
            return max(exceeded, key=lambda v: v.reset)
        return min(verdicts, key=lambda v: v.remaining)

    def enforced_for(self, request: web.Request) -> bool:
        """Whether over-budget requests are refused: on unless switched off, or from loopback
        when the operator exempts it."""
        settings = self.settings
        if not settings.rate_limit:
            return False
        return settings.rate_limit_loopback or not _is_loopback(client_address(request))


LIMITER = web.AppKey("rate_limiter", RateLimiter)
VERDICT = web.RequestKey("rate_limit_verdict", Verdict)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def client_address(request: web.Request) -> str:
    """The client's address: ``X-Forwarded-For``'s nearest untrusted hop when a trusted proxy
    forwarded the request, else the peer address."""
    peer = request.remote or "unknown"
    trusted = request.app[LIMITER].settings.trusted_proxies if LIMITER in request.app else ()
    forwarded = request.headers.get("X-Forwarded-For") if peer in trusted else None
    if forwarded:
        for hop in reversed(forwarded.split(",")):
            hop = hop.strip()
            if hop and hop not in trusted:
                return hop[:64]
    return peer


def _is_loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count a request; refuse it over its budget with 429 (rendered by the error middleware)."""
    limiter = request.app[LIMITER]
    verdict = limiter.check(request)
    if verdict is not None:
        request[VERDICT] = verdict
        if verdict.exceeded and limiter.enforced_for(request):
            retry = max(1, verdict.reset - int(time.time()))
            raise RateLimited("Too many requests", retry_after=retry)
    return await handler(request)


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    verdict = request.get(VERDICT)
    if verdict is None:
        return
    response.headers["X-RateLimit-Limit"] = str(verdict.limit)
    response.headers["X-RateLimit-Remaining"] = str(verdict.remaining)
    response.headers["X-RateLimit-Reset"] = time.strftime(
        "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(verdict.reset)
    )


def install(app: web.Application, settings: Settings) -> None:
    """Give ``app`` its limiter and the header hook (the middleware is in ``create_app``'s list)."""
    app[LIMITER] = RateLimiter(settings)
    app.on_response_prepare.append(_add_headers)
