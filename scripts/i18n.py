"""Keep the interface's catalogues up to date: ``python scripts/i18n.py update`` adds the new
strings of templates and code to ``server/locale/*/LC_MESSAGES/messages.po`` (untranslated) and
drops unused ones; ``python scripts/i18n.py missing`` lists what still needs a translation."""

from __future__ import annotations

import sys

from server.i18n import LANGUAGES, extract


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "update"
    if command == "update":
        for language, count in extract.update().items():
            sys.stdout.write(f"{language}: {count} strings to translate\n")
        return 0
    if command == "missing":
        left = 0
        for language in LANGUAGES[1:]:
            for message in extract.missing(language):
                sys.stdout.write(f"{language}: {message}\n")
                left += 1
        return 1 if left else 0
    sys.stderr.write(__doc__ + "\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
