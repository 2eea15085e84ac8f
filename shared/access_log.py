"""An aiohttp access log that never writes a credential.

aiohttp's default access log writes the request line, query string included, and a token or
password in the query would land in every log line (the reason socketio-jwt's README warns
against query tokens). This one writes the same facts with those values redacted.
"""

from aiohttp.abc import AbstractAccessLogger

from shared.handshake import redacted_url


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
