"""The thread's pre-1.0 answer: the query is on handshake_data, for the global authorization."""

from examples.original_thread import run
from socketio_handshake_auth.legacy import LegacyServer

# --8<-- [start:server]
io = LegacyServer()


def authorization(handshake_data, callback):
    print("Auth: ", handshake_data["query"])
    callback(None, handshake_data["query"].get("foo") == "bar")


io.set("authorization", authorization)
# --8<-- [end:server]

if __name__ == "__main__":
    run(io)
