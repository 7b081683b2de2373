"""How a Group relays to each kind of server, and the competencies field for servers that do not
read Koers terms (and dropped again by Koers receivers): pure functions, no server (issue 14)."""

from __future__ import annotations

from server.activitypub.core.actor_extras import competencies_field
from server.activitypub.core.relay_dialects import dialect, from_author, group_boost
from server.activitypub.core.remote_actors import drop_derived_fields

BASE = "https://koers.example"
GROUP = f"{BASE}/communities/garden"
NOTE = {"id": f"{BASE}/users/ana/posts/1", "type": "Note", "content": "<p>Seeds</p>"}


def test_each_software_gets_the_form_it_understands() -> None:
    assert dialect("koers") == dialect("Lemmy") == dialect("mbin") == "activity"
    assert dialect("gotosocial") == dialect("mastodon") == dialect("akkoma") == "object"
    assert dialect(None) == dialect("") == "both"


def test_boost_only_servers_get_a_boost_of_the_post_and_its_undo() -> None:
    create = {"id": f"{NOTE['id']}/activity", "type": "Create", "object": NOTE}
    boost = group_boost(BASE, GROUP, create, to=["x"], cc=None)
    assert boost is not None and boost["type"] == "Announce" and boost["object"] == NOTE
    delete = {"id": f"{NOTE['id']}#delete", "type": "Delete", "object": NOTE["id"]}
    undo = group_boost(BASE, GROUP, delete, to=["x"], cc=None)
    assert undo is not None and undo["type"] == "Undo" and undo["object"]["id"] == boost["id"]
    update = {"id": f"{NOTE['id']}#updates/1", "type": "Update", "object": NOTE}
    assert group_boost(BASE, GROUP, update, to=["x"], cc=None) is None
    assert from_author(update) and from_author(delete) and not from_author(create)


def test_the_competencies_field_is_html_and_marked_as_derived() -> None:
    field = competencies_field([("energy modelling", "expert"), ("R&D <lab>", None)])
    assert field["type"] == "PropertyValue" and field["name"] == "Competencies"
    assert field["value"] == "energy modelling (expert), R&amp;D &lt;lab&gt;"
    assert field["koers:derivedFrom"] == "koers:competencies"


def test_a_koers_receiver_drops_the_derived_field_only() -> None:
    derived = {**competencies_field([("beekeeping", None)])}
    written = {"type": "PropertyValue", "name": "Competencies", "value": "listening"}
    site = {"type": "PropertyValue", "name": "Site", "value": "x"}
    doc = {"attachment": [site, {"type": "Image", "url": "y"}, derived, written]}
    values = {
        "fields": [{"name": f["name"], "value": f["value"]} for f in (site, derived, written)]
    }
    drop_derived_fields(doc, values)
    assert values["fields"] == [
        {"name": "Site", "value": "x"},
        {"name": "Competencies", "value": "listening"},
    ]
