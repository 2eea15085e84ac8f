"""Socket.IO 1.0+'s answer: per-connection middlewares, ``io.use(fn(socket, next))``."""
