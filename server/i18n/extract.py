"""Finding every string of the interface and keeping the catalogues up to date (Babel).

Templates (``templates/``, the mail ones too) are read by Jinja's Babel extractor: ``_()``,
``gettext()``, ``ngettext()``, ``{% trans %}`` and ``plural(n, "one", "many")``. Python modules of
the web side (``server/web``, ``server/http``, ``server/services``, ``server/i18n``) are read by
``extract_python``: ``_()``/``N_()``/``gettext()``/``ngettext()``, and the literal messages people
see without any marking — ``raise ValidationError("…")`` (any ``KoersError``), ``flash(request,
"…")``, ``FieldErrors.add("field", "…")`` and ``message="…"``/``error="…"`` passed to a page.
f-strings cannot be looked up and stay English: write ``Message("… %(n)s …", n=…)``
(``server.i18n.messages``), which the page translates with its values, or ``N_("… %(n)s …")`` and
format after translating.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from server.config import templates_dir
from server.i18n import LANGUAGES
from server.i18n.catalogues import po_path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_DIRS = ("web", "http", "services", "i18n")
PYTHON_FILES = ("push_worker.py",)  # modules at the top of server/ with strings people see
KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "plural": (2, 3),
}
JINJA_OPTIONS = {
    "trim_blocks": "true",
    "lstrip_blocks": "true",
    "newstyle_gettext": "true",
    "silent": "false",
}
ERRORS = frozenset(
    {
        "KoersError",
        "ValidationError",
        "BadRequest",
        "NotAuthenticated",
        "Forbidden",
        "NotFound",
        "Gone",
        "Conflict",
        "TooLarge",
        "UnsupportedMedia",
        "RateLimited",
    }
)
SINGLE = frozenset({"_", "N_", "gettext", "Message"})
PAGE_KEYWORDS = frozenset({"message", "error"})


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _text(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return node.value
    return None


def _messages(call: ast.Call) -> Iterator[str | tuple[str, str]]:
    name = _name(call.func)
    args = call.args
    if name in SINGLE or name in ERRORS:
        if args and (text := _text(args[0])):
            yield text
    elif name == "ngettext" and len(args) >= 2:
        one, many = _text(args[0]), _text(args[1])
        if one and many:
            yield (one, many)
    elif name == "flash" and len(args) >= 2:
        if text := _text(args[1]):
            yield text
    elif name == "add" and len(args) == 2:  # FieldErrors.add(field, "…"): a form's error
        if (text := _text(args[1])) and " " in text:  # words, not a value (``cal.add(k, "2.0")``)
            yield text
    for keyword in call.keywords:
        if keyword.arg in PAGE_KEYWORDS and (text := _text(keyword.value)):
            yield text


def _dynamic(node: ast.expr) -> bool:
    """Is ``node`` text made in place (an f-string, ``"…" % x``, ``"…".format(x)``, or a sum with
    one), which no catalogue can look up?"""
    if isinstance(node, ast.JoinedStr):
        return any(
            isinstance(part, ast.Constant) and " " in str(part.value) for part in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _text(node.left) is not None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and _text(node.func.value) is not None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _dynamic(node.left) or _dynamic(node.right)
    return False


def _message_arguments(call: ast.Call) -> list[ast.expr]:
    """The arguments of ``call`` that people read (as ``_messages`` finds literals)."""
    name, args = _name(call.func), call.args
    found: list[ast.expr] = []
    if (name in ERRORS and args) or (name == "flash" and len(args) >= 2):
        found.append(args[0] if name in ERRORS else args[1])
    elif name == "add" and len(args) == 2:
        found.append(args[1])
    found += [k.value for k in call.keywords if k.arg in PAGE_KEYWORDS]
    return found


def untranslatable(path: Path) -> list[tuple[int, str]]:
    """Messages people see that are made in place in module ``path`` (line, source): raised
    errors, flashes, ``FieldErrors.add`` and page messages written as f-strings or with ``%`` /
    ``.format`` — English whatever the reader's language; write ``Message("… %(n)s …", n=…)``."""
    tree = ast.parse(path.read_bytes())
    return [
        (node.lineno, ast.unparse(arg))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for arg in _message_arguments(node)
        if _dynamic(arg)
    ]


def python_modules() -> list[Path]:
    """The Python modules whose strings are extracted."""
    found = [p for sub in PYTHON_DIRS for p in sorted((ROOT / sub).rglob("*.py"))]
    return found + [ROOT / name for name in PYTHON_FILES]


def extract_python(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str | tuple[str, str], list[str]]]:
    """A Babel extraction method for Koers' Python modules (see the module's docstring)."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for message in _messages(node):
                yield node.lineno, "ngettext" if isinstance(message, tuple) else "_", message, []


def extract() -> Catalog:
    """Every string of the interface, as a catalogue without translations."""
    catalog = Catalog(project="Koers", charset="utf-8")
    sources: list[tuple[Path, list[tuple[str, str]], dict[str, dict[str, str]]]] = [
        (
            templates_dir(),
            [("**.html", "jinja2.ext:babel_extract"), ("**.txt", "jinja2.ext:babel_extract")],
            {"**.html": JINJA_OPTIONS, "**.txt": JINJA_OPTIONS},
        ),
        *(
            (ROOT / sub, [("**.py", "server.i18n.extract:extract_python")], {})
            for sub in PYTHON_DIRS
        ),
        (ROOT, [(name, "server.i18n.extract:extract_python") for name in PYTHON_FILES], {}),
    ]
    for folder, method_map, options_map in sources:
        found = extract_from_dir(
            str(folder), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
        )
        for filename, lineno, message, comments, context in found:
            catalog.add(
                message,
                None,
                [(f"{folder.name}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return catalog


def read(language: str) -> Catalog:
    """The stored catalogue of ``language``."""
    with po_path(language).open("rb") as f:
        return read_po(f, locale=language)


def write(language: str, catalog: Catalog) -> None:
    """Store ``catalog`` sorted by message, without source locations (so merges stay simple)."""
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(
            f,
            catalog,
            width=0,
            no_location=True,
            omit_header=False,
            sort_output=True,
            ignore_obsolete=True,
            include_previous=False,
        )


def update() -> dict[str, int]:
    """Add new strings to every translated language's catalogue (empty, to be translated) and drop
    the ones no longer used; returns how many are untranslated per language."""
    template = extract()
    untranslated: dict[str, int] = {}
    for language in LANGUAGES[1:]:
        if po_path(language).is_file():
            catalog = read(language)
        else:
            catalog = Catalog(locale=language, project="Koers", fuzzy=False)
        created = catalog.creation_date  # kept as it was: a header that changes makes conflicts
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.creation_date = created
        write(language, catalog)
        untranslated[language] = len(missing(language, template, catalog))
    return untranslated


def missing(
    language: str, template: Catalog | None = None, catalog: Catalog | None = None
) -> list[str]:
    """The strings of the interface that ``language``'s catalogue lacks or leaves untranslated."""
    template = template or extract()
    catalog = catalog or read(language)
    out: list[str] = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        strings = found.string if found is not None else None
        values = strings if isinstance(strings, (list, tuple)) else [strings]
        if found is None or found.fuzzy or not all(values):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out
