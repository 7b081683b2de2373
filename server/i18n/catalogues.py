"""Loading the catalogues: ``server/locale/<lang>/LC_MESSAGES/messages.po``, compiled in memory.

The ``.po`` files are the only form kept in the repository: each is compiled once per process,
the first time its language is asked for, so an editable install or a fresh checkout needs no
build step.
"""

from __future__ import annotations

import functools
import io
import logging
from pathlib import Path

from babel.messages import mofile, pofile
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"


def po_path(language: str) -> Path:
    """Where the catalogue of ``language`` lives."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> NullTranslations:
    """The translations of ``language`` (the strings as written when it has no catalogue)."""
    path = po_path(language)
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as f:
        catalog = pofile.read_po(f, locale=language)
    buffer = io.BytesIO()
    mofile.write_mo(buffer, catalog)
    buffer.seek(0)
    log.debug("compiled %s (%d messages)", path, len(catalog))
    return Translations(buffer, domain=DOMAIN)
