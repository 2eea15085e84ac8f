"""``POST /login``: a username and password in, a signed token (body and cookie) out."""

import jwt
from aiohttp import web

from shared.policy import MAX_CREDENTIAL_LENGTH, Policy, Refusal, credentials_in
from shared.webapp.sessions import LiveSessions, RevocationUnavailable

POLICY = web.AppKey("policy", Policy)
SESSIONS = web.AppKey("sessions", LiveSessions)
MAX_BODY_BYTES = 4096


def error(status: int, code: str) -> web.Response:
    return web.json_response({"error": code}, status=status)


async def login(request: web.Request) -> web.Response:
    if request.content_length is None or request.content_length > MAX_BODY_BYTES:
        return error(400, "malformed_credentials")
    try:
        body = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        return error(400, "malformed_credentials")
    username = body.get("username") if isinstance(body, dict) else None
    password = body.get("password") if isinstance(body, dict) else None
    if not all(isinstance(v, str) and 0 < len(v) <= MAX_CREDENTIAL_LENGTH
               for v in (username, password)):
        return error(400, "malformed_credentials")
    policy = request.app[POLICY]
    headers = {name.lower(): value for name, value in request.headers.items()}
    identity = await policy.login(username, password,
                                  client=policy.client(request.remote or "", headers))
    if isinstance(identity, Refusal):
        status = {"throttled": 429, "busy": 429, "unavailable": 503}.get(identity.code, 401)
        return error(status, identity.code)
    token = policy.tokens.issue(identity.user, identity.role)
    response = web.json_response(
        {"token": token, "user": identity.user, "role": identity.role,
         "expires_in": policy.tokens.ttl_seconds}
    )
    # HttpOnly: page scripts cannot read it; SameSite=Strict: other sites cannot send it.
    response.set_cookie("token", token, httponly=True, samesite="Strict",
                        max_age=policy.tokens.ttl_seconds, path="/")
    return response


async def logout(request: web.Request) -> web.Response:
    """Revoke the caller's token (cookie or Bearer) and end the sockets opened with it."""
    policy = request.app[POLICY]
    presented = [p for p in credentials_in({}, {k.lower(): v for k, v in request.headers.items()})
                 if p.token]
    if len(presented) != 1:
        return error(400, "malformed_credentials")
    try:
        claims = policy.tokens.verify(presented[0].token)
    except jwt.InvalidTokenError:
        return error(401, "bad_credentials")
    # --8<-- [start:fails-closed]
    try:
        await policy.revoked.add(claims["jti"], claims["exp"])
        await request.app[SESSIONS].revoke(claims["jti"])
    except RevocationUnavailable:
        # Fail closed, and say so: the token is not revoked, or not on every node yet. The
        # cookie is kept: the browser still holds the token it has to log out again.
        return error(503, "revocation_unavailable")
    # --8<-- [end:fails-closed]
    response = web.json_response({"revoked": True})
    response.del_cookie("token", path="/")
    return response
