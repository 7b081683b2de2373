"""The signing pool: batches signed in other processes verify (under httpsig and our verifier)."""

from __future__ import annotations

import httpsig
import pytest

from federation import signing
from federation.signatures import KeyCache, parse_signature_header, verify_request
from federation.signing import Signer, SignJob
from server.services.keys import generate_key_pair

KEY_ID = "https://a.example/users/alice#main-key"
OWNER = "https://a.example/users/alice"


@pytest.fixture(scope="module")
def keypairs() -> list[tuple[str, str]]:
    return [generate_key_pair(), generate_key_pair()]


def _jobs(keypairs: list[tuple[str, str]], count: int) -> list[SignJob]:
    return [
        SignJob(
            "POST",
            f"https://b{i % 3}.example/users/u{i}/inbox",
            {"Content-Type": "application/activity+json"},
            b'{"id":"https://a.example/%d"}' % i,
            f"{KEY_ID}{i % 2}",
            keypairs[i % 2][0],
        )
        for i in range(count)
    ]


async def _check(jobs: list[SignJob], signed: list[dict[str, str]], keypairs) -> None:
    assert len(signed) == len(jobs)
    for i, (job, headers) in enumerate(zip(jobs, signed, strict=True)):
        public = keypairs[i % 2][1]
        path = "/" + job.url.split("://", 1)[1].split("/", 1)[1]
        names = parse_signature_header(headers["Signature"])["headers"].split()
        assert headers["Host"] == job.url.split("/")[2]
        assert httpsig.HeaderVerifier(
            headers,
            public,
            required_headers=names,
            method="POST",
            path=path,
            sign_header="Signature",
        ).verify()

        async def lookup(key_id: str, _refresh: bool, public: str = public) -> tuple[str, str]:
            return public, OWNER

        result = await verify_request("POST", path, headers, job.body, lookup)
        assert result.key_id == job.key_id


async def test_a_batch_signed_in_the_pool_verifies(keypairs) -> None:
    signer = Signer(KeyCache(), processes=2)
    jobs = _jobs(keypairs, 12)
    try:
        signed = await signer.sign_many(jobs)
        assert signer._pool is not None  # the batch went to the pool
        await _check(jobs, signed, keypairs)
    finally:
        signer.close()


async def test_a_few_are_signed_inline_without_a_pool(keypairs) -> None:
    signer = Signer(KeyCache(), processes=2)
    jobs = _jobs(keypairs, signing.INLINE_AT_MOST)
    signed = await signer.sign_many(jobs)
    assert signer._pool is None
    await _check(jobs, signed, keypairs)
    assert await signer.sign_many([]) == []


async def test_a_broken_pool_falls_back_to_signing_inline(keypairs) -> None:
    signer = Signer(KeyCache(), processes=2)
    jobs = _jobs(keypairs, 8)
    await signer.sign_many(jobs)
    pool = signer._pool
    assert pool is not None
    for process in list(pool._processes.values()):  # type: ignore[attr-defined]
        process.kill()
    signed = await signer.sign_many(jobs)
    await _check(jobs, signed, keypairs)
    signer.close()


def test_the_pool_is_sized_to_the_cores() -> None:
    assert signing.pool_size() >= 1
    assert Signer(KeyCache()).processes == signing.pool_size()
