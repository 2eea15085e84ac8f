"use strict";
// What socket.io-client 2.5.0 sees when a real Socket.IO 2.5.1 middleware refuses it, and what
// it does next: an 'error' event (err.data when there is one, else err.message), no retry, and
// an Engine.IO connection left open, so that neither connect() nor reconnect() tries again
// (socket.io#1860); only close() then open() does.
//   node originals/v2/client-refused.js   (the output is client-refused.out.txt)
const http = require("http");
const socketio = require("socket.io");
const connect = require("socket.io-client");
const { authenticate } = require("../v4/auth");  // the 4.8 app's middleware, unchanged

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const server = http.createServer();
  const io = socketio(server);
  let attempts = 0;
  io.use((socket, next) => {
    attempts += 1;
    next();
  });
  io.use(authenticate);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  const socket = connect(url, { query: { username: "alice", password: "looking-glass" },
    reconnectionDelay: 100, reconnectionDelayMax: 100 });
  const seen = [];
  for (const event of ["connect", "connect_error", "error", "disconnect", "reconnect_attempt"]) {
    socket.on(event, (payload) => seen.push(`${event} ${JSON.stringify(payload)}`));
  }
  await sleep(1000);
  console.log(`events in the first second: ${seen.join(", ")}`);
  console.log(`middleware runs: ${attempts}; socket.connected: ${socket.connected};`
    + ` socket.io.readyState: ${socket.io.readyState};`
    + ` Engine.IO connections open at the server: ${io.engine.clientsCount}`);

  socket.connect();
  socket.io.reconnect();
  await sleep(300);
  console.log(`socket.connect() and socket.io.reconnect(): ${attempts - 1} new middleware runs`);

  const before = seen.length;
  socket.close();
  socket.open();
  await sleep(300);
  console.log(`socket.close() then socket.open(): ${attempts - 1} new middleware run;`
    + ` events: ${seen.slice(before).join(", ")}`);
  socket.close();
  io.close();  // closes the HTTP server too
}

main();
