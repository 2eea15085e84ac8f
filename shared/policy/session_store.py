"""Server-side login sessions, kept by aiohttp-session: ``POST /login`` starts one, its cookie
holds only a random id, and the session itself (user, role, when they authenticated) stays on
the server, where ``POST /logout`` ends it.

Two storages, one per scheme, as for the token cookie: over TLS the cookie is
``__Host-session`` (Secure), over plain http ``session``, and each scheme reads only its own.
In one process the sessions are kept in memory (``MemoryStorage``, our own ``AbstractStorage``);
with several, in Redis (aiohttp-session's ``RedisStorage``), which every node reads.
"""

import re
import secrets
import time
import warnings
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web
from aiohttp.web_exceptions import NotAppKeyWarning
from aiohttp_session import AbstractStorage, Session, session_middleware
from aiohttp_session.redis_storage import RedisStorage

# aiohttp 3.14 asks for web.RequestKey; aiohttp-session 2.12.1, its latest, still keeps the
# session in the request under two string keys: said once per process, and of no use to a reader
warnings.filterwarnings("ignore", category=NotAppKeyWarning, module="aiohttp_session")

SESSION_TTL_SECONDS = 60 * 60
# What ``new_session_id`` makes: a cookie value of any other shape is no session of ours, and
# is never looked up in the store.
SESSION_ID = re.compile(r"[0-9a-f]{32}")


def cookies_named(headers: Mapping[str, str], name: str) -> list[str]:
    """Every value of the cookie ``name`` in a handshake's ``Cookie`` header, in order."""
    return [value.strip()
            for cookie, _, value in (part.partition("=")
                                     for part in headers.get("cookie", "").split(";"))
            if cookie.strip() == name]


def new_session_id() -> str:
    """128 random bits: the cookie's whole content, unguessable and meaning nothing."""
    return secrets.token_hex(16)


# --8<-- [start:cookie]
def session_cookie(secure: bool) -> str:
    """The session cookie's name: ``__Host-session`` over TLS, which only an https answer of
    this very host can set (as ``token_cookie``), else ``session``."""
    return "__Host-session" if secure else "session"


class ClearsLikeItSets(AbstractStorage):
    """aiohttp-session deletes a cookie with its path and domain only. A browser ignores the
    deletion of a ``__Host-`` cookie that is not ``Secure``: the logged-out cookie would
    stay. This deletes it with the attributes it was set with."""

    def save_cookie(self, response: web.StreamResponse, cookie_data: str, *,
                    max_age: int | None = None) -> None:
        if cookie_data:
            return super().save_cookie(response, cookie_data, max_age=max_age)
        params = self.cookie_params
        response.del_cookie(self.cookie_name, domain=params["domain"], path=params["path"],
                            secure=params["secure"], httponly=params["httponly"],
                            samesite=params["samesite"])
# --8<-- [end:cookie]


class MemoryStorage(ClearsLikeItSets):
    """Sessions in this process's memory, each forgotten once its lifetime (``max_age``) is
    over: at the latest when the next session is saved, so the store stays bounded."""

    def __init__(self, **cookie):
        super().__init__(**cookie)
        self._sessions: dict[str, tuple[float, str]] = {}  # id -> (kept until, encoded data)

    async def load_session(self, request: web.Request) -> Session:
        session_id = self.load_cookie(request)
        kept = self._sessions.get(session_id) if session_id else None
        if kept is None or kept[0] <= time.time():
            return Session(None, data=None, new=True, max_age=self.max_age)
        return Session(session_id, data=self._decoder(kept[1]), new=False, max_age=self.max_age)

    async def save_session(self, request: web.Request, response: web.StreamResponse,
                           session: Session) -> None:
        now = time.time()
        self._sessions = {key: kept for key, kept in self._sessions.items() if kept[0] > now}
        session_id = session.identity or new_session_id()
        if session.empty:  # invalidated: forgotten, and the cookie cleared
            self._sessions.pop(session_id, None)
            self.save_cookie(response, "", max_age=session.max_age)
            return
        until = now + session.max_age if session.max_age is not None else float("inf")
        self._sessions[session_id] = (until, self._encoder(self._get_session_data(session)))
        self.save_cookie(response, session_id, max_age=session.max_age)


class RedisSessions(ClearsLikeItSets, RedisStorage):
    """aiohttp-session's ``RedisStorage``, which every node behind the balancer reads."""


class SessionStore:
    """The sessions of an app: one storage per scheme (``storages``), installed on the app by
    ``middleware()`` (aiohttp-session's ``session_middleware``), and ``get()``, which reads
    a session by its id, as 0.9 apps called connect's ``sessionStore.get(sid, fn)``."""

    def __init__(self, make_storage, ttl: int = SESSION_TTL_SECONDS):
        self.ttl = ttl
        self.storages = {secure: make_storage(cookie_name=session_cookie(secure), secure=secure,
                                              httponly=True, samesite="Lax", path="/",
                                              max_age=ttl)
                         for secure in (False, True)}

    @classmethod
    def in_memory(cls, ttl: int = SESSION_TTL_SECONDS) -> "SessionStore":
        return cls(MemoryStorage, ttl)

    @classmethod
    def in_redis(cls, redis, ttl: int = SESSION_TTL_SECONDS) -> "SessionStore":
        return cls(lambda **cookie: RedisSessions(redis, key_factory=new_session_id, **cookie),
                   ttl)

    def middleware(self):
        """aiohttp-session's middleware, with the storage of the request's scheme."""
        by_scheme = {secure: session_middleware(storage)
                     for secure, storage in self.storages.items()}

        @web.middleware
        async def sessions(request: web.Request, handler) -> web.StreamResponse:
            return await by_scheme[request.secure](request, handler)

        return sessions

    @staticmethod
    def id_in(handshake: Mapping[str, Any]) -> str | None:
        """The session id a handshake's session cookie holds, if it sends exactly one, of the
        shape ours have (any other value names no session, and is not looked up)."""
        values = cookies_named(handshake["headers"], session_cookie(bool(handshake["secure"])))
        return values[0] if len(values) == 1 and SESSION_ID.fullmatch(values[0]) else None

    async def get(self, session_id: str | None, secure: bool) -> Session | None:
        """The live session with this id, or None (no id, an unknown, ended or expired one)."""
        if session_id is None:
            return None
        storage = self.storages[secure]
        # a storage reads a request's cookies only: these are all it is given
        session = await storage.load_session(CookiesOnly({storage.cookie_name: session_id}))
        return session if session.identity == session_id and not session.empty else None

    def clear_cookie(self, request: web.Request, response: web.StreamResponse) -> None:
        self.storages[request.secure].save_cookie(response, "")


class CookiesOnly:
    """A request as a storage's ``load_session`` reads it: its cookies."""

    def __init__(self, cookies: Mapping[str, str]):
        self.cookies = MappingProxyType(dict(cookies))
