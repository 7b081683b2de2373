"""Pages in the reader's language: the member's setting, else Accept-Language, else KOERS_LANGUAGE;
service messages shown on a page are translated too."""

from __future__ import annotations

from tests.conftest import post_form

DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9"}


async def test_accept_language_then_instance_default(instance, make_instance):
    page = await (await instance.client.get("/login", headers=DUTCH)).text()
    assert '<html lang="nl">' in page and "Wachtwoord vergeten?" in page
    page = await (await instance.client.get("/login")).text()
    assert '<html lang="en">' in page and "Forgot your password?" in page
    dutch_instance = await make_instance(language="nl")
    page = await (await dutch_instance.client.get("/login")).text()
    assert '<html lang="nl">' in page and "Inloggen" in page
    page = await (
        await dutch_instance.client.get("/login", headers={"Accept-Language": "en"})
    ).text()
    assert '<html lang="en">' in page


async def test_a_404_and_a_service_message_in_dutch(instance):
    resp = await instance.client.get("/@nobody/1", headers=DUTCH)
    page = await resp.text()
    assert resp.status == 404 and "Pagina niet gevonden" in page
    resp = await instance.client.post("/login", data={"login": "x", "password": "y"}, headers=DUTCH)
    # the CSRF refusal is a service message, shown translated on the error page
    assert "CSRF-controle mislukt" in await resp.text()


async def test_the_members_choice_wins_over_the_browser(instance):
    await instance.create_member("ana")
    ana = await instance.login("ana")
    page = await (await ana.get("/settings/profile")).text()
    assert 'action="/settings/language"' in page
    resp = await post_form(ana, "/settings/language", {"language": "nl"}, page="/settings/profile")
    assert resp.status == 302
    page = await (await ana.get("/settings/profile", headers={"Accept-Language": "en"})).text()
    assert '<html lang="nl">' in page and "Je taal is opgeslagen." in page
    resp = await post_form(ana, "/settings/language", {"language": "de"}, page="/settings/profile")
    assert resp.status == 422
    resp = await post_form(ana, "/settings/language", {"language": ""}, page="/settings/profile")
    page = await (await ana.get("/settings/profile", headers={"Accept-Language": "en"})).text()
    assert '<html lang="en">' in page
