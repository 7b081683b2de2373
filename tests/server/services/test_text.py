"""Rendering user text: Markdown/plain, mentions, hashtags, and sanitising whatever comes in."""

from hypothesis import given
from hypothesis import strategies as st

from server.services import text


def test_markdown_renders_and_scripts_are_removed():
    out = text.render("**bold** <script>alert(1)</script> [x](javascript:alert(1))").html
    assert "<strong>bold</strong>" in out
    assert "<script" not in out
    assert 'href="javascript' not in out


def test_plain_text_escapes_html():
    out = text.render('<img src=x onerror="alert(1)">\nline two', fmt="plain").html
    assert "<img" not in out
    assert "&lt;img" in out
    assert "<br>" in out


def test_mentions_and_hashtags_are_found_and_linked():
    rendered = text.render(
        "Hi @ana and @bo@remote.example, see #Roadmap and #2026plans",
        mention_url=lambda u, d: f"https://x/@{u}" if u == "ana" else None,
        tag_url=lambda t: f"https://x/tags/{t}",
    )
    assert rendered.mentions == (("ana", None), ("bo", "remote.example"))
    assert rendered.hashtags == ("roadmap", "2026plans")
    assert 'href="https://x/@ana"' in rendered.html
    assert "@bo@remote.example" in rendered.html  # unknown: left as text
    assert 'href="https://x/tags/roadmap"' in rendered.html


def test_mentions_inside_code_and_links_stay_untouched():
    rendered = text.render(
        "`@ana` and [@ana](https://e.example)", mention_url=lambda u, d: "https://x/@ana"
    )
    assert rendered.html.count("mention") == 0


def test_email_addresses_are_not_mentions():
    assert text.find_mentions("write to ana@example.org") == []


def test_remote_html_is_sanitised():
    dirty = '<p onclick="x()">hi<iframe src="https://evil"></iframe><a href="https://ok.example" target="_blank">ok</a></p>'
    clean = text.sanitise_html(dirty)
    assert "onclick" not in clean and "iframe" not in clean
    assert 'href="https://ok.example"' in clean
    assert "noopener" in clean


@given(st.text(max_size=300))
def test_render_never_emits_script_or_event_handlers(source):
    for fmt in ("markdown", "plain"):
        out = text.render(source, fmt=fmt).html.lower()
        assert "<script" not in out
        assert " onerror=" not in out and " onclick=" not in out
