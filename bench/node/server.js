// The benchmark's reference: real Socket.IO 4.8 on Node.js, authorizing with io.use and an
// HS256 token check, and emitting the same welcome event. `node server.js PORT`; the token
// secret comes from TOKEN_SECRET, as for the Python servers.
"use strict";
const http = require("http");
const { Server } = require("socket.io");
const jwt = require("jsonwebtoken");

const port = Number(process.argv[2]);
const secret = process.env.TOKEN_SECRET;
const server = http.createServer((request, response) => {
  response.writeHead(200, { "Content-Type": "application/json" });
  if (request.url.startsWith("/bench/stats")) {
    const { user, system } = process.cpuUsage();
    const stats = { cpu_seconds: (user + system) / 1e6, sessions: io.engine.clientsCount };
    if (request.url.includes("gc=1")) {
      // RSS does not grow while V8's reserved heap has room: the heap after a full GC counts
      global.gc();
      const { heapUsed, rss } = process.memoryUsage();
      Object.assign(stats, { heap: heapUsed, rss });
    }
    response.end(JSON.stringify(stats));
    return;
  }
  // the bench's readiness probe; this server has no loop-lag probe
  response.end('{"max_lag_ms": null}');
});
const io = new Server(server);

io.use((socket, next) => {
  try {
    const claims = jwt.verify(socket.handshake.query.token, secret, { algorithms: ["HS256"] });
    socket.data.user = claims.sub;
    next();
  } catch {
    const err = new Error("Invalid credentials");
    err.data = { code: "bad_credentials" };
    next(err);
  }
});
io.on("connection", (socket) => socket.emit("welcome", { user: socket.data.user }));
server.listen(port, "127.0.0.1");
