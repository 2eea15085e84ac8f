"""The two Python servers, as the tests meet them: one object each, which says what differs,
so that no test has to translate a name back through a map of its own."""

import importlib
from dataclasses import dataclass

from aiohttp import web

from shared.policy import REFUSALS
from socketio_handshake_auth import LegacyServer, MiddlewareServer
from tests.cases import HandshakeCase
from tests.client import Verdict


@dataclass(frozen=True)
class Implementation:
    id: str  # the era's name in the case table and on the page: "legacy" / "middleware"
    package: str  # the folder an app author writes; ``python -m`` runs it
    title: str  # the era, as its page is titled
    engine: type  # the engine its app is built on
    carrier: str  # a carrier the era reads a token from, as the page's form names it
    handshake_keys: tuple[str, ...]  # what the ``handshake`` acknowledgement shows, in order

    def __str__(self) -> str:
        return self.id

    def create_app(self, **options) -> web.Application:
        return importlib.import_module(f"{self.package}.app").create_app(**options)

    def expected(self, case: HandshakeCase) -> Verdict:
        return Verdict.expected(case.expected(self.id))

    def refusal_in_browser(self, code: str, namespace: str) -> dict:
        """What the era lets a browser see of a refusal (the declared difference)."""
        if self.id == "middleware":
            return {"kind": "connect_error", "message": REFUSALS[code], "data": {"code": code}}
        if namespace != "/":  # a 0.9 namespace refusal: error packet, reason "unauthorized"
            return {"kind": "connect_error", "message": "unauthorized", "data": None}
        return {"kind": "http", "status": 403, "body": "handshake unauthorized"}


LEGACY = Implementation(
    "legacy", "legacy_authorization", "0.9: global authorization", LegacyServer, "query-token",
    ("headers", "address", "time", "query", "url", "xdomain", "secure", "session", "user",
     "role", "expires_at", "token_id", "session_id", "authenticated_at"))  # no issued: 0.9
    # deleted it once used
MIDDLEWARE = Implementation(
    "middleware", "middleware_auth", "1.0+: middleware", MiddlewareServer, "auth-token",
    ("headers", "time", "address", "xdomain", "secure", "issued", "url", "query", "auth"))
IMPLEMENTATIONS = (LEGACY, MIDDLEWARE)
