"""From a python-socketio connect handler's ``environ`` and ``auth`` to the policy's verdict.

The three examples share it: python-engineio hands every server's connect handler the same
WSGI-style ``environ`` (the Engine.IO handshake request), on aiohttp and ASGI too.
"""

import logging
from urllib.parse import parse_qs

from shared.policy import Identity, Policy, Refusal, credentials_in

log = logging.getLogger("handshake.native")


# --8<-- [start:decide]
async def decide(policy: Policy, namespace: str, environ: dict,
                 auth: object) -> Identity | Refusal:
    """Who connects to ``namespace``, or why not. ``environ``: the Engine.IO handshake
    request; ``auth``: the payload of the client's CONNECT for this namespace (or None)."""
    query = {name: values[-1]  # a repeated name keeps its last value, as in Socket.IO 4
             for name, values in parse_qs(environ.get("QUERY_STRING", ""),
                                          keep_blank_values=True).items()}
    headers = {key[5:].replace("_", "-").lower(): value  # HTTP_AUTHORIZATION: authorization
               for key, value in environ.items() if key.startswith("HTTP_")}
    presented = credentials_in({"query": query, "headers": headers, "auth": auth})
    client = policy.client(peer(environ), headers)  # whose password attempts to count
    try:
        verdict = await policy.authenticate(presented, client=client)
    except Exception:  # never let one escape: python-socketio would send no answer at all
        log.exception("refused: authorization_error", extra={"refusal": "authorization_error"})
        return Refusal("authorization_error")
    if isinstance(verdict, Identity):  # the policy's per-namespace rule: /admin wants an admin
        return policy.authorize_namespace(verdict, namespace) or verdict
    return verdict


def peer(environ: dict) -> str:
    """The client's address. python-engineio's aiohttp and ASGI drivers set ``REMOTE_ADDR``
    to 127.0.0.1 whoever connects; the request (aiohttp) or the scope (ASGI) has the real one."""
    if "aiohttp.request" in environ:
        return environ["aiohttp.request"].remote or ""
    if "asgi.scope" in environ:
        return (environ["asgi.scope"].get("client") or ("",))[0]
    return environ.get("REMOTE_ADDR", "")  # WSGI servers (Flask-SocketIO) fill it in
# --8<-- [end:decide]
