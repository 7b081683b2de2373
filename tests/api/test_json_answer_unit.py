"""``api.common.json``: orjson without options where it can, string keys where an answer maps ids."""

from __future__ import annotations

import orjson
import pytest

from server.api.common import json


def test_an_answer_is_json_with_its_content_type() -> None:
    resp = json({"id": "1", "n": [1, 2]}, status=201)
    assert resp.status == 201 and resp.content_type == "application/json"
    assert orjson.loads(resp.body) == {"id": "1", "n": [1, 2]}


def test_keys_that_are_not_strings_are_written_as_strings() -> None:
    assert orjson.loads(json({7: "seven", "x": {8: True}}).body) == {"7": "seven", "x": {"8": True}}


def test_a_value_json_cannot_hold_is_still_refused() -> None:
    with pytest.raises(TypeError):
        json({"x": object()})
