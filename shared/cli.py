"""``python -m legacy_authorization`` / ``python -m middleware_auth``: serve one app."""

import argparse
import logging

from aiohttp import web

from shared.access_log import RedactingAccessLogger


def serve(create_app, *, description: str, default_port: int) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=default_port, help="port to listen on")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    web.run_app(
        create_app(),
        host=args.host,
        port=args.port,
        access_log_class=RedactingAccessLogger,
        shutdown_timeout=1,  # the default 60 s makes Ctrl-C wait for idle long-polls
        print=lambda _: logging.getLogger("handshake").info(
            "%s on http://%s:%d/", description, args.host, args.port),
    )
