"""The exception hierarchy of Koers.

Services raise these; one middleware (``server.web.middleware``) turns them into HTTP answers:
JSON for the API, a friendly page for HTML, a bare status for ActivityPub.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class KoersError(Exception):
    """Base of every expected failure. ``status`` is the HTTP status it maps to; ``errors`` holds
    every field's error when a form was checked whole (``FieldErrors``), the message and field
    being the first of them."""

    status = 400

    def __init__(
        self, message: str, *, field: str | None = None, errors: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = dict(errors) if errors else ({field: message} if field else {})


class ConfigError(KoersError):
    """A setting is wrong; reported as one line at start-up."""


class ValidationError(KoersError):
    """Input is malformed or out of range."""

    status = 422


class FieldErrors:
    """Collects the errors of a form's fields, so a form shows them all at once; raising gives
    the first as before (an API client reads one message) and all of them in ``errors``."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        """Note an error of ``field`` (the first one of each field counts)."""
        self.errors.setdefault(field, message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    @contextlib.contextmanager
    def check(self, field: str | None = None) -> Iterator[None]:
        """Run a block that may raise ValidationError; its errors are noted, not raised."""
        try:
            yield
        except ValidationError as exc:
            found = exc.errors or {exc.field or field or "form": exc.message}
            for name, message in found.items():
                self.add(name, message)

    def raise_any(self) -> None:
        """Raise the collected errors as one ValidationError (nothing when there are none)."""
        if self.errors:
            field, message = next(iter(self.errors.items()))
            raise ValidationError(message, field=field, errors=self.errors)


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
