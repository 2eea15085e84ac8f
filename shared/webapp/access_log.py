"""An aiohttp access log that never writes a credential.

aiohttp's default access log writes the request line, query string included, and a token or
password in the query would land in every log line (the reason socketio-jwt's README warns
against query tokens). This one writes the same facts with those values redacted.
"""

import logging

from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

from shared.webapp.redaction import redacted_url


class RedactingAccessLogger(AbstractAccessLogger):
    def log(self, request, response, duration):
        self.logger.info(
            '%s "%s %s" %s %.1fms',
            request.remote,
            request.method,
            redacted_url(request.raw_path),
            response.status,
            duration * 1000,
        )


class NoRequestDumps(logging.Filter):
    """aiohttp logs a request it cannot parse (a request line or header over 8190 bytes) with
    the first 100 bytes of it, query string included: a token's start would reach the log.
    Keep the fact, drop the bytes."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.msg, record.args, record.exc_info = (
                "refused a malformed HTTP request: %s %s", (error.code, type(error).__name__), None)
        return True


class NoClientSids(logging.Filter):
    """python-engineio logs an unknown ``sid`` as the client sent it ("Invalid session …"):
    a client that puts a token there would find it in the server log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Invalid session "):
            record.msg, record.args = "Invalid session (unknown sid, value not logged)", ()
        return True


def install_log_filters() -> None:
    for name, kind in (("aiohttp.server", NoRequestDumps), ("engineio.server", NoClientSids)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
