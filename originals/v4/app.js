"use strict";
// The demo app on real Socket.IO 4.8 (middleware_auth/app.py): POST /login, and every
// namespace connection authorized by io.use(…) middlewares.
//   node originals/v4/app.js [--host 127.0.0.1] [--port 8094] [--allow-origin ORIGIN]...
const { Server } = require("socket.io");
const shared = require("../http");
const auth = require("./auth");

const args = shared.parseArgs(8094);
const server = shared.createServer();  // Socket.IO answers /socket.io/ and passes the rest to it
// --8<-- [start:cors]
// CORS lets pages on the allowed origins poll with their cookie; none allowed by default.
const io = new Server(server, {
  cors: args.allowOrigins.length ? { origin: args.allowOrigins, credentials: true } : undefined,
});
// --8<-- [end:cors]

// --8<-- [start:wire]
// 1.0+: a chain per namespace; io.use() does not run for a client of /admin.
io.use(auth.authenticate);
io.of("/admin").use(auth.authenticate).use(auth.requireAdmin);
// --8<-- [end:wire]

// --8<-- [start:connection]
function onConnection(socket) {
  // Who is this? 1.0+ apps read what the middlewares put on socket.data.
  const { user, role } = socket.data;
  socket.emit("welcome", { user, role, server: "node-4.8" });
  socket.on("handshake", (...args) => {
    const ack = args[args.length - 1];  // a client may send no acknowledgement callback
    if (typeof ack === "function") ack(shared.redacted(socket.handshake));
  });
}
io.on("connection", onConnection);
io.of("/admin").on("connection", onConnection);
// --8<-- [end:connection]

shared.listen(server, args);
