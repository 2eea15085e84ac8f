"""The engine behaviours, as data: what a scripted authorization function or middleware does,
and what the real server answered (``real``). The oracle test runs every row on the real server
and on ours: the real answer must still be ``real``, and ours must equal it or be the declared
difference the row names (``tests/oracle/differences.py``).

Scripts (``do``, ``then``, ``ns``) are in ``originals/oracle/scripts.js`` and
``tests/oracle/scripts.py``; ``call:A,B`` means ``callback(A, B)`` in 0.9, ``next(A)`` in 4.8.
"""

import re
from dataclasses import dataclass, field

from tests.oracle.differences import (
    CORS,
    ERROR_09,
    EXITED,
    NO_ANSWER,
    OK_09,
    ORIGIN,
    REFUSED_4,
    TIME,
)

OK, ERROR = OK_09, ERROR_09
UNAUTHORIZED = "403 text/plain 'handshake unauthorized'" + CORS


SPOKEN = {"{}": "object", "[]": "array", "''": "empty-string", "'boom'": "string",
          "{message+data}": "plain-object"}


@dataclass(frozen=True)
class Behaviour:
    era: str  # "0.9" or "4.8"
    what: str  # what the function does, in JavaScript
    real: str  # what the real server answered
    query: dict = field(default_factory=dict)
    namespace: str = "/"
    headers: tuple = ((("Origin", ORIGIN)),)
    show: tuple = ()  # handshake fields to show instead of the verdict
    difference: str | None = None  # the declared difference, where ours answers otherwise
    ours: str | None = None  # what ours answers instead, with that difference

    @property
    def id(self) -> str:
        words = self.what
        for value, word in SPOKEN.items():
            words = words.replace(value, word)
        slug = re.sub(r"[^a-z0-9+]+", "-", words.lower()).strip("-")
        return f"{self.era}-{slug}" + ("" if self.namespace == "/" else "-" + self.namespace[1:])


def callback(err: str, authorized: str, real: str, namespace: str = "/", **extra) -> Behaviour:
    """0.9: ``callback(err, authorized)`` from the global or a namespace's function."""
    key = "do" if namespace == "/" else "ns"
    return Behaviour("0.9", f"callback({err}, {authorized})", real,
                     {key: f"call:{err},{authorized}"}, namespace, **extra)


def admin(real_verdict: str) -> str:
    return f"{OK}; /admin: {real_verdict}"


def nexts(err: str, real: str, namespace: str = "/", **extra) -> Behaviour:
    key = "do" if namespace == "/" else "ns"
    return Behaviour("4.8", f"next({err})", real, {key: f"call:{err}"}, namespace, **extra)


CONNECT_ERROR_EMPTY = "connect_error {}"

