"""One place that turns exceptions into answers, plus session cookies and security headers.

JSON ``{"error": …}`` for the API and OAuth, a bare status for ActivityPub, a friendly page for
HTML. A full or read-only storage (``server.storage.faults``) is a 507 or 503 with a clear message,
logged once a minute. Other unexpected exceptions are logged with their traceback and answered with
a plain 500: no internal detail reaches a client or a remote server.
"""

from __future__ import annotations

import logging

from aiohttp import web

from server.errors import KoersError, RateLimited
from server.http import session
from server.http.pages import render_error
from server.keys import SETTINGS
from server.storage import faults

log = logging.getLogger(__name__)

FAULTS = web.AppKey("storage_fault_reporter", faults.Reporter)
FAULT_RETRY_AFTER = "60"

AP_TYPES = ("application/activity+json", "application/ld+json")


def wants_json(request: web.Request) -> bool:
    path = request.path
    return path.startswith(("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/", "/nodeinfo"))


def is_activitypub(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    ctype = request.headers.get("Content-Type", "")
    return (
        any(t in accept for t in AP_TYPES)
        or any(t in ctype for t in AP_TYPES)
        or request.path.endswith("/inbox")
    )


async def _error_response(
    request: web.Request,
    status: int,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    if wants_json(request):
        body: dict[str, object] = {"error": message}
        if field:
            body["error_description"] = message
            body["field"] = field
        return web.json_response(body, status=status, headers=headers)
    if is_activitypub(request):
        return web.json_response({"error": message}, status=status, headers=headers)
    try:
        return await render_error(request, status, message, headers=headers)
    except Exception:  # the error page itself failed (e.g. database down): answer in plain text
        log.exception("rendering the error page failed")
        return web.Response(status=status, text=message, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        response = await handler(request)
    except RateLimited as exc:
        return await _error_response(
            request, exc.status, exc.message, headers={"Retry-After": str(exc.retry_after)}
        )
    except KoersError as exc:
        return await _error_response(request, exc.status, exc.message, field=exc.field)
    except web.HTTPException as exc:
        if exc.status >= 400:
            reason = (
                exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
            )
            resp = await _error_response(request, exc.status, reason or "error")
            for name in ("Allow", "Retry-After", "WWW-Authenticate"):
                if name in exc.headers:
                    resp.headers[name] = exc.headers[name]
        else:
            # Redirects: answer them ourselves so the session cookie rides along.
            resp = web.Response(status=exc.status, headers=exc.headers)
        _save_session(request, resp)
        return resp
    except (
        ConnectionResetError
    ):  # the client went away mid-body: nobody to answer, no fault of ours
        log.debug("client went away during %s %s", request.method, request.path)
        return web.Response(status=400, text="the request was not received whole")
    except (
        Exception
    ) as exc:  # the one place unexpected errors end: logged with traceback, answered 500
        fault = faults.classify(exc)
        if fault is not None:
            return await _storage_fault(request, fault, exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return await _error_response(request, 500, "internal server error")
    _save_session(request, response)
    return response


async def _storage_fault(
    request: web.Request, fault: faults.Fault, exc: Exception
) -> web.StreamResponse:
    """A full disk is 507, read-only storage 503, both with Retry-After; an inbox always answers
    503, which senders retry. Logged once a minute, not once per request."""
    request.app[FAULTS].report(fault, exc, f"{request.method} {request.path}")
    inbox = request.path.endswith("/inbox")
    status = 507 if fault is faults.Fault.FULL and not inbox else 503
    return await _error_response(
        request, status, faults.MESSAGES[fault], headers={"Retry-After": FAULT_RETRY_AFTER}
    )


def _save_session(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared:
        return
    session.save(request, response, request.app[SETTINGS].secret)


@web.middleware
async def security_headers_middleware(request: web.Request, handler):
    response = await handler(request)
    if not response.prepared:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.content_type == "text/html":
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' https: http: data:; style-src 'self' 'unsafe-inline'; "
                "script-src 'self'; frame-ancestors 'none'; form-action 'self' http: https:",
            )
    return response
