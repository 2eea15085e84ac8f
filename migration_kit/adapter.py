"""Run an unchanged 0.9 ``authorization(handshake_data, callback)`` as a 1.0+ middleware.

Socket.IO 1.x shipped such a shim (``io.set('authorization', fn)`` became ``io.use``) but fed
the function ``socket.request``, the raw HTTP request: ``handshakeData.query`` was undefined,
and ``address``, ``time``, ``xdomain`` and ``issued`` were gone. This adapter feeds it a real
0.9-shaped ``handshake_data`` instead. What the function adds (``user``, ``session``…) goes
where the app's 0.9 handlers read it, ``socket.handshake``, and where 1.0+ code reads it,
``socket.data``: the app works unchanged, and its handlers can move to ``socket.data`` later.
"""

import logging

from socketio_handshake_auth.legacy import handshake_data_of, run_authorization

log = logging.getLogger("handshake.migration")

LEGACY_FIELDS = {"headers", "address", "time", "query", "url", "xdomain", "secure", "issued"}


# --8<-- [start:adapter]
def as_middleware(authorization, *, timeout: float = 10.0):
    """``io.use(as_middleware(authorization))``: the 0.9 function, unchanged, in the chain."""

    async def middleware(socket, next):
        # 0.9 code reads what earlier code put on handshake_data: here, socket.data.
        handshake_data = {**handshake_data_of(socket.request), **socket.data}
        err, authorized = await run_authorization(authorization, handshake_data, timeout)
        if err is not None:
            log.warning("0.9 authorization error: %s", err)  # logged, never sent (as in 0.9)
            return next(Exception("Authorization failed"))
        if not authorized:
            return next(Exception("Not authorized"))  # the message Socket.IO 1.x's shim sent
        added = {k: v for k, v in handshake_data.items() if k not in LEGACY_FIELDS}
        socket.handshake.update(added)  # where 0.9 handlers read it: socket.handshake.user
        socket.data.update(added)  # where 1.0+ code reads it
        next()

    return middleware
# --8<-- [end:adapter]
