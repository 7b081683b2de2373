"""Rendering and sanitising text, case by case: what an author writes and what a reader gets."""

from __future__ import annotations

import pytest

from server.services import text


def _html(source: str, **kw: object) -> str:
    return text.render(source, **kw).html  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("**bold**", "<strong>bold</strong>"),
        ("*em*", "<em>em</em>"),
        ("~~gone~~", "<s>gone</s>"),
        ("`code`", "<code>code</code>"),
        ("> quoted", "<blockquote>"),
        ("- one\n- two", "<li>one</li>"),
        ("3. three", '<ol start="3">'),
        ("line one\nline two", "line one<br>"),
        ("# Title", "<h1>Title</h1>"),
        ("[site](https://ok.example)", 'href="https://ok.example"'),
    ],
)
def test_markdown_formatting_survives(source: str, expected: str) -> None:
    assert expected in _html(source)


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("<img src=x onerror=alert(1)>", "<img"),
        ("[x](javascript:alert(1))", "javascript:"),
        ("[x](data:text/html,hi)", "data:"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<a href="https://x" onclick="y()">x</a>', "onclick"),
        ("<iframe src=https://evil></iframe>", "<iframe"),
        ("<style>body{}</style>", "<style"),
    ],
)
def test_dangerous_markup_never_reaches_the_reader(source: str, forbidden: str) -> None:
    import re

    for fmt in ("markdown", "plain"):
        tags = re.findall(r"<[^>]+>", _html(source, fmt=fmt).lower())
        assert not [tag for tag in tags if forbidden in tag]
    assert not [t for t in re.findall(r"<[^>]+>", text.sanitise_html(source)) if forbidden in t]


def test_plain_text_is_escaped_and_paragraphs_kept() -> None:
    out = _html("a < b & c\nsame paragraph\n\nnext one", fmt="plain")
    assert out == "<p>a &lt; b &amp; c<br>same paragraph</p><p>next one</p>"


def test_links_get_safe_rel_attributes() -> None:
    out = text.sanitise_html('<a href="https://ok.example" target="_blank">ok</a>')
    assert 'rel="nofollow noopener noreferrer"' in out and "target" not in out


def test_only_known_mentions_are_linked_and_handles_lowered() -> None:
    known = {
        ("ana", None): "https://koers.test/@ana",
        ("bo", "far.example"): "https://far.example/@bo",
    }
    rendered = text.render(
        "@Ana @bo@Far.Example @nobody",
        mention_url=lambda u, d: known.get((u, d)),
    )
    assert rendered.mentions == (("ana", None), ("bo", "far.example"), ("nobody", None))
    assert rendered.html.count('class="u-url mention"') == 2
    assert 'href="https://far.example/@bo"' in rendered.html and "@nobody" in rendered.html


@pytest.mark.parametrize(
    ("source", "tags"),
    [
        ("#Compost and #compost", ["compost"]),
        ("#2026plans", ["2026plans"]),
        ("#2026", []),
        ("issue#4 and &#39;", []),
        ("https://x.example/#anchor", []),
        ("#über #café", ["über", "café"]),
    ],
)
def test_hashtags_are_found_once_in_lower_case(source: str, tags: list[str]) -> None:
    assert text.find_hashtags(source) == tags


@pytest.mark.parametrize(
    ("source", "mentions"),
    [
        ("@ana", [("ana", None)]),
        ("@ana@koers.test:8080", [("ana", "koers.test:8080")]),
        ("mail ana@example.org", []),
        ("path/@ana", []),
        ("@ana @ANA", [("ana", None)]),
    ],
)
def test_mentions_are_found_once(source: str, mentions: list) -> None:
    assert text.find_mentions(source) == mentions


def test_hashtags_in_code_and_links_stay_text() -> None:
    out = _html("`#nope` [#nope](https://x.example) #yes", tag_url=lambda t: f"/tags/{t}")
    assert out.count('class="mention hashtag"') == 1 and 'href="/tags/yes"' in out


def test_html_to_text_for_previews() -> None:
    assert text.html_to_text("<p>one &amp; two</p><p>three<br>four</p>") == "one & two\nthree\nfour"
    assert text.html_to_text("<script>x</script>safe") == "safe"


def test_profile_fields_link_urls_and_escape_the_rest() -> None:
    out = text.render_plain_field("  see https://ana.example/x <b>bold</b> ")
    assert '<a href="https://ana.example/x" rel="nofollow noopener noreferrer">' in out
    assert "<b>" not in out and "&lt;b&gt;" in out
