"""The access log, with secrets taken out of what it writes.

A request line carries secrets in its query string (``/api/v1/streaming?access_token=…``, an
OAuth ``code``, ``state`` or ``code_verifier``, a ``password`` or ``_csrf`` in a form sent by GET), and so may a ``Referer``.
``RedactingAccessLogger`` writes the usual fields with those values replaced by ``[redacted]``;
``ACCESS_LOG`` holds the runner options that install it (``koers serve`` and the tests use them).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

from aiohttp.web_log import AccessLogger

REDACTED = "[redacted]"
# A parameter is secret when its name is one of these, or contains one of the words after.
SECRET_NAMES = frozenset({"code", "state", "signature", "sig", "key", "otp"})
SECRET_WORDS = (
    "token",
    "password",
    "passwd",
    "secret",
    "verifier",
    "csrf",
    "credential",
    "session",
)
# Links sent by e-mail carry their token in the path: /password/reset/<token>, /mail/confirm/<token> …
_PATH_TOKEN = re.compile(
    r"(?P<lead>/(?:password/reset|mail/(?:confirm|change|unsubscribe))/)[^/?#\s\"]+"
)
_PARAM = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#\s]+)=(?P<value>[^&;#\s\"]*)")


def _secret(name: str) -> bool:
    key = unquote_plus(name).lower()
    return key in SECRET_NAMES or any(word in key for word in SECRET_WORDS)


def redact(text: str) -> str:
    """``text`` with the values of secret query parameters (and mailed link tokens) replaced by
    ``[redacted]``."""
    text = _PATH_TOKEN.sub(lambda m: m["lead"] + REDACTED, text)
    if "=" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        if not _secret(m["name"]):
            return m[0]
        return f"{m['lead']}{m['name']}={REDACTED}"

    return _PARAM.sub(one, text)


class RedactingAccessLogger(AccessLogger):
    """aiohttp's access logger, each field passed through ``redact`` before it is written."""

    def _format_line(self, request: Any, response: Any, time: float) -> Any:
        return [
            (key, redact(value) if isinstance(value, str) else value)
            for key, value in super()._format_line(request, response, time)
        ]


ACCESS_LOG: dict[str, Any] = {
    "access_log_class": RedactingAccessLogger,
    "access_log_format": '%a "%r" %s %b %Tfs',
}
