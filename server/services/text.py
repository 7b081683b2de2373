"""Text in, safe HTML out: Markdown or plain text rendered, mentions and hashtags linked, sanitised.

Rendering uses markdown-it-py with raw HTML switched off; the result always passes through nh3
(the Rust ``ammonia`` sanitiser), as does every piece of remote HTML (``sanitise_html``).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

# nh3 (1.4 MiB resident once loaded) is imported where text is first sanitised, not at start-up
# (tests/test_startup_imports.py)

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "a",
    "span",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "class", "title"}, "span": {"class"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

MENTION_RE = re.compile(
    r"(?<![\w@/])@([a-zA-Z0-9_]{1,30})(?:@([a-zA-Z0-9.\-]+(?::\d+)?[a-zA-Z0-9]))?"
)
HASHTAG_RE = re.compile(r"(?<![\w&#/])#([^\W\d_][\w]{0,99}|\d+[^\W\d][\w]*)", re.UNICODE)


@functools.cache
def _markdown() -> MarkdownIt:
    """The Markdown renderer, built on first use (markdown-it is not imported at start-up)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
        "strikethrough"
    )


def sanitise_html(value: str) -> str:
    """Remove everything but a small set of formatting tags and safe links."""
    import nh3

    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )


def html_to_text(value: str) -> str:
    """Plain text of a piece of HTML (for previews, titles, search)."""
    import nh3

    text = re.sub(r"<br\s*/?>|</p>\s*<p>", "\n", value)
    return html.unescape(nh3.clean(text, tags=set())).strip()


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    mentions: tuple[tuple[str, str | None], ...]  # (username, domain or None)
    hashtags: tuple[str, ...]


def find_mentions(source: str) -> list[tuple[str, str | None]]:
    """``@name`` and ``@name@host`` handles in a text, in order, without repeats."""
    seen: dict[tuple[str, str | None], None] = {}
    for m in MENTION_RE.finditer(source):
        seen[(m.group(1).lower(), m.group(2).lower() if m.group(2) else None)] = None
    return list(seen)


def find_hashtags(source: str) -> list[str]:
    seen: dict[str, None] = {}
    for m in HASHTAG_RE.finditer(source):
        seen[m.group(1).lower()] = None
    return list(seen)


def render(
    source: str,
    *,
    fmt: str = "markdown",
    mention_url: Callable[[str, str | None], str | None] | None = None,
    tag_url: Callable[[str], str] | None = None,
) -> Rendered:
    """Render user text to sanitised HTML, linking known mentions and hashtags.

    ``mention_url(username, domain)`` returns the profile URL of a known account, or None to leave
    the handle as text.
    """
    if fmt == "markdown":
        body = _markdown().render(source)
    else:
        paragraphs = [p for p in re.split(r"\n\s*\n", source.strip()) if p]
        body = "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)
    mentions = find_mentions(source)
    hashtags = find_hashtags(source)

    def link_mention(m: re.Match[str]) -> str:
        user, domain = m.group(1), m.group(2)
        url = mention_url(user.lower(), domain.lower() if domain else None) if mention_url else None
        if not url:
            return m.group(0)
        return (
            f'<span class="h-card"><a href="{html.escape(url)}" class="u-url mention">'
            f"@<span>{html.escape(user)}</span></a></span>"
        )

    def link_tag(m: re.Match[str]) -> str:
        if tag_url is None:
            return m.group(0)
        tag = m.group(1)
        return (
            f'<a href="{html.escape(tag_url(tag.lower()))}" class="mention hashtag" rel="tag">'
            f"#<span>{html.escape(tag)}</span></a>"
        )

    # Link only outside tags and outside existing links/code.
    out: list[str] = []
    depth_skip = 0
    for piece in re.split(r"(<[^>]+>)", body):
        if piece.startswith("<"):
            name = re.match(r"</?\s*([a-zA-Z0-9]+)", piece)
            if name and name.group(1).lower() in ("a", "code", "pre"):
                depth_skip += -1 if piece.startswith("</") else 1
            out.append(piece)
        elif depth_skip > 0:
            out.append(piece)
        else:
            piece = MENTION_RE.sub(link_mention, piece)
            piece = HASHTAG_RE.sub(link_tag, piece)
            out.append(piece)
    return Rendered(sanitise_html("".join(out)), tuple(mentions), tuple(hashtags))


def render_plain_field(value: str) -> str:
    """A short single-line value (profile field): escaped, with http(s) links made clickable."""
    escaped = html.escape(value.strip())
    linked = re.sub(
        r"(https?://[^\s<]+)",
        lambda m: (
            f'<a href="{m.group(1)}" rel="me nofollow noopener noreferrer" target="_blank">{m.group(1)}</a>'
        ),
        escaped,
    )
    return sanitise_html(linked)
