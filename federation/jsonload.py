"""The one JSON decoder for everything that comes from the network.

Inbox bodies, API bodies, the streaming socket's control messages and fetched documents are all
read with :func:`load`. It refuses, with a ``JSONRefused`` naming the reason, a document that is
not JSON, is larger than ``max_bytes`` (1 MiB unless the caller asks for less), or nests objects
and arrays deeper than ``MAX_DEPTH`` (64) levels. The depth limit is ours and checked here, not
left to the parser: Python's ``json`` raises ``RecursionError`` a few thousand levels down, some
``orjson`` versions have no limit at all (and crash on a 1 MB ``[[[[…``), and a parser's own limit
may change with its version; so the depth is judged on the brackets before anything is parsed.
Parsing is ``orjson`` (strict JSON: no ``NaN``, no lone surrogates; integers beyond 64 bits are
read as floats).

A leaf: it imports nothing of ``server/`` or ``federation/``, so both may use it.
"""

from __future__ import annotations

import re
from itertools import accumulate, repeat
from operator import sub
from typing import Any

import orjson

MAX_DEPTH = 64  # objects and arrays inside each other; ActivityPub documents need fewer than 10
MAX_BYTES = 1024 * 1024


class JSONRefused(ValueError):
    """A network document we do not read; ``reason`` is a short code, ``str()`` says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = bytes.maketrans(b"[]{}", b"\x02\x00\x02\x00")  # a step up is 2 - 1, down 0 - 1


def _too_deep(data: bytes, limit: int) -> bool:
    """Whether the brackets of ``data`` outside strings nest deeper than ``limit``.

    Judged before parsing (a recursive parser may exhaust the C stack on a 1 MB ``[[[[…``): the
    strings are taken out, the brackets kept, and the deepest running count of open ones taken,
    all in C loops (about 0.1 s for the worst 1 MB).
    """
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    if len(brackets) <= 2 * limit:
        return False
    return max(accumulate(map(sub, brackets.translate(_STEPS), repeat(1)))) > limit


def load(data: bytes | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Decode ``data`` as JSON within the limits; raises ``JSONRefused`` (a ``ValueError``)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise JSONRefused("too_large", f"the JSON document is larger than {max_bytes} bytes")
    if _too_deep(raw, max_depth):
        raise JSONRefused("too_deep", f"JSON nested deeper than {max_depth} levels")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise JSONRefused("not_json", "not valid JSON") from None
