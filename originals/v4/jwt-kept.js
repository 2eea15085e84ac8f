"use strict";
// socketio-jwt kept on real Socket.IO 4.8, as its README wires it for 1.0+ (io.use): what
// still works (a query token), what breaks (the v4 client's `auth: {token}` is refused), and
// where decoded_token went (socket.decoded_token, no longer socket.handshake).
//   TOKEN_SECRET=… node originals/v4/jwt-kept.js [--host 127.0.0.1] [--port 8099]
const socketioJwt = require("socketio-jwt");
const { Server } = require("socket.io");
const shared = require("../http");

const SECRET = process.env.TOKEN_SECRET;
if (!SECRET) throw new Error("set TOKEN_SECRET: the secret the tokens are signed with");
const args = shared.parseArgs(8099);
const server = shared.createServer();  // no routes: only Socket.IO
const io = new Server(server);

// --8<-- [start:authorize]
io.use(socketioJwt.authorize({ secret: SECRET, algorithms: ["HS256"], handshake: true }));

io.on("connection", (socket) => {
  const claims = socket.decoded_token;  // on the socket itself: 0.9 had it on the handshake
  socket.emit("welcome", { user: claims.sub, role: claims.role, server: "node-4.8",
    handshakeDecodedToken: typeof socket.handshake.decoded_token });
});
// --8<-- [end:authorize]

shared.listen(server, args);
