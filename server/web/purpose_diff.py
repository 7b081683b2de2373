"""A readable diff of two purpose texts for the pages: sentence by sentence, and word by word
inside a changed sentence.

Unchanged sentences read as they are; a removed or added sentence is one ``<del>`` / ``<ins>``;
a changed one shows its removed and added words. Every mark carries its meaning in words for
screen readers ("removed:", "added:", hidden on screen) besides the colour and the strike or
underline the stylesheet gives it. (The ActivityPub and client API keep the plain word-level
``purpose_proposals.diff_html``.)
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

_SENTENCES = re.compile(r"[^.!?\n]+(?:[.!?]+|$)\s*|\n+")
_WORDS = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True, slots=True)
class ReadableDiff:
    """The HTML of the diff and what it counts."""

    html: Markup
    added: int
    removed: int
    changed: int

    @property
    def summary(self) -> str:
        """ "1 sentence changed, 2 added" (or "No change")."""
        parts = [
            f"{n} {'sentence' if n == 1 else 'sentences'} {what}"
            for n, what in (
                (self.changed, "changed"),
                (self.added, "added"),
                (self.removed, "removed"),
            )
            if n
        ]
        return ", ".join(parts) if parts else "No change"


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCES.findall(text.replace("\r\n", "\n")) if s]


def _mark(tag: str, body: str, label: str) -> str:
    return f'<{tag}><span class="visually-hidden">{label} </span>{body}</{tag}>'


def _text(value: str) -> str:
    return str(escape(value)).replace("\n", "<br>\n")


def _words(old: str, new: str) -> str:
    """One changed sentence: its removed and added words marked."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(_text("".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            out.append(_mark("del", _text("".join(a[i1:i2])), "removed:"))
        if op in ("insert", "replace"):
            out.append(_mark("ins", _text("".join(b[j1:j2])), "added:"))
    return "".join(out)


def readable_diff(old: str, new: str) -> ReadableDiff:
    """The change from ``old`` to ``new``, sentence by sentence."""
    a, b = _sentences(old), _sentences(new)
    out: list[str] = []
    added = removed = changed = 0
    matcher = difflib.SequenceMatcher(
        None, [s.strip() for s in a], [s.strip() for s in b], autojunk=False
    )
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(_text("".join(b[j1:j2])))
            continue
        olds, news = a[i1:i2], b[j1:j2]
        pairs = min(len(olds), len(news)) if op == "replace" else 0
        for old_s, new_s in zip(olds[:pairs], news[:pairs], strict=True):
            out.append(f'<span class="changed">{_words(old_s, new_s)}</span>')
            changed += 1
        for old_s in olds[pairs:]:
            if old_s.strip():
                out.append(_mark("del", _text(old_s), "removed sentence:"))
                removed += 1
        for new_s in news[pairs:]:
            if new_s.strip():
                out.append(_mark("ins", _text(new_s), "added sentence:"))
                added += 1
    html = Markup(f'<div class="diff readable">{"".join(out)}</div>')
    return ReadableDiff(html=html, added=added, removed=removed, changed=changed)
