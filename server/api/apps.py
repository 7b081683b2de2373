"""``/api/v1/apps``: client applications register themselves before asking for tokens."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import Row

from server.api import params
from server.api.auth import authenticate, parse_scopes
from server.api.common import ctx, json
from server.services import oauth, push

routes = web.RouteTableDef()


def to_mastodon_application(app: Row, *, with_secret: bool, vapid_key: str = "") -> dict:
    """Mastodon's Application (and CredentialApplication when ``with_secret``)."""
    uris = app.redirect_uris.split("\n")
    out = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": vapid_key,
    }
    if with_secret:
        out.update(
            client_id=app.client_id, client_secret=app.client_secret, client_secret_expires_at=0
        )
    return out


@routes.post("/api/v1/apps")
async def create_app(request: web.Request) -> web.Response:
    p = await params.read(request)
    name = p.str("client_name", max_len=255)
    if not name or not name.strip():
        raise oauth.OAuthError("invalid_request", "client_name: can't be blank", status=422)
    redirect = p.list("redirect_uris")
    uris = oauth.check_redirect_uris("\n".join(redirect))
    scopes = parse_scopes(p.str("scopes"))
    website = p.str("website")
    row = await oauth.register_app(
        ctx(request),
        name=name,
        redirect_uris=uris,
        scopes=scopes,
        website=None if params.unset(website) else website,
    )
    return json(
        to_mastodon_application(
            row, with_secret=True, vapid_key=push.vapid_public_key(ctx(request).settings)
        )
    )


@routes.get("/api/v1/apps/verify_credentials")
async def verify_app(request: web.Request) -> web.Response:
    auth = await authenticate(request)
    async with ctx(request).db.read() as conn:
        row = await oauth.get_app(conn, auth.app_id)
    return json(
        to_mastodon_application(
            row, with_secret=False, vapid_key=push.vapid_public_key(ctx(request).settings)
        )
    )
