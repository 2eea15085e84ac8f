"""The thread's 1.0+ answer: the query is on socket.handshake, for a middleware."""

from examples.original_thread import run
from socketio_handshake_auth.middleware import MiddlewareServer

# --8<-- [start:server]
io = MiddlewareServer()


def check_foo(socket, next):
    print("Query: ", socket.handshake["query"])
    if socket.handshake["query"].get("foo") == "bar":
        return next()
    next(Exception("Authentication error"))


io.use(check_foo)
# --8<-- [end:server]

if __name__ == "__main__":
    run(io)
