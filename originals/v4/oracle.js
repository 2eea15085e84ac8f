// The oracle for the 4.8 engine behaviours: real socket.io 4.8 whose middlewares do what the
// client asks (`?do=…` for the first, `?then=…` for the second, `?ns=…` for /admin's, see
// ../oracle/scripts.js), and which sends each connected socket its handshake and data.
"use strict";
const { Server } = require("socket.io");
const { script } = require("../oracle/scripts");
const { createServer, listen, parseArgs } = require("../http");

const server = createServer();
const io = new Server(server, { connectTimeout: 2000 });

function scripted(parameter, fallback) {
  return (socket, next) => {
    socket.data.ran = [...(socket.data.ran || []), parameter];
    socket.data.connected = socket.connected; // as a middleware sees it
    return script(socket.handshake.query[parameter] || fallback, next)();
  };
}
io.use(scripted("do", "call:undefined"));
io.use(scripted("then", "call:undefined"));
io.of("/admin").use(scripted("ns", "call:undefined"));

function welcome(socket) {
  socket.emit("welcome", { handshake: socket.handshake, data: socket.data });
}
io.on("connection", welcome);
io.of("/admin").on("connection", welcome);

listen(server, parseArgs(0));
