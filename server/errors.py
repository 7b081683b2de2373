"""The exception hierarchy of Koers.

Services raise these; one middleware (``server.web.middleware``) turns them into HTTP answers:
JSON for the API, a friendly page for HTML, a bare status for ActivityPub.
"""

from __future__ import annotations


class KoersError(Exception):
    """Base of every expected failure. ``status`` is the HTTP status it maps to."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConfigError(KoersError):
    """A setting is wrong; reported as one line at start-up."""


class ValidationError(KoersError):
    """Input is malformed or out of range."""

    status = 422


class BadRequest(KoersError):
    status = 400


class NotAuthenticated(KoersError):
    status = 401


class Forbidden(KoersError):
    status = 403


class NotFound(KoersError):
    status = 404


class Gone(KoersError):
    status = 410


class Conflict(KoersError):
    status = 409


class TooLarge(KoersError):
    status = 413


class UnsupportedMedia(KoersError):
    status = 415


class RateLimited(KoersError):
    status = 429

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after
