"""Fragments rendered once and kept (``web/card_cache.py``'s footers, ``web/compose_cache.py``'s
compose form) are byte for byte what their macros render for the same data, with the page's own
CSRF token, form token and way back put in — on the first render and from the cache, in English
and in Dutch."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import jinja2
import pytest

from server import i18n
from server.config import templates_dir
from server.i18n import jinja as i18n_jinja
from server.visibility import Audience
from server.web import card_cache, cards, compose_cache
from server.web.compose import ComposeOptions

CSRF = 'tok&"<en>'  # a token as odd as any: escaped where it goes
BACK = '/c/x?max_id=5&a="b"#p7'


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    i18n_jinja.install(env)
    cards.install(env)
    env.globals["card_footer"] = card_cache.card_footer_renderer(env)
    compose_cache.install(env)
    return env


@dataclass
class _Author:
    username: str = "ana"


@dataclass
class _Shown:
    id: int = 7
    author: _Author = field(default_factory=_Author)
    url: str = "https://koers.test/@ana/7"
    replies_count: int = 1
    reblogs_count: int = 1234
    favourites_count: int = 0
    local: bool = True
    audience: Audience = Audience.PUBLIC
    reblogged: bool = False
    favourited: bool = False
    kind: str = "note"


SHOWN = [
    _Shown(),
    _Shown(favourited=True, favourites_count=2, kind="result"),
    _Shown(reblogged=True, audience=Audience.FOLLOWERS),
    _Shown(local=False),
]


def _direct_footer(env: jinja2.Environment, shown: Any, link: bool, me: bool) -> str:
    fields = card_cache.FooterFields(
        shown.id,
        shown.author.username,
        shown.url,
        link,
        shown.replies_count,
        shown.reblogs_count,
        shown.favourites_count,
        shown.local,
        shown.audience,
        shown.reblogged,
        shown.favourited,
        shown.kind,
    )
    macros = env.get_template("macros.html").module
    return str(macros.card_footer_html(fields, me, CSRF, BACK))  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["en", "nl"])
def test_a_kept_footer_is_the_macros_footer(language: str) -> None:
    env = _env()
    page = env.from_string("{{ card_footer(shown, link, back) }}")
    with i18n.use(language):
        for shown in SHOWN:
            for link in (True, False):
                for me in (None, {"username": "bo"}):
                    expected = _direct_footer(env, shown, link, bool(me))
                    for _ in range(2):  # rendered, then from the cache
                        got = page.render(shown=shown, link=link, back=BACK, me=me, csrf_token=CSRF)
                        assert got == expected


def _options(token: str, choices: list[tuple[str, str]]) -> ComposeOptions:
    return ComposeOptions(token=token, default_audience="followers", community_choices=choices)


@dataclass
class _Community:
    id: int = 3
    name: str = 'Energy & "co"'


@pytest.mark.parametrize("language", ["en", "nl"])
def test_a_kept_compose_form_is_the_macros_form(language: str) -> None:
    env = _env()
    kept = env.from_string("{{ compose_fragment(o, values, community=community, id=form_id) }}")
    direct = env.from_string(
        '{% from "_compose.html" import compose_form with context %}'
        "{{ compose_form(o, values, {}, community=community, id=form_id, compact=True) }}"
    )
    joined = [("", "— none —"), ("3", "Energy"), ("4", "Water (remote.test)")]
    cases: list[dict[str, Any]] = [
        {"values": {}, "community": None, "form_id": "c"},
        {"values": {"audience": "community"}, "community": _Community(), "form_id": "cc"},
    ]
    with i18n.use(language):
        for case in cases:
            for choices in (joined, joined[:1]):
                for n, token in enumerate(("first-token", "second&token")):
                    o = _options(token, choices)
                    csrf = f"{CSRF}{n}"
                    expected = direct.render(o=o, csrf_token=csrf, **case)
                    assert token.replace("&", "&amp;") in expected
                    assert kept.render(o=o, csrf_token=csrf, **case) == expected
                    other = replace(o, default_audience="public")
                    assert kept.render(o=other, csrf_token=csrf, **case) == direct.render(
                        o=other, csrf_token=csrf, **case
                    )
