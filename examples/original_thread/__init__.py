"""Stack Overflow 13745519 (December 2012), "Send custom data along with handshakeData in
socket.io?", replayed: the client sends ``query: "foo=bar"``, the server logs the query and
accepts only ``foo == "bar"``. ``python -m examples.original_thread.legacy`` (or ``.middleware``).
"""

import asyncio

import aiohttp
import socketio
from aiohttp import web


async def replay(io) -> None:
    """Serve ``io`` on a loopback port, connect as the thread's client did, then with foo=baz."""
    app = web.Application()
    io.attach(app)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        for query in ("foo=bar", "foo=baz"):
            await connect(f"http://{host}:{port}/?{query}", query)
    finally:
        await io.sio.shutdown()
        await runner.cleanup()


async def connect(url: str, query: str) -> None:
    async with aiohttp.ClientSession() as http:
        client = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=http)
        client.on("connect_error", lambda data: print(f"client: connect_error {data}"))
        try:
            await client.connect(url, wait_timeout=3)
            print(f"client ({query}): connected")
        except socketio.exceptions.ConnectionError as exc:
            print(f"client ({query}): refused, {exc}")
        finally:
            await client.shutdown()


def run(io) -> None:
    asyncio.run(replay(io))
