"use strict";
// Which middlewares run for a client that connects to /admin only, on real Socket.IO 2.5.1: in
// 1.x-2.x every connection joined / as well, so io.use ran for it too (since 3.0 it does not:
// tests/oracle/behaviours.py, row 4.8-io-use-does-not-run-for-admin-admin).
//   node originals/v2/namespaces.js   (the output is namespaces.out.txt)
const http = require("http");
const socketio = require("socket.io");
const connect = require("socket.io-client");

async function main() {
  const server = http.createServer();
  const io = socketio(server);
  const ran = [];
  io.use((socket, next) => {
    ran.push(`io.use for ${socket.nsp.name}`);
    next();
  });
  io.of("/admin").use((socket, next) => {
    ran.push(`io.of('/admin').use for ${socket.nsp.name}`);
    next();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const socket = connect(`http://127.0.0.1:${server.address().port}/admin`,
    { reconnection: false });
  await new Promise((resolve) => socket.on("connect", resolve));
  console.log(`a client of /admin only: ${ran.join(", ")}`);
  socket.close();
  io.close();  // closes the HTTP server too
}

main();
