"""Socket.IO 0.9's answer: one global ``io.set('authorization', fn)`` on the HTTP handshake."""
