"""Numbers from URLs and forms: only ids a database can hold; impossible path ids are a 404."""

from server.http.params import MAX_ID, as_id


def test_as_id_accepts_only_ascii_digits_within_a_bigint() -> None:
    assert as_id("42") == 42 and as_id(" 7 ") == 7 and as_id(str(MAX_ID)) == MAX_ID
    for bad in ("", None, "abc", "-1", "1.5", "²", "٣", str(MAX_ID + 1), "9" * 40):
        assert as_id(bad) is None, bad


async def test_impossible_numeric_path_values_are_not_found(instance) -> None:
    await instance.create_member("ana")
    client = await instance.login("ana")
    for path in (
        "/posts/99999999999999999999999",
        "/api/koers/v1/communities/%C2%B2",
        "/results/%C2%B2/kudos",
    ):
        resp = await client.get(path)
        assert resp.status == 404, path


async def test_purpose_version_beyond_an_integer_column_is_not_found(instance):
    """Version numbers are 32-bit on PostgreSQL; a bigger one is a 404, not a driver error."""
    from server.services import communities

    ana = await instance.create_member("ana")
    await communities.create_community(
        instance.ctx,
        ana.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
        description="",
        openness="open",
        member_list_visibility="public",
    )
    for path in ("/c/garden/purpose/3000000000", "/c/garden/purpose/1"):
        resp = await instance.client.get(path)
        assert resp.status == (404 if "3000000000" in path else 200), path
    resp = await instance.client.get(
        "/c/garden/purpose/3000000000", headers={"Accept": "application/activity+json"}
    )
    assert resp.status == 404
