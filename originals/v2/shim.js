"use strict";
// What real Socket.IO 2.5.1 (and 1.x before it) did with a 0.9 app's authorization, and what a
// 2.x client saw of a refusal: the client's 'error' event. Prints one line per fact.
//   node originals/v2/shim.js   (the output is shim.out.txt)
const http = require("http");
const socketio = require("socket.io");
const connect = require("socket.io-client");

const LEGACY_FIELDS = ["headers", "address", "time", "query", "url", "xdomain", "secure", "issued"];

/** A 2.5.1 server set up by `setup(io)`, one 2.5.0 client, and the first event it gets. */
function clientSees(setup, query) {
  return new Promise((resolve) => {
    const server = http.createServer();
    const io = socketio(server);
    setup(io);
    server.listen(0, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      const socket = connect(url, { query, reconnection: false, forceNew: true });
      const done = (seen) => {
        socket.close();
        io.close();  // closes the HTTP server too
        resolve(seen);
      };
      socket.on("connect", () => done("connect"));
      socket.on("error", (payload) => done(`'error' event ${JSON.stringify(payload)}`));
    });
  });
}

/** io.set('authorization', fn), as a 0.9 app called it, with fn answering callback(...answer). */
function legacy(...answer) {
  return (io) => io.set("authorization", (handshakeData, callback) => callback(...answer));
}

/** io.use(fn) refusing with `err`. */
function middleware(err) {
  return (io) => io.use((socket, next) => next(err));
}

function withData(message, data) {
  const err = new Error(message);
  err.data = data;
  return err;
}

async function main() {
  let request;
  const keep = (io) => io.set("authorization", (handshakeData, callback) => {
    request = handshakeData;
    callback(null, true);
  });
  await clientSees(keep, { username: "alice", password: "wonderland" });
  console.log("io.set('authorization', fn) calls fn(handshakeData, callback) with"
    + ` handshakeData = socket.request, an http.${request.constructor.name}:`);
  console.log(`  typeof handshakeData.query: ${typeof request.query}`);
  console.log(`  handshakeData._query keys: ${Object.keys(request._query).join(", ")}`);
  console.log(`  handshakeData.url: ${request.url.replace(/([?&]t=)[^&]*/, "$1<t>")
    .replace(/(password)=[^&]*/, "$1=<password>")}`);
  console.log(`  0.9 fields missing: ${LEGACY_FIELDS.filter((k) => !(k in request)).join(", ")}`);

  // 0.9 logged a callback error and answered 500 "handshake error"; the shim sends it on.
  const lines = [
    ["callback(null, false)", legacy(null, false)],
    ["callback('boom', false)", legacy("boom", false)],
    ["callback(new Error('db down'))", legacy(new Error("db down"))],
    ["io.use: next(err) with err.data = {code: 'bad_credentials'}",
      middleware(withData("Invalid credentials", { code: "bad_credentials" }))],
    ["io.use: next(new Error('Invalid credentials'))",
      middleware(new Error("Invalid credentials"))],
  ];
  for (const [label, setup] of lines) console.log(`${label}: ${await clientSees(setup, {})}`);
}

main();
