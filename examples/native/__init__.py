"""python-socketio's own answer to "send login data with the handshake, refuse the connection
when it is wrong", three times: on aiohttp, on ASGI (uvicorn) and in Flask-SocketIO.

``python -m examples.native.aiohttp_app`` (or ``.asgi_app``, ``.flask_app``) serves one on
127.0.0.1 with a real policy; ``tests/test_native.py`` runs every case of the spec against each.
"""

import argparse
import logging

from shared.policy import Policy
from shared.policy.throttle import Throttle
from shared.policy.tokens import TokenIssuer, secret_from_environment


def real_policy() -> Policy:
    """What ``python -m`` serves: tokens signed with TOKEN_SECRET (set it to the demo servers'
    to use the tokens their ``POST /login`` issues), password attempts throttled."""
    return Policy(TokenIssuer(secret_from_environment()), throttle=Throttle())


def command_line(description: str, default_port: int) -> argparse.Namespace:
    """``--host`` and ``--port``; logs the policy's refusals (codes, never credentials)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=default_port, help="port to listen on")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("handshake").info("%s on http://%s:%d/", description, args.host, args.port)
    return args
