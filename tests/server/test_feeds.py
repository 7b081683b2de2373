"""Atom feeds: valid Atom 1.0, announced on their pages, and never anything that is not public."""

import xml.etree.ElementTree as ET

from server.services import communities, posts
from server.visibility import Audience

A = "{http://www.w3.org/2005/Atom}"


async def _setup(instance):
    ana = await instance.create_member("ana")
    c = await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden & Co", purpose_text="Grow food."
    )
    for title, audience in [
        ("Public result <b>", Audience.PUBLIC),
        ("Community result", Audience.COMMUNITY),
        ("Unlisted result", Audience.UNLISTED),
        ("Members result", Audience.MEMBERS),
    ]:
        await posts.create_post(
            instance.ctx,
            ana.actor_id,
            posts.Draft(
                source=f"Text of {title}",
                kind="result",
                title=title,
                community_id=c.id,
                audience=audience,
            ),
        )
    await posts.create_post(
        instance.ctx,
        ana.actor_id,
        posts.Draft(
            source="A public note in the garden", community_id=c.id, audience=Audience.PUBLIC
        ),
    )
    await posts.create_post(
        instance.ctx,
        ana.actor_id,
        posts.Draft(source="Followers only note", audience=Audience.FOLLOWERS),
    )
    await posts.create_post(
        instance.ctx, ana.actor_id, posts.Draft(source="Hello *world*", audience=Audience.PUBLIC)
    )
    return ana, c


async def _feed(instance, path):
    resp = await instance.client.get(path)
    assert resp.status == 200, path
    assert resp.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(await resp.read())
    assert root.tag == f"{A}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{A}{tag}") is not None and root.find(f"{A}{tag}").text
    rels = {link.get("rel"): link.get("href") for link in root.findall(f"{A}link")}
    assert rels["self"] == instance.url + path and "alternate" in rels
    for entry in root.findall(f"{A}entry"):
        for tag in ("id", "title", "updated", "published", "author/" + A + "name"):
            assert entry.find(f"{A}{tag}") is not None, tag
        assert entry.find(f"{A}link").get("rel") == "alternate"
        assert entry.find(f"{A}content").get("type") == "html"
    return root


def _titles(root):
    return [e.find(f"{A}title").text for e in root.findall(f"{A}entry")]


def _text(root):
    return ET.tostring(root, encoding="unicode")


async def test_instance_results_feed_lists_only_public_results(instance):
    await _setup(instance)
    root = await _feed(instance, "/feeds/results.atom")
    assert _titles(root) == ["Public result <b>"]
    for hidden in ("Community result", "Unlisted result", "Members result"):
        assert hidden not in _text(root)


async def test_community_feeds(instance):
    await _setup(instance)
    results = await _feed(instance, "/c/garden/results.atom")
    assert _titles(results) == ["Public result <b>"]
    everything = await _feed(instance, "/c/garden/feed.atom")
    titles = _titles(everything)
    assert "Public result <b>" in titles and "A public note in the garden" in titles
    assert "Community result" not in _text(everything) and "Members result" not in _text(everything)
    assert everything.find(f"{A}title").text.endswith("Garden & Co")
    assert (await instance.client.get("/c/nowhere/feed.atom")).status == 404


async def test_profile_feed(instance):
    await _setup(instance)
    root = await _feed(instance, "/@ana/feed.atom")
    content = _text(root)
    assert (
        "Hello" in content
        and "<em>world</em>" in root.findall(f"{A}entry")[0].find(f"{A}content").text
    )
    assert "Followers only note" not in content and "Community result" not in content
    assert (await instance.client.get("/@nobody/feed.atom")).status == 404


async def test_feeds_are_announced_on_their_pages(instance):
    await _setup(instance)
    for page, feed in [
        ("/c/garden", "/c/garden/feed.atom"),
        ("/c/garden", "/c/garden/results.atom"),
        ("/c/garden/results", "/c/garden/results.atom"),
        ("/", "/feeds/results.atom"),
    ]:
        html = await (await instance.client.get(page)).text()
        assert (
            '<link rel="alternate" type="application/atom+xml"' in html and f'href="{feed}"' in html
        ), page
