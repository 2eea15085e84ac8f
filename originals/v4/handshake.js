"use strict";
// What real Socket.IO 4.8 hands a middleware: socket.handshake, from socket.io-client 4.8.4 with
// the query token=abc and auth: {token: "abc"} (the clock, port and `issued` masked); and
// socket.data, which belongs to one socket of one namespace.
//   node originals/v4/handshake.js   (the output is handshake.out.txt)
const http = require("http");
const util = require("util");
const { Server } = require("socket.io");
const { io: connect } = require("socket.io-client");

/** A copy with what changes on every run masked. */
function masked(handshake) {
  return util.inspect({
    ...handshake,
    headers: { ...handshake.headers, host: handshake.headers.host.replace(/:\d+$/, ":<port>") },
    time: "<time>",
    issued: "<ms>",
    url: handshake.url.replace(/([?&]t=)[^&]*/, "$1<t>"),
    query: { ...handshake.query, t: "<t>" },
  }, { breakLength: 100 });
}

async function main() {
  const server = http.createServer();
  const io = new Server(server);
  // --8<-- [start:data]
  io.use((socket, next) => {
    console.log(`socket.handshake = ${masked(socket.handshake)}`);
    socket.data.user = "alice";  // this socket, in this namespace, only
    next();
  });
  io.of("/admin").use((socket, next) => {
    console.log(`socket.data on /admin: ${util.inspect(socket.data)}`);
    next();
  });
  // --8<-- [end:data]
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const options = { query: { token: "abc" }, auth: { token: "abc" }, transports: ["polling"] };
  const root = connect(url, options);
  await new Promise((resolve) => root.on("connect", resolve));
  const admin = connect(`${url}/admin`, options);  // the same connection, another namespace
  await new Promise((resolve) => admin.on("connect", resolve));
  root.close();
  admin.close();
  io.close();
}

main();
