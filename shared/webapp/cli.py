"""Command lines: ``python -m legacy_authorization``, ``middleware_auth``,
``shared.webapp.side_by_side``."""

import argparse
import logging
import os

from aiohttp import web

from shared.webapp.access_log import RedactingAccessLogger
from shared.webapp.app import ENGINE

# --8<-- [start:session-cookie]
# A node of a cluster names each new Engine.IO session in this cookie (python-engineio's
# ``cookie`` option, the ``io`` cookie of Socket.IO's "multiple nodes" docs). HAProxy learns
# "sid -> node" from it and removes it (cluster/haproxy.cfg.template): clients never see it.
SESSION_COOKIE = {"name": "io", "path": "/", "SameSite": "Strict", "HttpOnly": True}
# --8<-- [end:session-cookie]


def parse(description: str, default_port: int, extra=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=default_port, help="port to listen on")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="a page origin (scheme://host:port) that may connect; repeatable")
    parser.add_argument("--redis", metavar="URL", default=None,
                        help="share state with other nodes through Redis, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--unix", metavar="PATH", default=None,
                        help="listen on this Unix socket instead of a TCP port (behind a balancer "
                             "on this machine; put it in a folder only the balancer can open)")
    parser.add_argument("--trust-proxy", action="append", default=[], metavar="ADDRESS",
                        help="a load balancer's address, or 'unix' for the peer of --unix: its "
                             "X-Forwarded-For names the client, its X-Forwarded-Proto the scheme")
    if extra:
        extra(parser)
    args = parser.parse_args()
    secret = os.environ.get("TOKEN_SECRET", "")
    if args.redis and not secret:
        parser.error("--redis needs TOKEN_SECRET: every node must sign and check tokens with the "
                     "same secret (without one, each node makes up its own and refuses the "
                     "others' tokens). Make one with: python3 -c 'import secrets; "
                     "print(secrets.token_hex(32))'")
    if secret and len(secret.encode()) < 32:
        parser.error("TOKEN_SECRET must be at least 32 bytes (HS256 needs a 256-bit key)")
    return args


def own_origins(args: argparse.Namespace) -> list[str]:
    """The origins this server's own pages have, then the ones allowed on the command line.
    On a Unix socket it has none of its own: its pages are the balancer's (``--allow-origin``)."""
    if args.unix:
        return list(args.allow_origin)
    hosts = [args.host] + (["localhost"] if args.host in ("127.0.0.1", "::1") else [])
    own = [f"http://{host}:{args.port}" for host in hosts]
    return own + [origin for origin in args.allow_origin if origin not in own]


def run(app: web.Application, args: argparse.Namespace, description: str) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # a Unix socket and no TCP port at all, or a TCP port
    where = {"path": args.unix} if args.unix else {"host": args.host, "port": args.port}
    address = f"unix:{args.unix}" if args.unix else f"http://{args.host}:{args.port}/"
    web.run_app(
        app,
        **where,
        access_log_class=RedactingAccessLogger,
        shutdown_timeout=1,  # the default 60 s makes Ctrl-C wait for idle long-polls
        print=lambda _: logging.getLogger("handshake").info("%s on %s", description, address),
    )


def session_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--session-ttl", type=seconds, default=None, metavar="SECONDS",
                        help="how long a login session lasts (default: an hour)")


def seconds(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("at least 1 second")
    return value


def serve(create_app, *, description: str, default_port: int) -> None:
    """Run one of the two servers, its own pages plus ``--allow-origin`` ones allowed."""
    args = parse(description, default_port, session_options)
    app = create_app(allowed_origins=own_origins(args), redis_url=args.redis,
                     trusted_proxies=args.trust_proxy, session_ttl=args.session_ttl)
    if args.redis:  # one node of several, behind a balancer
        app[ENGINE].sio.eio.cookie = SESSION_COOKIE
    run(app, args, description)
