"""Templates in the current language: Jinja's i18n extension (``_()``, ``{% trans %}``) bound to
``server.i18n``, and filters that format numbers and dates for the language."""

from __future__ import annotations

import jinja2

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
    env.globals.update(current_language=current.current_language, language_names=NAMES)
    env.filters.update(number=fmt.number, date=fmt.date, date_time=fmt.date_time)
