"""Reading competencies from remote actor documents: Koers terms, profile fields, bio hashtags."""

from hypothesis import given
from hypothesis import strategies as st

from server.services.remote_competencies import from_actor_document, from_actor_values


def test_koers_terms_win_and_levels_are_kept() -> None:
    doc = {
        "koers:competencies": [
            {"name": "Facilitation", "koers:level": "expert"},
            {"name": "python", "level": "nonsense"},
        ],
        "attachment": [
            {
                "type": "PropertyValue",
                "name": "Skills",
                "value": "<p>facilitation (learning), Beekeeping</p>",
            }
        ],
        "summary": "<p>I love <a href='x'>#Composting</a> and #beekeeping</p>",
    }
    assert from_actor_document(doc) == [
        ("facilitation", "expert"),
        ("python", None),
        ("beekeeping", None),
        ("composting", None),
    ]


def test_mastodon_profile_fields_and_bio() -> None:
    doc = {
        "attachment": [
            {"type": "PropertyValue", "name": "Website", "value": "<a href='https://x'>x</a>"},
            {
                "type": "PropertyValue",
                "name": "Competencies",
                "value": "Carpentry: practiced; welding · first aid",
            },
        ],
        "tag": [{"type": "Hashtag", "name": "#Permaculture"}],
        "summary": "",
    }
    assert from_actor_document(doc) == [
        ("carpentry", "practised"),
        ("welding", None),
        ("first aid", None),
        ("permaculture", None),
    ]


def test_stored_values_form() -> None:
    values = {
        "extra": {"competency": ["gardening"]},
        "fields": [{"name": "Expertise", "value": "Soil"}],
        "summary_html": "<p>#compost</p>",
    }
    assert from_actor_values(values) == [("gardening", None), ("soil", None), ("compost", None)]


@given(
    st.dictionaries(
        st.sampled_from(["koers:competencies", "competency", "attachment", "tag", "summary"]),
        st.recursive(
            st.none() | st.text(max_size=30) | st.integers(),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=8), inner, max_size=4)
            ),
            max_leaves=12,
        ),
    )
)
def test_never_crashes_and_stays_bounded(doc) -> None:
    try:
        found = from_actor_document(doc)
    except (AttributeError, TypeError) as exc:  # pragma: no cover - the assertion explains
        raise AssertionError(f"crashed on {doc!r}") from exc
    assert len(found) <= 30 and all(
        name and len(name) <= 100 and name == name.lower() for name, _ in found
    )
