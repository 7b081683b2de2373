"""The interface in more than one language: gettext catalogues (Babel) and the current language.

``gettext``/``ngettext`` translate into the language of the page or message being made (a
context variable set by ``use``); ``N_`` marks a string for the catalogue without translating it
(for tables of labels translated where they are shown). See README "Languages".
"""

from __future__ import annotations

from server.config import LANGUAGES
from server.i18n.current import (
    N_,
    current_language,
    gettext,
    ngettext,
    use,
)

NAMES = {"en": "English", "nl": "Nederlands"}  # each language in its own words

__all__ = ["LANGUAGES", "NAMES", "N_", "current_language", "gettext", "ngettext", "use"]
