"""``POST /login``: a username and password in, a signed token (body and cookie) out."""

import logging

from aiohttp import web

from shared.policy import MAX_CREDENTIAL_LENGTH, Policy

log = logging.getLogger("handshake.login")

POLICY = web.AppKey("policy", Policy)
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
    identity = await policy.login(username, password)
    if identity is None:
        log.info("login refused: bad_credentials", extra={"refusal": "bad_credentials"})
        return error(401, "bad_credentials")
    token = policy.tokens.issue(identity.user, identity.role)
    response = web.json_response(
        {"token": token, "user": identity.user, "role": identity.role,
         "expires_in": policy.tokens.ttl_seconds}
    )
    # HttpOnly: page scripts cannot read it; SameSite=Strict: other sites cannot send it.
    response.set_cookie("token", token, httponly=True, samesite="Strict",
                        max_age=policy.tokens.ttl_seconds, path="/")
    return response
