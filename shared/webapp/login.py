"""``POST /login``: a username and password in, a signed token (body and cookie) out;
``POST /logout`` and ``POST /logout-everywhere`` end it, or every session of its user."""

import time

import jwt
from aiohttp import web

from shared.policy import Identity, Policy, Refusal, RevocationUnavailable, credentials_in
from shared.policy.decision import token_cookie
from shared.webapp.sessions import LiveSessions
from socketio_handshake_auth.http import HttpRequest, node_headers

POLICY = web.AppKey("policy", Policy)
SESSIONS = web.AppKey("sessions", LiveSessions)
MAX_BODY_BYTES = 4096
LOGIN_REFUSAL_STATUS = {"malformed_credentials": 400, "throttled": 429, "busy": 429,
                        "unavailable": 503}  # any other refusal: 401


def error(status: int, code: str) -> web.Response:
    return web.json_response({"error": code}, status=status)


# --8<-- [start:cookie]
def set_token_cookie(request: web.Request, response: web.StreamResponse, token: str,
                     max_age: int) -> None:
    """HttpOnly: page scripts cannot read it; SameSite=Strict: other sites cannot send it.
    Over TLS (``request.secure``, also behind a trusted TLS proxy): ``__Host-token``, Secure,
    which only an https answer of this very host can set."""
    response.set_cookie(token_cookie(request.secure), token, httponly=True, samesite="Strict",
                        secure=request.secure, max_age=max_age, path="/")


def clear_token_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """The cookie this scheme reads (a browser ignores a ``__Host-`` one that is not Secure)."""
    response.del_cookie(token_cookie(request.secure), path="/", secure=request.secure)
# --8<-- [end:cookie]


async def login(request: web.Request) -> web.Response:
    if request.content_length is None or request.content_length > MAX_BODY_BYTES:
        return error(400, "malformed_credentials")
    try:
        body = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        return error(400, "malformed_credentials")
    if not isinstance(body, dict):
        return error(400, "malformed_credentials")
    policy = request.app[POLICY]
    headers = headers_of(request)
    identity = await policy.login(body.get("username"), body.get("password"),
                                  client=policy.client(request.remote or "", headers))
    if isinstance(identity, Refusal):
        return error(LOGIN_REFUSAL_STATUS.get(identity.code, 401), identity.code)
    token = policy.tokens.issue(identity.user, identity.role)
    response = web.json_response(
        {"token": token, "user": identity.user, "role": identity.role,
         "expires_in": policy.tokens.ttl_seconds}
    )
    set_token_cookie(request, response, token, policy.tokens.ttl_seconds)
    return response


def headers_of(request: web.Request) -> dict[str, str]:
    """The headers as a handshake's are read (Node's rule): two ``Cookie`` headers are one
    list of cookies, never the last one alone."""
    return node_headers(HttpRequest(request.headers.items(), request.remote or "", None,
                                    request.raw_path, request.secure))


async def caller_claims(request: web.Request) -> dict | web.Response:
    """The claims of the one valid token the caller sends (cookie or Bearer), or the answer
    for a caller without one."""
    policy = request.app[POLICY]
    presented = [p for p in credentials_in({"headers": headers_of(request),
                                            "secure": request.secure}) if p.token]
    if len(presented) != 1:
        return error(400, "malformed_credentials")
    try:
        return policy.tokens.verify(presented[0].token)
    except jwt.InvalidTokenError:
        return error(401, "bad_credentials")


async def logout(request: web.Request) -> web.Response:
    """Revoke the caller's token (cookie or Bearer) and end the sockets opened with it."""
    claims = await caller_claims(request)
    if isinstance(claims, web.Response):
        return claims
    # --8<-- [start:fails-closed]
    try:
        await request.app[POLICY].revoked.add(claims["jti"], claims["exp"])
        await request.app[SESSIONS].revoke(claims["jti"])
    except RevocationUnavailable:
        # Fail closed, and say so: the token is not revoked, or not on every node yet. The
        # cookie is kept: the browser still holds the token it has to log out again.
        return error(503, "revocation_unavailable")
    # --8<-- [end:fails-closed]
    response = web.json_response({"revoked": True})
    clear_token_cookie(request, response)
    return response


# --8<-- [start:everywhere]
async def logout_everywhere(request: web.Request) -> web.Response:
    """End every session of the caller's user: every token issued to them before now is
    refused from now on, and every live connection of theirs ends, on every node, whatever
    it was opened with (a token, or a username and password)."""
    claims = await caller_claims(request)
    if isinstance(claims, web.Response):
        return claims
    policy, user = request.app[POLICY], claims["sub"]
    identity = Identity(user, role="",  # what ``ended`` asks needs no role
                        token_id=claims.get("jti"), authenticated_at=float(claims["iat"]))
    try:
        [ended] = await policy.revoked.ended([identity])
        if ended == "revoked_token":  # a stolen token, once revoked, cannot end anything more
            return error(401, ended)
        if ended is None:  # kept until every token issued before now has expired anyway
            before = time.time()
            await policy.revoked.add_user(user, before=before,
                                          keep_until=before + policy.tokens.ttl_seconds)
        else:  # asked again (a retry, or another server sharing the store): the same cut-off,
            before = await policy.revoked.logged_out_before(user)  # never a later one
        await request.app[SESSIONS].revoke_user(user, before=before)
    except RevocationUnavailable:
        return error(503, "revocation_unavailable")
    # The cookie is left as it is: its token is refused everywhere from now on, and every
    # server the page logs out of must still read it (the side-by-side page asks two at once).
    return web.json_response({"revoked": True, "everywhere": True})
# --8<-- [end:everywhere]
