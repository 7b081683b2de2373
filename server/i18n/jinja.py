"""Templates in the current language: Jinja's i18n extension (``_()``, ``{% trans %}``) bound to
``server.i18n``, and filters that format numbers and dates for the language."""

from __future__ import annotations

import functools
from typing import Any

import jinja2
from markupsafe import Markup

from server.i18n import NAMES, current
from server.i18n import formatting as fmt


def install(env: jinja2.Environment) -> None:
    """Give ``env`` the gettext functions (new style: ``_("Hi %(name)s", name=n)``, autoescaped)
    and the ``number``, ``date`` and ``date_time`` filters."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the extension
        current.gettext,
        current.ngettext,
        newstyle=True,
        pgettext=current.pgettext,
        npgettext=current.npgettext,
    )
    # ``_()`` and ``gettext()`` as the extension makes them (new style), with a message's escaped
    # text kept per language: a page asks for a hundred or more, mostly the same each time
    env.globals.update(gettext=_gettext, _=_gettext)
    env.globals.update(current_language=current.current_language, language_names=NAMES)
    env.filters.update(number=fmt.number, date=fmt.date, date_time=fmt.date_time)


@functools.lru_cache(maxsize=4096)
def _escaped(_language: str, message: str) -> Markup:
    """``message`` in the current language (``_language``, the key) as an autoescaped template
    shows it without variables; catalogues are read once per process, so this never changes."""
    return Markup(current.gettext(message)) % {}


@jinja2.pass_context
def _gettext(__context: jinja2.runtime.Context, __string: str, **variables: Any) -> str:
    """Jinja's new-style ``gettext`` (``jinja2.ext``): the translation, escaped when the template
    autoescapes, always formatted with ``variables`` (so "%%" is "%" with or without them)."""
    if __context.eval_ctx.autoescape:
        if not variables and type(__string) is str:
            return _escaped(current.current_language(), __string)
        rv: str = Markup(current.gettext(__string))
    else:
        rv = current.gettext(__string)
    return rv % variables
