"""Every way our emulations answer differently from real Socket.IO: one list, each entry with
its reason. The oracle tests fail on a difference that no row declares with an entry here, and
the site renders this list (docs/reference/fidelity.md)."""

from dataclasses import dataclass

# What the oracle's clients see, in the words the rows use.
ORIGIN = "http://page.example"  # the page the oracle's clients say they come from
CORS = f" Access-Control-Allow-Origin: {ORIGIN} Access-Control-Allow-Credentials: true"
OK_09 = "200 connected" + CORS
ERROR_09 = "500 text/plain 'handshake error'" + CORS
EXITED = "server process exited"
NO_ANSWER = "no answer"
REFUSED_4 = 'connect_error {"message": "Authorization failed"}'
TIME = 'time = "Ddd Mmm 00 0000 00:00:00 GMT+0000 ({})"'


@dataclass(frozen=True)
class Difference:
    id: str
    era: str  # "0.9", "4.8" or "both"
    real: str  # what real Socket.IO does
    ours: str  # what we do instead
    reason: str
    kind: str = "fail closed"  # "platform": Python or aiohttp leave no choice; or "hardened"


DIFFERENCES = {d.id: d for d in [
    Difference(
        "throwing-authorization", "0.9", "the whole process exits",
        "that handshake gets 500 handshake error",
        "0.9.19 has no try/catch around the authorization function: a throw, or a rejected "
        "promise on Node 15+, ends the process and every connected user with it. Ours answers "
        "as callback(err) would, and logs the error."),
    Difference(
        "authorization-never-answers", "0.9", "the handshake request hangs for ever",
        "500 handshake error after the 'authorization timeout' setting",
        "0.9.19 waits for the callback with no limit. Ours fails closed after 10 s by default "
        "(1 s in the oracle)."),
    Difference(
        "authorization-answers-twice", "0.9",
        "the client gets the first answer, then the whole process exits",
        "the first answer stands; later calls are ignored",
        "0.9.19 writes the handshake answer again on a second callback and dies on it."),
    Difference(
        "namespace-answers-twice", "0.9",
        "callback(err) then callback(null, true): the client gets the error, then the "
        "namespace connects anyway",
        "the first answer stands (the error)",
        "0.9.19 acts on every call of a namespace's callback, so a late true lets a refused "
        "client in. Ours keeps the first answer."),
    Difference(
        "unknown-namespace-09", "0.9", "the connect packet is ignored: the client waits for ever",
        "the client is refused with 'Invalid namespace'",
        "0.9.19 drops a connect packet for a namespace nobody created. Ours refuses it, with "
        "Socket.IO 4's message, so that bad input gets a clear answer."),
    Difference(
        "throwing-middleware", "4.8", "the whole process exits",
        "that connection gets connect_error 'Authorization failed'",
        "Socket.IO 4.8 has no try/catch around a middleware: a throw, or a rejected async "
        "middleware, is an unhandled rejection, and Node 15+ ends the process on it. Ours "
        "refuses that one connection with a generic message and logs the error."),
    Difference(
        "middleware-never-calls-next", "4.8",
        "no connect_error; connectTimeout (45 s by default) closes the connection",
        "connect_error 'Authorization failed' after middleware_timeout",
        "Ours fails closed after 10 s by default (1 s in the oracle, whose real server has a "
        "2 s connectTimeout)."),
    Difference(
        "next-called-twice", "4.8",
        "a second CONNECT and a second 'connection' event; next(err) then next() refuses, then "
        "connects", "the first call of next stands",
        "Socket.IO 4.8 does not guard next. Ours keeps the first call."),
    Difference(
        "origins-match-whole-entries", "0.9",
        "a string 'origins' setting is searched with indexOf: 'good.example:80' also admits "
        "http://d.example", "each entry must match whole",
        "A substring match is an accident of 0.9.19's code, not a rule anyone relied on; "
        "tests/test_originals.py::test_0_9_origins_as_a_string_lets_in_a_host_it_contains runs "
        "the real one."),
    Difference(
        "secure-is-a-boolean", "0.9", "handshakeData.secure is undefined",
        "handshake_data['secure'] is a boolean",
        "0.9.19 read req.connection.secure, which Node 20 never sets, even over HTTPS. Ours "
        "gives the boolean the 0.9 documentation promised.", "documented"),
    Difference(
        "engine-io-query", "0.9", "the query holds the client's cache-buster t",
        "the query holds EIO and transport",
        "The 0.9 client put the protocol in the path (/socket.io/1/) and t in the query. Ours "
        "runs over Engine.IO 4, whose clients send EIO, transport (and t) in the query; an app "
        "that reads only its own names sees no difference.", "platform"),
    Difference(
        "date-zone-name", "both", "Date#toString(): '(Coordinated Universal Time)'", "'(UTC)'",
        "JavaScript prints ICU's long zone name; Python's strftime gives the abbreviation.",
        "platform"),
    Difference(
        "foreign-origin-without-cors", "4.8",
        "a handshake from an Origin that CORS does not allow is served (the browser only hides "
        "the answer)", "HTTP 400 'not an accepted origin'",
        "Socket.IO 4 checks Origin only through CORS headers, which do not stop a WebSocket or "
        "a request the page does not need to read. python-engineio refuses such a handshake "
        "itself: stricter, kept."),
    Difference(
        "polling-payloads", "4.8",
        "a polling POST holding an Engine.IO open packet (ignored), a ping (the session ends), "
        "a packet with no type (the session ends), or a CONNECT whose bytes are not UTF-8 "
        "(read with replacement characters; its data is then no JSON, and the session ends) "
        "gets 200 'ok'; one over maxHttpBufferSize gets 413 with no body, and the session "
        "lives on",
        "HTTP 400 'bad payload' for any of the first four, or for any payload that is not "
        "UTF-8; 413 'payload too large' over max_http_buffer_size; none of the POST is read, "
        "and the session lives on",
        "python-engineio, given a packet no client sends, closes the session, and the close "
        "holds the POST until a long-poll that was already waiting takes what is queued: "
        "without one, for ever. Given a malformed or non-UTF-8 payload, it logs a traceback, "
        "answers 200 and drops it, so that a CONNECT in it is never answered. The engines "
        "refuse such a POST before it reads it, rather than rewrite it. Real 4.8: "
        "originals/v4/polling-payloads.out.txt; ours: tests/test_middleware_auth.py::"
        "test_a_polling_post_python_engineio_cannot_take_is_refused_at_once, and under ASGI "
        "tests/test_fastapi_example.py::"
        "test_under_asgi_a_polling_post_it_cannot_take_is_refused_at_once.", "hardened"),
    Difference(
        "jsonp-refused", "4.8",
        "a JSONP handshake (`?j=0`) is served: a script that calls `___eio[0]` with the session id",
        "HTTP 400 'JSONP polling is disabled', unless an engine is built with `jsonp=True`",
        "A `<script>` tag on any page of the site (of any site, for a SameSite=None cookie) "
        "sends the user's cookie and no Origin, so that page would read the session id and "
        "drive an authenticated session. socket.io-client 4 never asks for JSONP: "
        "engine.io-client 6 has no JSONP transport (originals/v4/node_modules). Real 4.8: "
        "originals/v4/polling-payloads.out.txt; ours: "
        "tests/test_origins.py::test_jsonp_is_refused_before_authorization_runs.",
        "hardened"),
    Difference(
        "duplicate-user-agent", "both", "Node keeps the first User-Agent",
        "HTTP 400 before any of our code runs",
        "aiohttp refuses a request that repeats User-Agent, Host or Content-Type.", "platform"),
]}
