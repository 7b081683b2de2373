"""The fediverse a benchmark run talks to, all on loopback: remote actors whose keys Koers can
fetch, a sink that accepts deliveries on 20 loopback addresses (20 hosts), signed activities,
and the machine's RSA-2048 signing limit.

Signatures are made here (draft-cavage, rsa-sha256, as Mastodon sends them), independently of
Koers' own code, so the benchmark keeps measuring whatever Koers becomes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import multiprocessing
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SINK_HOSTS = 20
AS = "https://www.w3.org/ns/activitystreams"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def sign_post(
    key: rsa.RSAPrivateKey, key_id: str, url: str, body: bytes, host: str
) -> dict[str, str]:
    """Headers of a signed ActivityPub POST of ``body`` to ``url`` (``host`` as sent)."""
    path = urlsplit(url).path
    date = formatdate(usegmt=True)
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    text = f"(request-target): post {path}\nhost: {host}\ndate: {date}\ndigest: {digest}"
    signature = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256()))
    return {
        "Host": host,
        "Date": date,
        "Digest": digest,
        "Content-Type": "application/activity+json",
        "Signature": (
            f'keyId="{key_id}",algorithm="rsa-sha256",'
            f'headers="(request-target) host date digest",signature="{signature.decode()}"'
        ),
    }


@dataclass
class Actors:
    """Remote people at ``http://127.0.0.1:PORT/users/rN`` sharing one key."""

    key: rsa.RSAPrivateKey
    count: int = 10
    port: int = 0
    runner: web.AppRunner | None = None

    def uri(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/users/r{n}"

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    def document(self, n: int) -> dict[str, Any]:
        uri = self.uri(n)
        return {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": uri,
            "type": "Person",
            "preferredUsername": f"r{n}",
            "name": f"Remote {n}",
            "inbox": f"{uri}/inbox",
            "outbox": f"{uri}/outbox",
            "followers": f"{uri}/followers",
            "following": f"{uri}/following",
            "endpoints": {"sharedInbox": f"http://{self.domain}/inbox"},
            "publicKey": {
                "id": f"{uri}#main-key",
                "owner": uri,
                "publicKeyPem": public_pem(self.key),
            },
        }

    async def start(self, port: int) -> None:
        async def actor(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            if not name.startswith("r") or not name[1:].isdigit():
                raise web.HTTPNotFound()
            body = json.dumps(self.document(int(name[1:])))
            return web.Response(text=body, content_type="application/activity+json")

        async def accept(_request: web.Request) -> web.Response:
            return web.Response(status=202)

        app = web.Application()
        app.router.add_get("/users/{name}", actor)
        app.router.add_post("/{tail:.*}", accept)
        self.port = port
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()

    def create_note(self, n: int, content: str) -> bytes:
        actor = self.uri(n % self.count)
        note = f"{actor}/statuses/{uuid.uuid4().hex}"
        doc = {
            "@context": AS,
            "id": f"{note}/activity",
            "type": "Create",
            "actor": actor,
            "to": [f"{AS}#Public"],
            "cc": [f"{actor}/followers"],
            "object": {
                "id": note,
                "type": "Note",
                "attributedTo": actor,
                "content": f"<p>{content}</p>",
                "to": [f"{AS}#Public"],
                "cc": [f"{actor}/followers"],
                "published": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
        }
        return json.dumps(doc).encode()

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


class _SinkProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, as little as a receiver can do: each request read whole (its
    headers and ``Content-Length`` bytes of body), counted, and answered 202. A real receiver runs
    on another machine; this one shares the benchmark's cores with Koers, so it must cost little
    (about a tenth of aiohttp's server per request) to leave the measure to Koers."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        replies = 0
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            length = _content_length(buffer[:end])
            if len(buffer) < end + 4 + length:
                break
            buffer = buffer[end + 4 + length :]
            replies += 1
        self.buffer = buffer
        if replies:
            self.sink.count(replies)
            assert self.transport is not None
            self.transport.write(_ACCEPTED * replies)


_ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"


def _content_length(head: bytes) -> int:
    """The ``Content-Length`` of a request head (0 without one)."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


@dataclass
class Sink:
    """Accepts every POST with 202 on 127.0.0.2 … 127.0.0.21 (one port) and counts them."""

    port: int = 0
    received: int = 0
    first: float = 0.0
    last: float = 0.0
    servers: list[asyncio.Server] = field(default_factory=list)

    @staticmethod
    def address(n: int) -> str:
        return f"127.0.0.{2 + n % SINK_HOSTS}"

    def count(self, n: int) -> None:
        now = time.monotonic()
        if not self.received:
            self.first = now
        self.received += n
        self.last = now

    async def start(self, port: int) -> None:
        self.port = port
        loop = asyncio.get_running_loop()
        for n in range(SINK_HOSTS):
            server = await loop.create_server(lambda: _SinkProtocol(self), self.address(n), port)
            self.servers.append(server)

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
            await server.wait_closed()


def _sign_for(seconds: float) -> int:
    key = new_key()
    data = b"(request-target): post /inbox\nhost: example.org\ndate: now\ndigest: x"
    n, stop = 0, time.perf_counter() + seconds
    while time.perf_counter() < stop:
        key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        n += 1
    return n


def rsa_limit(seconds: float, processes: int) -> tuple[float, float]:
    """RSA-2048 signatures per second: on one core, and with ``processes`` cores at once."""
    one = _sign_for(seconds) / seconds
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        total = sum(pool.map(_sign_for, [seconds] * processes)) / seconds
    return one, total
