"""Failures of the federation transport, each with a short machine-readable ``reason``."""

from __future__ import annotations


class FederationError(Exception):
    """Base of federation failures; ``reason`` is a short code, ``detail`` a human sentence."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class FetchError(FederationError):
    """A remote document could not be fetched (``private_address``, ``too_large``, ``http_404`` …)."""


class Ignore(FederationError):
    """Raised by an inbox handler: the activity is understood but deliberately ignored.

    ``Ignore("not addressed to anyone here")``: the reason is recorded on the activity row.
    """


class ActorError(FederationError):
    """A remote actor document is unusable (wrong type, id on another host, no key …)."""


# Failures that may pass if tried again later; any other ``FederationError`` is final.
TRANSIENT = frozenset({"network", "timeout", "dns", "http_408", "http_429"})


def is_permanent(exc: BaseException) -> bool:
    """Whether ``exc`` will fail again however often it is retried (a document that does not parse,
    is gone, too large, on a refused address …); network trouble and 5xx answers are transient."""
    if not isinstance(exc, FederationError):
        return False
    return exc.reason not in TRANSIENT and not exc.reason.startswith("http_5")
