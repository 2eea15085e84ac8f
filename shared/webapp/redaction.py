"""What of a handshake may be shown, in a log line or the ``handshake`` acknowledgement."""

import hashlib
import re
from collections.abc import Mapping
from urllib.parse import unquote

REDACTED = "[redacted]"
# The one rule for what may be shown, in a log line or the ``handshake`` acknowledgement: an
# allow-list. Query values: Engine.IO's own, in the shapes Engine.IO gives them (any other value
# may be a credential sent under another name); a session id only as a hash (its holder can
# drive that polling session). The ``t`` cache-buster is hidden too: a reader of the log needs
# nothing from it, and a client can send anything there (a password, as `make fuzz` found).
# Headers: these names; a cookie or any unknown header is hidden.
SAFE_PARAMS = {
    "EIO": re.compile(r"\d{1,2}"),
    "transport": re.compile(r"polling|websocket"),
}
SAFE_HEADERS = {
    "host", "user-agent", "accept", "accept-language", "accept-encoding", "origin", "connection",
    "upgrade", "content-type", "content-length", "sec-fetch-site", "sec-fetch-mode",
    "sec-fetch-dest", "sec-websocket-version", "x-forwarded-for",
}
IDENTIFIERS = {"sid"}
# Query names a log may show: Engine.IO's own and the credentials' (their values are hidden).
# Any other name, or a part with no "=", may itself be a credential: hidden whole.
KNOWN_NAMES = {*SAFE_PARAMS, *IDENTIFIERS, "t", "j", "b64", "token", "username", "password"}


def shown(name: str, value: str) -> str:
    """A query value as it may be shown: itself, a hash (session ids), or ``[redacted]``."""
    if name in IDENTIFIERS:
        return fingerprint(value)
    pattern = SAFE_PARAMS.get(name)
    return value if pattern and pattern.fullmatch(value) else REDACTED


def fingerprint(identifier: str) -> str:
    return "#" + hashlib.sha256(identifier.encode(errors="replace")).hexdigest()[:12]


def redacted(handshake: Mapping) -> dict:
    """A copy of a handshake object that may be shown: its query, headers, url and ``auth``
    through the one rule above; what the server itself added (address, user, role, the
    session's content) as is."""
    safe = dict(handshake)
    if isinstance(handshake.get("query"), Mapping):
        safe["query"] = {name: [shown(name, v) for v in value] if isinstance(value, list)
                         else shown(name, value) for name, value in handshake["query"].items()}
    if isinstance(handshake.get("headers"), Mapping):
        safe["headers"] = {name: value if name in SAFE_HEADERS else REDACTED
                           for name, value in handshake["headers"].items()}
    if isinstance(handshake.get("url"), str):
        safe["url"] = redacted_url(handshake["url"])
    if isinstance(handshake.get("auth"), Mapping):
        safe["auth"] = dict.fromkeys(handshake["auth"], REDACTED)
    if isinstance(handshake.get("session"), Mapping):  # 0.9's: what the session holds
        safe["session"] = dict(handshake["session"])  # (its id stays in the cookie, hidden)
    return safe


def redacted_url(url: str) -> str:
    """``/socket.io/?token=abc&EIO=4&x=1`` -> ``/socket.io/?token=[redacted]&EIO=4&[redacted]``."""
    path, sep, query = url.partition("?")
    if not sep:
        return url
    parts = []
    for part in query.split("&"):
        name, eq, value = part.partition("=")
        if not eq or name not in KNOWN_NAMES:
            parts.append(REDACTED)
            continue
        if "%" in value:
            value = unquote(value)
        parts.append(f"{name}={shown(name, value)}")
    return f"{path}?{'&'.join(parts)}"
