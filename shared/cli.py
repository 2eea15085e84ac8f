"""Command lines: `python -m legacy_authorization`, `middleware_auth`, `shared.side_by_side`."""

import argparse
import logging

from aiohttp import web

from shared.access_log import RedactingAccessLogger


def parse(description: str, default_port: int, extra=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=default_port, help="port to listen on")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="a page origin (scheme://host:port) that may connect; repeatable")
    parser.add_argument("--redis", metavar="URL", default=None,
                        help="share state with other nodes through Redis, e.g. redis://127.0.0.1:6379/0")
    if extra:
        extra(parser)
    return parser.parse_args()


def own_origins(args: argparse.Namespace) -> list[str]:
    """The origins this server's own pages have, then the ones allowed on the command line."""
    hosts = [args.host] + (["localhost"] if args.host in ("127.0.0.1", "::1") else [])
    own = [f"http://{host}:{args.port}" for host in hosts]
    return own + [origin for origin in args.allow_origin if origin not in own]


def run(app: web.Application, args: argparse.Namespace, description: str) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        access_log_class=RedactingAccessLogger,
        shutdown_timeout=1,  # the default 60 s makes Ctrl-C wait for idle long-polls
        print=lambda _: logging.getLogger("handshake").info(
            "%s on http://%s:%d/", description, args.host, args.port),
    )


def serve(create_app, *, description: str, default_port: int) -> None:
    """Run one of the two servers, its own pages plus ``--allow-origin`` ones allowed."""
    args = parse(description, default_port)
    run(create_app(allowed_origins=own_origins(args), redis_url=args.redis), args, description)
