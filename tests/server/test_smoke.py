"""The instance starts, migrates, serves its front page and lets a member sign up and log in."""

from tests.conftest import PASSWORD, post_form


async def test_front_page_and_signup(instance):
    resp = await instance.client.get("/")
    assert resp.status == 200
    assert "Communities" in await resp.text()

    client = await instance.new_client()
    resp = await post_form(
        client,
        "/signup",
        {
            "username": "ana",
            "email": "ana@example.test",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
        page="/signup",
    )
    assert resp.status == 302, await resp.text()
    home = await client.get("/home")
    assert home.status == 200
    assert "@ana" in await home.text()
