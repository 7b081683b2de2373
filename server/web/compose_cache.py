"""The compose form as the home and community pages show it, rendered once per member's choices.

``templates/_compose.html`` renders the same form for every page view of a member: only its CSRF
token and its fresh form token differ. ``compose_fragment(o, values)`` (a Jinja global) renders
``compose_form``, compact (the short form above a feed), once per (language, the choices of ``o``,
the values, the community, the form's id) with markers where the two tokens go, keeps it (least
recently used dropped) and puts the tokens in on every page. A form with errors, or a reply form, is rendered as it is by
``compose_form`` itself.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import jinja2
from markupsafe import Markup, escape

from server.i18n.current import current_language
from server.web.card_cache import CSRF_MARK

TOKEN_MARK = "\x00token\x00"
FORMS = 1024  # forms kept: one per language and member's choices (their communities, audience)


def _key(o: Any, values: Mapping[str, Any], community: Any, form_id: str) -> Hashable:
    return (
        current_language(),  # the labels, the audiences' names included, are translated
        o.default_audience,
        tuple(o.community_choices),
        # the picker shows each audience's name and explanation: both are in its label
        tuple((value, str(label)) for value, label in o.audiences),
        o.max_chars,
        o.max_media,
        o.max_poll_options,
        o.max_poll_chars,
        tuple(o.poll_durations),
        tuple(o.media_fields),
        tuple(sorted(values.items())),
        None if community is None else (community.id, community.name),
        form_id,
    )


def compose_renderer(env: jinja2.Environment) -> Callable[..., Markup]:
    """``compose_fragment(o, values, community=None, id="c")`` for the templates of ``env``."""
    kept: OrderedDict[Hashable, str] = OrderedDict()

    @jinja2.pass_context
    def compose_fragment(
        context: jinja2.runtime.Context,
        o: Any,
        values: Mapping[str, Any],
        community: Any = None,
        id: str = "c",  # noqa: A002 — the name ``compose_form`` gives it
    ) -> Markup:
        key = _key(o, values, community, id)
        html = kept.get(key)
        if html is None:
            module = env.get_template("_compose.html").make_module({"csrf_token": CSRF_MARK})
            form = module.compose_form  # type: ignore[attr-defined]
            marked = dataclasses.replace(o, token=TOKEN_MARK)
            html = str(form(marked, dict(values), {}, community=community, id=id, compact=True))
            kept[key] = html
            while len(kept) > FORMS:
                kept.popitem(last=False)
        else:
            kept.move_to_end(key)
        csrf = context.get("csrf_token")
        html = html.replace(CSRF_MARK, str(escape(csrf)) if csrf is not None else "")
        return Markup(html.replace(TOKEN_MARK, str(escape(o.token))))

    return compose_fragment


def install(env: jinja2.Environment) -> None:
    """Make ``compose_fragment`` a global of ``env``'s templates."""
    env.globals["compose_fragment"] = compose_renderer(env)
