"use strict";
// The demo app on real Socket.IO 0.9.19 (legacy_authorization/app.py): POST /login, and a
// Socket.IO handshake authorized by io.set('authorization', …).
//   node originals/v0.9/app.js [--host 127.0.0.1] [--port 8091] [--allow-origin ORIGIN]...
var sio = require("socket.io");
var shared = require("../http");
var auth = require("./auth");

var args = shared.parseArgs(8091);
var server = shared.createServer();  // 0.9 answers /socket.io/ and passes the rest to it
// warnings and errors only: 0.9 logs every handshake and packet by default
var io = sio.listen(server, { "log level": 1 });
// --8<-- [start:origins]
if (args.allowOrigins.length) io.set("origins", args.allowOrigins.map(hostPort));
// --8<-- [end:origins]

// --8<-- [start:wire]
// 0.9: one global authorization function, plus one for the /admin namespace.
io.set("authorization", auth.authorization);
io.of("/admin").authorization(auth.adminAuthorization);
// --8<-- [end:wire]

// --8<-- [start:connection]
function onConnection(socket) {
  // Who is this? 0.9 apps read what authorization put on socket.handshake (mutated in place).
  var handshake = socket.handshake;
  socket.emit("welcome", { user: handshake.user, role: handshake.role, server: "node-0.9" });
  socket.on("handshake", function () {
    var ack = arguments[arguments.length - 1];  // 0.9 passes it last; a client may send none
    if (typeof ack === "function") ack(shared.redacted(socket.handshake));
  });
}
io.sockets.on("connection", onConnection);
io.of("/admin").on("connection", onConnection);
// --8<-- [end:connection]

// 0.9's `origins` entries are "host:port", with port 80 assumed when the Origin has none, even
// for https. An array, not a string: 0.9 searches it with indexOf, and in a string
// "d.example:80" would match inside "good.example:80".
function hostPort(origin) {
  var url = new URL(origin);
  return url.hostname + ":" + (url.port || 80);
}

shared.listen(server, args);
