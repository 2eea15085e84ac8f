// The oracle for the 0.9 engine behaviours: real socket.io 0.9.19 whose global and /admin
// authorization functions do what the client asks (`?do=…`, `?ns=…`, see ../oracle/scripts.js),
// and which sends each connected socket its handshake object.
"use strict";
const { script } = require("../oracle/scripts");
const { createServer, listen, parseArgs } = require("../http");

const server = createServer();
const io = require("socket.io").listen(server, { log: false });

io.set("authorization", function (handshakeData, callback) {
  script(handshakeData.query.do || "call:null,true", callback)();
});
io.of("/admin").authorization(function (handshakeData, callback) {
  script(handshakeData.query.ns || "call:null,true", callback)();
});

function welcome(socket) {
  socket.emit("welcome", { handshake: socket.handshake });
}
io.sockets.on("connection", welcome);
io.of("/admin").on("connection", welcome);

listen(server, parseArgs(0));
