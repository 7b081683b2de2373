"""Numbers from URLs and forms: only ids a database can hold; impossible path ids are a 404."""

from server.web.params import MAX_ID, as_id


def test_as_id_accepts_only_ascii_digits_within_a_bigint() -> None:
    assert as_id("42") == 42 and as_id(" 7 ") == 7 and as_id(str(MAX_ID)) == MAX_ID
    for bad in ("", None, "abc", "-1", "1.5", "²", "٣", str(MAX_ID + 1), "9" * 40):
        assert as_id(bad) is None, bad


async def test_impossible_numeric_path_values_are_not_found(instance) -> None:
    await instance.create_member("ana")
    client = await instance.login("ana")
    for path in ("/posts/99999999999999999999999", "/api/koers/v1/communities/%C2%B2", "/results/%C2%B2/kudos"):
        resp = await client.get(path)
        assert resp.status == 404, path
