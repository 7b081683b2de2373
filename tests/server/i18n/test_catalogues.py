"""Every string of the interface has a Dutch translation, and the language is chosen as promised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.config import load_settings
from server.errors import ConfigError
from server.i18n import LANGUAGES, extract, formatting, gettext, negotiate, use
from server.i18n.catalogues import po_path


def test_every_string_of_templates_and_messages_has_a_translation() -> None:
    template = extract.extract()
    assert len(template) > 300  # the extraction found the templates and the service messages
    for language in LANGUAGES[1:]:
        left = extract.missing(language, template)
        assert not left, (
            f"{len(left)} strings lack a {language} translation "
            f"(run `python scripts/i18n.py update`, then fill in {po_path(language)}): {left[:20]}"
        )


def test_the_catalogue_keeps_the_placeholders_of_each_string() -> None:
    catalog = extract.read("nl")
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = sorted(_placeholders(ids[-1]))
        for string in strings:
            assert sorted(_placeholders(string)) == wanted, (message.id, string)


def _placeholders(text: str) -> list[str]:
    import re

    return re.findall(r"%\([a-z_]+\)s", text)


def test_extraction_finds_raised_messages_flashes_and_page_messages(tmp_path) -> None:
    source = tmp_path / "x.py"
    source.write_bytes(
        b'raise ValidationError("title: too long", field="title")\n'
        b'flash(request, "Saved.")\n'
        b'render(request, "t.html", message="Done.", error=f"no {x}")\n'
        b'N_("marked")\n'
    )
    with source.open("rb") as f:
        found = [m for _line, _fn, m, _c in extract.extract_python(f, None, None, None)]
    assert sorted(found) == ["Done.", "Saved.", "marked", "title: too long"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("nl-NL,nl;q=0.9,en;q=0.8", "nl"),
        ("en-GB,en;q=0.9,nl;q=0.8", "en"),
        ("de-DE, fr;q=0.5", None),
        ("de, nl;q=0.3", "nl"),
        ("nl;q=0, en;q=0.1", "en"),
        ("*", None),
        ("", None),
        (None, None),
        ("nl;q=oops", None),
    ],
)
def test_accept_language(header: str | None, expected: str | None) -> None:
    assert negotiate.from_accept_language(header) == expected


def test_member_choice_beats_browser_beats_instance_default() -> None:
    assert negotiate.choose("en", "nl", "nl") == "en"
    assert negotiate.choose(None, "nl", "en") == "nl"
    assert negotiate.choose(None, "de", "nl") == "nl"
    assert negotiate.choose("xx", None, "en") == "en"


def test_koers_language_setting() -> None:
    assert load_settings({}).language == "en"
    assert load_settings({"KOERS_LANGUAGE": "nl-NL"}).language == "nl"
    with pytest.raises(ConfigError, match="KOERS_LANGUAGE"):
        load_settings({"KOERS_LANGUAGE": "de"})


def test_dates_numbers_and_relative_times_follow_the_language() -> None:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    with use("nl"):
        assert formatting.ago(now - timedelta(minutes=3), now) == "3 min geleden"
        assert formatting.ago(now - timedelta(days=1), now) == "1 dag geleden"
        assert formatting.ago(now - timedelta(days=3), now) == "3 dagen geleden"
        assert formatting.ago(datetime(2026, 3, 9, tzinfo=UTC), now) == "9 mrt"
        assert formatting.full_date(now) == "2 december 2026, 10:00 UTC"
        assert formatting.number(1234567) == "1.234.567"
        assert formatting.plural(2, "reply", "replies") == "2 reacties"
        assert gettext("no such post") == "dit bericht bestaat niet"
    assert formatting.number(1234567) == "1,234,567"
    assert formatting.plural(1, "reply", "replies") == "1 reply"
    assert gettext("no such post") == "no such post"


# Messages still made in place (f-strings), per module: they stay English for Dutch readers.
# This list may only shrink; write ``Message("… %(name)s …", name=…)`` (server.i18n.messages).
MADE_IN_PLACE_LEFT = {
    "server/http/live.py": 1,  # the streaming API's refusal (API clients read English)
    "server/push_worker.py": 1,  # a delivery's stored error, for logs
}


def test_no_new_message_people_see_is_made_in_place() -> None:
    found: dict[str, list[str]] = {}
    for path in extract.python_modules():
        for line, source in extract.untranslatable(path):
            found.setdefault(str(path.relative_to(extract.ROOT.parent)), []).append(
                f"{line}: {source[:80]}"
            )
    for module, places in found.items():
        assert len(places) <= MADE_IN_PLACE_LEFT.get(module, 0), (
            f"{module} makes messages in place that no catalogue can translate "
            f"(use server.i18n.messages.Message): {places}"
        )


def test_the_detector_sees_f_strings_in_raises_flashes_and_form_errors(tmp_path) -> None:
    source = tmp_path / "x.py"
    source.write_text(
        'raise ValidationError(f"title: at most {n} characters", field="title")\n'
        'flash(request, "Hello %s, welcome" % name)\n'
        'found.add("x", "at most {} things".format(n))\n'
        'raise NotFound(Message("no post %(id)s here", id=n))\n'
        'cal.add("prodid", f"-//Koers//{domain}//EN")\n'
        'log.info(f"not for people {x}")\n'
    )
    assert [line for line, _ in extract.untranslatable(source)] == [1, 2, 3]


def test_a_purpose_message_names_its_phase_in_the_readers_language() -> None:
    from server.i18n.messages import Message
    from server.services.purpose_phases import label_message

    made = Message(
        "phase: from %(phase)s the process moves to %(first)s or %(second)s",
        phase=label_message("drafting"),
        first=label_message("decision"),
        second=label_message("discussion"),
    )
    assert made == "phase: from Drafting the process moves to Decision or Discussion"
    with use("nl"):
        assert made.translated() == (
            "fase: vanuit Opstellen gaat het proces naar Besluit of Bespreking"
        )