BEHAVIOURS = [
    # ---- 0.9: the callback's two arguments, as JavaScript reads them --------------------------
    callback("null", "true", OK),
    callback("null", "false", UNAUTHORIZED),
    *(callback(err, "true", ERROR) for err in ("'boom'", "Error", "{}", "[]")),
    callback("'boom'", "false", ERROR),
    *(callback(err, "true", OK) for err in ("undefined", "false", "0", "''", "NaN")),
    *(callback("null", ok, OK) for ok in ("1", "'boom'", "{}", "[]")),
    *(callback("null", no, UNAUTHORIZED) for no in ("undefined", "0", "''", "NaN")),
    # ---- 0.9: CORS headers answer an Origin, and nothing else ----------------------------------
    Behaviour("0.9", "accept a handshake that sends no Origin", "200 connected",
              {"do": "call:null,true"}, headers=()),
    Behaviour("0.9", "accept a handshake that sends only a Referer", "200 connected",
              {"do": "call:null,true"}, headers=(("Referer", ORIGIN + "/page"),)),
    Behaviour("0.9", "refuse a handshake that sends no Origin",
              "403 text/plain 'handshake unauthorized'", {"do": "call:null,false"}, headers=()),
    # ---- 0.9: a namespace's authorization ------------------------------------------------------
    callback("null", "true", admin("connected"), "/admin"),
    callback("null", "false", admin("error 'unauthorized'"), "/admin"),
    callback("'boom'", "false", admin("error ''"), "/admin"),
    callback("{}", "true", admin("error ''"), "/admin"),
    callback("null", "{}", admin("connected"), "/admin"),
    callback("0", "true", admin("connected"), "/admin"),
    Behaviour("0.9", "join a namespace nobody created", NO_ANSWER, namespace="/nope",
              difference="unknown-namespace-09", ours=f"{OK}; /nope: error 'Invalid namespace'"),
    # ---- 0.9: functions that are async, throw, never answer, answer twice ----------------------
    Behaviour("0.9", "answer later (async)", OK, {"do": "async"}),
    Behaviour("0.9", "throw", EXITED, {"do": "throws"}, difference="throwing-authorization",
              ours=ERROR),
    Behaviour("0.9", "reject (async function)", EXITED, {"do": "rejects"},
              difference="throwing-authorization", ours=ERROR),
    Behaviour("0.9", "never call back", NO_ANSWER, {"do": "never"},
              difference="authorization-never-answers", ours=ERROR),
    Behaviour("0.9", "call back twice", EXITED, {"do": "twice"},
              difference="authorization-answers-twice", ours=OK),
    Behaviour("0.9", "callback(err) then callback(null, true)", EXITED, {"do": "error-then-ok"},
              difference="authorization-answers-twice", ours=ERROR),
    Behaviour("0.9", "callback(err) then callback(null, true)", admin("error '' then connected"),
              {"ns": "error-then-ok"}, "/admin", difference="namespace-answers-twice",
              ours=admin("error ''")),
    # ---- 4.8: next() with every kind of value --------------------------------------------------
    *(nexts(value, "connected") for value in ("undefined", "null", "false", "0", "''", "NaN")),
    *(nexts(value, CONNECT_ERROR_EMPTY) for value in ("{}", "[]", "'boom'", "1", "true")),
    nexts("Error", 'connect_error {"message": "boom"}'),
    nexts("Error+data", 'connect_error {"data": {"code": "bad_credentials"}, "message": "boom"}'),
    nexts("Error+data=null", 'connect_error {"data": null, "message": "boom"}'),
    nexts("{message+data}", 'connect_error {"data": {"code": 1}, "message": "plain"}'),
    nexts("{}", CONNECT_ERROR_EMPTY, "/admin"),
    nexts("Error+data", 'connect_error {"data": {"code": "bad_credentials"}, "message": "boom"}',
          "/admin"),
    Behaviour("4.8", "join a namespace nobody created", 'connect_error {"message": '
              '"Invalid namespace"}', namespace="/nope"),
    # ---- 4.8: chains, async, throw, never, twice -----------------------------------------------
    Behaviour("4.8", "two middlewares run in order", 'data.ran = ["do", "then"]',
              show=("data.ran",)),
    Behaviour("4.8", "io.use does not run for /admin", 'data.ran = ["ns"]', namespace="/admin",
              show=("data.ran",)),
    Behaviour("4.8", "read socket.connected in a middleware", "data.connected = false",
              show=("data.connected",)),
    Behaviour("4.8", "next(err) stops the chain (the next one would throw)",
              'connect_error {"message": "boom"}', {"do": "call:Error", "then": "throws"}),
    Behaviour("4.8", "next() later (async)", "connected", {"do": "async"}),
    Behaviour("4.8", "throw", EXITED, {"do": "throws"}, difference="throwing-middleware",
              ours=REFUSED_4),
    Behaviour("4.8", "reject (async middleware)", EXITED, {"do": "rejects"},
              difference="throwing-middleware", ours=REFUSED_4),
    Behaviour("4.8", "never call next", NO_ANSWER, {"do": "never"},
              difference="middleware-never-calls-next", ours=REFUSED_4),
    Behaviour("4.8", "call next twice", "connected (2 welcomes)", {"do": "twice"},
              difference="next-called-twice", ours="connected"),
    Behaviour("4.8", "next(err) then next()", 'connect_error {"message": "boom"}',
              {"do": "error-then-ok"}),
    # ---- the handshake objects' fields ---------------------------------------------------------
    *(Behaviour(era, "a repeated query name", real, {"a": ["1", "2", "3"]}, show=("query.a",))
      for era, real in (("0.9", 'query.a = ["1", "2", "3"]'), ("4.8", 'query.a = "3"'))),
    *(Behaviour(era, "percent-encoding, + and bad escapes",
                'query.p = "A b c+\\u2713"; query.bad = "%ZZ"; query.lone = '
                '"\\ufffd\\ufffd\\ufffd"; query.empty = ""; query.flag = ""',
                {"raw": "p=%41%20b+c%2B%E2%9C%93&bad=%ZZ&lone=%ED%A0%80&empty=&flag"},
                show=("query.p", "query.bad", "query.lone", "query.empty", "query.flag"))
      for era in ("0.9", "4.8")),
    *(Behaviour(era, "repeated headers", 'headers.x-dup = "1, 2"; headers.cookie = "a=1; b=2"; '
                'headers.authorization = "Bearer one"',
                headers=(("X-Dup", "1"), ("X-Dup", "2"), ("Cookie", "a=1"), ("Cookie", "b=2"),
                         ("Authorization", "Bearer one"), ("Authorization", "Bearer two")),
                show=("headers.x-dup", "headers.cookie", "headers.authorization"))
      for era in ("0.9", "4.8")),
    *(Behaviour(era, "an Origin header", f'xdomain = true; headers.origin = "{ORIGIN}"',
                show=("xdomain", "headers.origin")) for era in ("0.9", "4.8")),
    *(Behaviour(era, "no Origin header", "xdomain = false", headers=(), show=("xdomain",))
      for era in ("0.9", "4.8")),
    Behaviour("0.9", "the fields", 'keys = ["headers", "address", "time", "query", "url", '
              '"xdomain"]', show=("keys",), difference="secure-is-a-boolean",
              ours='keys = ["headers", "address", "time", "query", "url", "xdomain", "secure"]'),
    Behaviour("0.9", "the types", 'types.address = "{address: string, port: number}"; '
              'types.time = "string"', show=("types.address", "types.time")),
    Behaviour("0.9", "the query's own names", 'query = {"t": "<ms>"}', show=("query",),
              difference="engine-io-query", ours='query = {"EIO": "4", "transport": "polling"}'),
    Behaviour("4.8", "the fields", 'keys = ["headers", "time", "address", "xdomain", "secure", '
              '"issued", "url", "query", "auth"]', show=("keys",)),
    Behaviour("4.8", "the types", 'types.address = "string"; types.secure = "boolean"; '
              'types.issued = "number"; auth = {}',
              show=("types.address", "types.secure", "types.issued", "auth")),
    *(Behaviour(era, "the time", TIME.format("Coordinated Universal Time"), show=("time",),
                difference="date-zone-name", ours=TIME.format("UTC"))
      for era in ("0.9", "4.8")),
    Behaviour("4.8", "a foreign Origin, no CORS configured", "connected",
              headers=(("Origin", "http://elsewhere.example"),),
              difference="foreign-origin-without-cors", ours="HTTP 400"),
    *(Behaviour(era, "a repeated User-Agent", 'headers.user-agent = "one"',
                headers=(("User-Agent", "one"), ("User-Agent", "two")),
                show=("headers.user-agent",), difference="duplicate-user-agent",
                ours="HTTP 400")
      for era in ("0.9", "4.8")),
]
