"""``POST /login``: a username and password in; a new server-side session (its cookie) and a
signed token (in the body, for the token carriers) out. ``POST /logout`` ends the caller's
session or token, ``POST /logout-everywhere`` every session and token of its user."""

import time
from collections.abc import Mapping
from dataclasses import dataclass

import jwt
from aiohttp import web
from aiohttp_session import Session, get_session, new_session
from redis.exceptions import RedisError

from shared.policy import Identity, Policy, Refusal, RevocationUnavailable, credentials_in
from shared.policy.decision import token_cookie
from shared.webapp.sessions import LiveSessions
from socketio_handshake_auth.http import HttpRequest, node_headers

POLICY = web.AppKey("policy", Policy)
SESSIONS = web.AppKey("sessions", LiveSessions)
MAX_BODY_BYTES = 4096
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
LOGIN_REFUSAL_STATUS = {"malformed_credentials": 400, "throttled": 429, "busy": 429,
                        "unavailable": 503}  # any other refusal: 401


def error(status: int, code: str) -> web.Response:
    return web.json_response({"error": code}, status=status)


# --8<-- [start:cookie]
def clear_token_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """The token cookie this scheme reads, which a client may have set itself (a browser
    ignores the deletion of a ``__Host-`` cookie that is not Secure)."""
    response.del_cookie(token_cookie(request.secure), path="/", secure=request.secure)
# --8<-- [end:cookie]


async def login(request: web.Request) -> web.Response:
    credentials = await login_form(request)
    if credentials is None:
        return error(400, "malformed_credentials")
    policy = request.app[POLICY]
    headers = headers_of(request)
    identity = await policy.login(*credentials,
                                  client=policy.client(request.remote or "", headers))
    if isinstance(identity, Refusal):
        return error(LOGIN_REFUSAL_STATUS.get(identity.code, 401), identity.code)
    await start_session(request, identity)
    return web.json_response(
        {"token": policy.tokens.issue(identity.user, identity.role), "user": identity.user,
         "role": identity.role, "expires_in": policy.tokens.ttl_seconds}
    )


# --8<-- [start:session]
async def start_session(request: web.Request, identity: Identity) -> None:
    """A new session, never the one the request came with (against session fixation).
    aiohttp-session's middleware saves it once the handler returns, and sets its cookie:
    ``session`` (over TLS ``__Host-session``, Secure), HttpOnly, SameSite=Lax, Path=/,
    Max-Age the session's lifetime, and nothing in it but a random id."""
    session = await new_session(request)
    session["user"], session["role"] = identity.user, identity.role
    session["authenticated_at"] = identity.authenticated_at
# --8<-- [end:session]


async def login_form(request: web.Request) -> tuple[object, object] | None:
    """The username and password of a JSON or a form body; None for any other body."""
    if request.content_length is None or request.content_length > MAX_BODY_BYTES:
        return None
    try:
        if request.content_type in FORMS:
            body = await request.post()
        else:
            body = await request.json()
    except (ValueError, LookupError, RecursionError):  # not JSON nor a form, in no known
        return None  # charset (or not in the one it names), or nested too deep
    if not isinstance(body, Mapping):
        return None
    return body.get("username"), body.get("password")


def headers_of(request: web.Request) -> dict[str, str]:
    """The headers as a handshake's are read (Node's rule): two ``Cookie`` headers are one
    list of cookies, never the last one alone."""
    return node_headers(HttpRequest(request.headers.items(), request.remote or "", None,
                                    request.raw_path, request.secure))


@dataclass(frozen=True)
class Caller:
    """Who asks to log out: the identity of their credential, when it ends anyway, and the
    session it is (None for a token)."""

    identity: Identity
    expires_at: float
    session: Session | None = None


async def caller_of(request: web.Request) -> Caller | web.Response:
    """The one credential the caller sends: a token (cookie or Bearer) or a session cookie;
    or the answer for a caller without exactly one valid one."""
    policy = request.app[POLICY]
    try:
        session = await get_session(request)
    except RedisError:
        return error(503, "revocation_unavailable")
    presented = [p for p in credentials_in({"headers": headers_of(request),
                                            "secure": request.secure}, session)
                 if p.token or p.session_id]
    if len(presented) != 1:
        return error(400, "malformed_credentials")
    [credential] = presented
    if credential.session_id is not None:
        return session_caller(request, credential.session_id, credential.session)
    try:
        claims = policy.tokens.verify(credential.token)
    except jwt.InvalidTokenError:
        return error(401, "bad_credentials")
    return Caller(Identity(claims["sub"], role="",  # what ``ended`` asks needs no role
                           token_id=claims["jti"], authenticated_at=float(claims["iat"])),
                  expires_at=claims["exp"])


def session_caller(request: web.Request, session_id: str,
                   session: Session | None) -> Caller | web.Response:
    if session is None:  # ended already (by another server sharing the store, or expired)
        answer = error(401, "invalid_session")
        request.app[POLICY].sessions.clear_cookie(request, answer)
        return answer
    return Caller(Identity(session["user"], session["role"], session_id=session_id,
                           authenticated_at=float(session["authenticated_at"])),
                  expires_at=session.created + session.max_age, session=session)


async def logout(request: web.Request) -> web.Response:
    """End the caller's session, or revoke its token, and end the sockets opened with it."""
    caller = await caller_of(request)
    if isinstance(caller, web.Response):
        return caller
    credential_id = caller.identity.credential_id
    # --8<-- [start:fails-closed]
    try:
        await request.app[POLICY].revoked.add(credential_id, caller.expires_at)
        await request.app[SESSIONS].revoke(credential_id)
    except RevocationUnavailable:
        # Fail closed, and say so: the token or session is not revoked, or not on every node
        # yet. The cookie is kept: the browser still holds what it has to log out again.
        return error(503, "revocation_unavailable")
    # --8<-- [end:fails-closed]
    response = web.json_response({"revoked": True})
    if caller.session is not None:  # the store forgets it; the middleware clears its cookie
        caller.session.invalidate()
    else:
        clear_token_cookie(request, response)
    return response


# --8<-- [start:everywhere]
async def logout_everywhere(request: web.Request) -> web.Response:
    """End every session of the caller's user: every token issued to them and every session
    they logged in to before now is refused from now on, and every live connection of theirs
    ends, on every node, whatever it was opened with (a token, a session cookie, or a
    username and password)."""
    caller = await caller_of(request)
    if isinstance(caller, web.Response):
        return caller
    policy, identity = request.app[POLICY], caller.identity
    try:
        [ended] = await policy.revoked.ended([identity])
        if ended == identity.revoked_code:  # a stolen credential, once revoked, cannot end
            return error(401, ended)  # anything more
        if ended is None:  # kept until every token and session begun before now has ended
            before = time.time()
            lasts = max(policy.tokens.ttl_seconds, policy.sessions.ttl)
            await policy.revoked.add_user(identity.user, before=before, keep_until=before + lasts)
        else:  # asked again (a retry, or another server sharing the store): the same cut-off,
            before = await policy.revoked.logged_out_before(identity.user)  # never a later one
        await request.app[SESSIONS].revoke_user(identity.user, before=before)
    except RevocationUnavailable:
        return error(503, "revocation_unavailable")
    # The cookie is left as it is: what it holds is refused everywhere from now on, and every
    # server the page logs out of must still read it (the side-by-side page asks two at once).
    return web.json_response({"revoked": True, "everywhere": True})
# --8<-- [end:everywhere]
