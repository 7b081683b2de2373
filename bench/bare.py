"""The bare aiohttp handler every benchmark figure is compared with: ``python -m bench.bare PORT``.

One route answering a small JSON document, no middleware, no access log: the ceiling of
aiohttp itself on this machine in the same run.
"""

from __future__ import annotations

import sys

from aiohttp import web

BODY = b'{"id":"1","content":"<p>hello</p>","visibility":"public"}'


async def hello(_request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


def main() -> int:
    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
