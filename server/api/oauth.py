"""OAuth 2 endpoints: the authorize page (login + consent), the token endpoint, revocation, metadata.

``/oauth/authorize`` reuses the web session: a member logged in on the web pages only has to
approve; otherwise the page asks for the password first. ``force_login`` always asks.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from server.api import params
from server.api.auth import SCOPES, parse_scopes
from server.api.common import ctx, json
from server.errors import Forbidden, ValidationError
from server.http import sign_in
from server.http.pages import current_user, form, render
from server.http.rate_limit import client_address
from server.services import accounts, oauth, totp
from server.services.oauth import OOB, OAuthError

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

GRANTS = ["authorization_code", "client_credentials", "refresh_token"]


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    """A checked ``/oauth/authorize`` request."""

    app_id: int
    app_name: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    force_login: bool

    def hidden(self) -> dict[str, str]:
        """The parameters to carry through the login and consent forms."""
        out = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": " ".join(self.scopes),
        }
        if self.state is not None:
            out["state"] = self.state
        if self.code_challenge:
            out["code_challenge"] = self.code_challenge
            out["code_challenge_method"] = self.code_challenge_method or "plain"
        return out


def _opt(value: object) -> str | None:
    text = None if value is None else str(value)
    return None if params.unset(text) else text


async def _check_request(request: web.Request, data) -> AuthorizeRequest:
    """Validate the authorize parameters; errors are shown on a page, never redirected."""
    async with ctx(request).db.read() as conn:
        app = await oauth.app_by_client_id(conn, _opt(data.get("client_id")))
    if app is None:
        raise ValidationError("Client authentication failed: unknown client_id", field="client_id")
    redirect_uri = _opt(data.get("redirect_uri")) or app.redirect_uris.split("\n")[0]
    if redirect_uri not in app.redirect_uris.split("\n"):
        raise ValidationError(
            "The redirect URI included is not valid for this application", field="redirect_uri"
        )
    response_type = _opt(data.get("response_type")) or "code"
    if response_type != "code":
        raise ValidationError(
            "The authorization server does not support this response type", field="response_type"
        )
    scopes = parse_scopes(
        _opt(data.get("scope")) or _opt(data.get("scopes")) or app.scopes,
        allowed=frozenset(app.scopes.split()),
    )
    challenge = _opt(data.get("code_challenge"))
    method = _opt(data.get("code_challenge_method")) or ("plain" if challenge else None)
    if method not in (None, "S256", "plain"):
        raise ValidationError(
            "code_challenge_method must be S256 or plain", field="code_challenge_method"
        )
    force = (_opt(data.get("force_login")) or "").lower() in ("true", "1", "yes")
    return AuthorizeRequest(
        app.id,
        app.name,
        app.client_id,
        redirect_uri,
        scopes,
        _opt(data.get("state")),
        challenge,
        method,
        force,
    )


async def _page(
    request: web.Request,
    req: AuthorizeRequest,
    *,
    login: bool,
    status: int = 200,
    error: str | None = None,
    login_value: str = "",
) -> web.Response:
    return await render(
        request,
        "oauth_authorize.html",
        status=status,
        req=req,
        hidden=req.hidden(),
        show_login=login,
        errors={"password": error} if error else {},
        login_value=login_value,
        user=await current_user(request),
    )


@routes.get("/oauth/authorize")
@routes.get("/oauth/authorize/")
async def authorize_page(request: web.Request) -> web.Response:
    req = await _check_request(request, request.query)
    user = await current_user(request)
    return await _page(request, req, login=user is None or req.force_login)


@routes.post("/oauth/authorize")
@routes.post("/oauth/authorize/")
async def authorize_submit(request: web.Request) -> web.Response:
    data = await form(request)
    req = await _check_request(request, data)
    if data.get("password") is not None:
        login = str(data.get("login", ""))[:320]
        try:
            account = await accounts.authenticate(
                ctx(request).db, login, str(data.get("password", "")), client_address(request)
            )
            await sign_in.password_verified(
                request, account.user_id, "/oauth/authorize?" + urlencode(req.hidden())
            )
        except Forbidden as exc:
            return await _page(
                request, req, login=True, status=403, error=exc.message, login_value=login
            )
        return await _page(
            request, req.__class__(**{**_fields(req), "force_login": False}), login=False
        )
    user = await current_user(request)
    if user is None:
        return await _page(request, req, login=True, status=401, error="please log in first")
    if data.get("decision") != "approve":
        return _finish(
            req,
            {
                "error": "access_denied",
                "error_description": "The resource owner denied the request.",
            },
        )
    code = await oauth.create_code(
        ctx(request),
        app_id=req.app_id,
        user_id=user.user_id,
        redirect_uri=req.redirect_uri,
        scopes=req.scopes,
        code_challenge=req.code_challenge,
        code_challenge_method=req.code_challenge_method,
    )
    if req.redirect_uri == OOB:
        return await render(request, "oauth_code.html", code=code, app_name=req.app_name)
    return _finish(req, {"code": code})


def _fields(req: AuthorizeRequest) -> dict:
    return {f: getattr(req, f) for f in req.__dataclass_fields__}


def _finish(req: AuthorizeRequest, result: dict[str, str]) -> web.Response:
    if req.state is not None:
        result["state"] = req.state
    if req.redirect_uri == OOB:
        raise Forbidden(result.get("error_description", "denied"))
    sep = "&" if "?" in req.redirect_uri else "?"
    raise web.HTTPFound(req.redirect_uri + sep + urlencode(result))


def _oauth_error(exc: OAuthError) -> web.Response:
    return json({"error": exc.code, "error_description": exc.message}, status=exc.status)


@routes.post("/oauth/token")
async def token(request: web.Request) -> web.Response:
    p = await params.read(request)
    c = ctx(request)
    try:
        grant = oauth.require(p.str("grant_type"), "grant_type")
        client_id, client_secret = p.str("client_id"), p.str("client_secret")
        if not client_id and request.headers.get("Authorization", "").lower().startswith("basic "):
            try:
                raw = base64.b64decode(request.headers["Authorization"][6:].strip() + "==").decode(
                    errors="replace"
                )
            except binascii.Error:
                raise OAuthError(
                    "invalid_client", "The Basic credentials are not valid base64.", status=401
                ) from None
            client_id, _, client_secret = raw.partition(":")
        app = await oauth.client(c, client_id, client_secret)
        allowed = frozenset(app.scopes.split())
        raw_scope = p.str("scope") or p.str("scopes")
        scopes = (
            parse_scopes(None if params.unset(raw_scope) else raw_scope, allowed=allowed)
            if raw_scope
            else None
        )
        if grant == "authorization_code":
            issued = await oauth.exchange_code(
                c,
                app,
                code=oauth.require(p.str("code"), "code"),
                redirect_uri=_opt(p.str("redirect_uri")),
                code_verifier=_opt(p.str("code_verifier")),
            )
        elif grant == "client_credentials":
            issued = await oauth.issue_for(c, app, None, scopes or ("read",))
        elif grant == "password":
            if not c.settings.password_grant:
                raise OAuthError(
                    "unsupported_grant_type", "The password grant is switched off on this instance."
                )
            username = oauth.require(p.str("username"), "username")
            try:
                account = await accounts.authenticate(
                    c.db,
                    username,
                    oauth.require(p.str("password"), "password"),
                    client_address(request),
                )
                await totp.check_password_grant(c.db, c.settings, account.user_id)
            except Forbidden as exc:
                raise OAuthError("invalid_grant", exc.message) from None
            issued = await oauth.issue_for(
                c, app, account.user_id, scopes or tuple(sorted(allowed & {"read"})) or ("read",)
            )
        elif grant == "refresh_token":
            issued = await oauth.refresh(
                c, app, oauth.require(p.str("refresh_token"), "refresh_token"), scopes
            )
        else:
            raise OAuthError(
                "unsupported_grant_type", "The authorization grant type is not supported."
            )
    except OAuthError as exc:
        return _oauth_error(exc)
    except ValidationError as exc:
        return json(
            {
                "error": "invalid_scope" if exc.field == "scope" else "invalid_request",
                "error_description": exc.message,
            },
            status=400,
        )
    body: dict[str, object] = {
        "access_token": issued.token,
        "token_type": "Bearer",
        "scope": " ".join(issued.scopes),
        "created_at": issued.created_at,
    }
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
        body["expires_in"] = issued.expires_in
    return json(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@routes.post("/oauth/revoke")
async def revoke(request: web.Request) -> web.Response:
    p = await params.read(request)
    try:
        app = await oauth.client(ctx(request), p.str("client_id"), p.str("client_secret"))
        await oauth.revoke(ctx(request), app, oauth.require(p.str("token"), "token"))
    except OAuthError as exc:
        if exc.code == "invalid_client":
            exc.status = 403
            exc.code = "unauthorized_client"
            exc.message = "You are not authorized to revoke this token"
        return _oauth_error(exc)
    return json({})


@routes.get("/.well-known/oauth-authorization-server")
async def metadata(request: web.Request) -> web.Response:
    base = ctx(request).settings.url
    grants = [*GRANTS, *(["password"] if ctx(request).settings.password_grant else [])]
    return json(
        {
            "issuer": base + "/",
            "service_documentation": "https://docs.joinmastodon.org/",
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "app_registration_endpoint": f"{base}/api/v1/apps",
            "scopes_supported": sorted(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "grant_types_supported": grants,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256", "plain"],
        }
    )
