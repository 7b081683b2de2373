"""Reading API parameters the way Mastodon clients send them: query, form, multipart or JSON.

Everything is flattened to Rails-style keys so handlers read one shape: a JSON body
``{"poll": {"options": ["a", "b"]}}`` and the form fields ``poll[options][]=a&poll[options][]=b``
both become ``poll[options] -> ["a", "b"]``. Wrong types are a ValidationError naming the field.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from federation import jsonload
from server.errors import BadRequest, ValidationError

_TRUE = {"true", "1", "on", "yes", "t"}
_FALSE = {"false", "0", "off", "no", "f", ""}
MAX_JSON_BYTES = 1024 * 1024


def truthy(value: object) -> bool:
    """A loosely given yes (``true``, ``1``, ``on`` …), as in nested form fields ``Params.bool`` cannot name."""
    return value is True or str(value).strip().lower() in _TRUE


@dataclass(slots=True)
class Params:
    """Flattened parameters (``key -> list of values``) plus uploaded files (``key -> FileField``)."""

    values: dict[str, list[Any]] = field(default_factory=dict)
    files: dict[str, web.FileField] = field(default_factory=dict)

    def add(self, key: str, value: Any) -> None:
        if key.endswith("[]"):
            key = key[:-2]
        self.values.setdefault(key, []).append(value)

    def __contains__(self, key: str) -> bool:
        return key in self.values or key in self.files

    def str(
        self, key: str, default: str | None = None, *, max_len: int | None = None
    ) -> str | None:
        vals = self.values.get(key)
        if not vals:
            return default
        value = vals[-1]
        if value is None:
            return default
        if isinstance(value, (dict, list)):
            raise ValidationError(f"{key}: must be a string", field=key)
        text = (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, bool)
            else str(value)
        )
        if max_len is not None and len(text) > max_len:
            raise ValidationError(f"{key}: at most {max_len} characters", field=key)
        return text

    def bool(self, key: builtins.str, default: bool | None = None) -> bool | None:
        vals = self.values.get(key)
        if not vals or vals[-1] is None:
            return default
        value = vals[-1]
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValidationError(f"{key}: must be true or false", field=key)

    def int(
        self, key: builtins.str, default: int | None = None, *, minimum: int | None = None
    ) -> int | None:
        text = self.str(key)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            raise ValidationError(f"{key}: must be a whole number", field=key) from None
        if minimum is not None and value < minimum:
            raise ValidationError(f"{key}: must be at least {minimum}", field=key)
        return value

    def id(self, key: builtins.str) -> builtins.int | None:
        """An object id (Mastodon ids are strings of digits)."""
        text = self.str(key)
        if text is None or text == "":
            return None
        if not text.isascii() or not text.isdigit() or len(text) > 18:
            raise ValidationError(f"{key}: not a valid id", field=key)
        return int(text)

    def list(self, key: builtins.str) -> builtins.list[builtins.str]:
        out: builtins.list[builtins.str] = []
        for value in self.values.get(key, []):
            if isinstance(value, list):
                out.extend(
                    str(v) for v in value if v is not None and not isinstance(v, (dict, list))
                )
            elif isinstance(value, dict):
                raise ValidationError(f"{key}: must be a list", field=key)
            elif value is not None:
                out.append(str(value))
        return out

    def ids(self, key: builtins.str) -> builtins.list[builtins.int]:
        out = []
        for text in self.list(key):
            if not text.isascii() or not text.isdigit() or len(text) > 18:
                raise ValidationError(f"{key}: not a valid id", field=key)
            out.append(int(text))
        return out

    def indexed(self, prefix: builtins.str) -> builtins.list[dict[builtins.str, builtins.str]]:
        """``fields_attributes[0][name]`` style groups, in index order."""
        groups: dict[builtins.str, dict[builtins.str, builtins.str]] = {}
        start = prefix + "["
        for key, vals in self.values.items():
            if key.startswith(start) and "][" in key:
                index, _, rest = key[len(start) :].partition("][")
                groups.setdefault(index, {})[rest.rstrip("]")] = (
                    str(vals[-1]) if vals[-1] is not None else ""
                )
        return [groups[k] for k in sorted(groups, key=lambda k: (len(k), k))]


def _flatten(params: Params, prefix: str, value: Any) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(params, f"{prefix}[{k}]" if prefix else str(k), v)
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):
            _flatten(params, f"{prefix}[{i}]", v)
    elif isinstance(value, list):
        # Kept as one value: ``list()`` reads it, ``str()`` refuses it (a list where text belongs).
        params.values.setdefault(prefix, []).append(value)
    else:
        params.add(prefix, value)


async def read(request: web.Request, *, files: bool = False) -> Params:
    """Query parameters and the body (JSON, urlencoded or, with ``files``, multipart)."""
    params = Params()
    for key, value in request.query.items():
        params.add(key, value)
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.body_exists:
        return params
    ctype = request.content_type
    if ctype == "application/json":
        if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
            raise ValidationError("the request body is too large")
        raw = await request.read()
        if len(raw) > MAX_JSON_BYTES:
            raise ValidationError("the request body is too large")
        try:
            body = jsonload.load(raw, max_bytes=MAX_JSON_BYTES)
        except jsonload.JSONRefused as exc:
            raise BadRequest(f"the request body is not valid JSON: {exc.message}") from None
        if not isinstance(body, dict):
            raise ValidationError("the request body must be a JSON object")
        _flatten(params, "", body)
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if (
            ctype == "multipart/form-data"
            and not files
            and (request.content_length or 0) > MAX_JSON_BYTES
        ):
            raise ValidationError("the request body is too large")
        data = await request.post()
        for name, part in data.items():
            if isinstance(part, web.FileField):
                params.files[name] = part
            else:
                params.add(name, part)
    return params


def unset(value: str | None) -> bool:
    """Mastodon.py sends the literal strings ``None``/``False`` for parameters it did not set."""
    return value is None or value.strip() in ("", "None", "False", "null")
