"""A small sticky load balancer for Engine.IO: ``python -m cluster.balancer --port 8091
http://127.0.0.1:18081 http://127.0.0.1:18082``.

Long-polling needs sticky sessions: an Engine.IO session lives on the node that opened it, and
every later request of it (``?sid=…``: polls, posts, the WebSocket upgrade) must reach that
node, or it answers 400 "Session ID unknown". This balancer sends each new connection (a
request without ``sid``) to the next node in turn, reads the ``sid`` from that node's open
packet, and sends every request carrying the ``sid`` to the same node. A WebSocket-only
connection is one long request, sticky by nature. (nginx's ``ip_hash`` would do for clients
on different addresses; here every client is 127.0.0.1.)
"""

import argparse
import asyncio
import itertools
import json
import logging
from collections import OrderedDict

import aiohttp
from aiohttp import web

log = logging.getLogger("handshake.balancer")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "content-length",
              "proxy-connection", "te", "trailer"}
NODES = web.AppKey("nodes", list)


# --8<-- [start:affinity]
class Affinity:
    """sid -> node, for the sessions the nodes opened (the oldest forgotten past ``size``)."""

    def __init__(self, nodes: list[str], size: int = 100_000):
        self.nodes = nodes
        self.turn = itertools.cycle(nodes)
        self.by_sid: OrderedDict[str, str] = OrderedDict()
        self.size = size

    def node_for(self, request: web.Request) -> str:
        known = self.by_sid.get(request.query.get("sid", ""))
        return known or next(self.turn)

    def learn(self, body: bytes, node: str) -> None:
        if body.startswith(b'0{"sid"'):
            self.by_sid[json.loads(body[1:])["sid"]] = node
            while len(self.by_sid) > self.size:
                self.by_sid.popitem(last=False)
# --8<-- [end:affinity]


def create_app(nodes: list[str]) -> web.Application:
    affinity = Affinity(nodes)
    app = web.Application(client_max_size=1024 * 1024)
    app[NODES] = nodes
    sessions: list[aiohttp.ClientSession] = []

    async def start(app):
        sessions.append(aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None),  # a long-poll waits up to ~25 s
            auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()))

    async def stop(app):
        await sessions[0].close()

    async def forward(request: web.Request) -> web.StreamResponse:
        node = affinity.node_for(request)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await tunnel(request, node, headers)
        async with sessions[0].request(request.method, node + request.rel_url.raw_path_qs,
                                       headers=headers, data=await request.read(),
                                       allow_redirects=False) as answer:
            body = await answer.read()
        if "sid" not in request.query and request.path.endswith("/socket.io/"):
            affinity.learn(body, node)
        response = web.Response(status=answer.status, body=body)
        for name, value in answer.headers.items():
            if name.lower() not in HOP_BY_HOP:
                response.headers.add(name, value)
        return response

    async def tunnel(request: web.Request, node: str, headers: dict) -> web.StreamResponse:
        for name in ("Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions"):
            headers.pop(name, None)
        upstream = await sessions[0].ws_connect(node + request.rel_url.raw_path_qs,
                                                headers=headers, autoping=False)
        downstream = web.WebSocketResponse(autoping=False)
        await downstream.prepare(request)

        async def pipe(source, target):
            async for message in source:
                if message.type == aiohttp.WSMsgType.TEXT:
                    await target.send_str(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await target.send_bytes(message.data)
                elif message.type == aiohttp.WSMsgType.PING:
                    await target.ping(message.data)
                elif message.type == aiohttp.WSMsgType.PONG:
                    await target.pong(message.data)
            await target.close()

        await asyncio.gather(pipe(upstream, downstream), pipe(downstream, upstream),
                             return_exceptions=True)
        return downstream

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_route("*", "/{path:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="sticky Engine.IO load balancer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("nodes", nargs="+", help="node base URLs, e.g. http://127.0.0.1:18081")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    log.info("balancing http://%s:%d/ over %s", args.host, args.port, ", ".join(args.nodes))
    web.run_app(create_app(args.nodes), host=args.host, port=args.port, access_log=None,
                print=None, shutdown_timeout=1)


if __name__ == "__main__":
    main()
