"use strict";
// What socket.io-client 4.8.4 sees when a real Socket.IO 4.8 server refuses it, and what it does
// next: a middleware refusal is final until the app calls socket.connect(), and an `auth`
// function is asked again for that attempt; an HTTP-level refusal (allowRequest) is retried.
//   node originals/v4/client-refused.js   (the output is client-refused.out.txt)
const http = require("http");
const { Server } = require("socket.io");
const { io: connect } = require("socket.io-client");
const auth = require("./auth");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Retry fast, so that a second of silence says "no retry", not "not yet".
const FAST_RETRIES = { reconnectionDelay: 100, reconnectionDelayMax: 100 };

/** A 4.8 server on a free loopback port, set up by `setup(io)`. */
async function serve(setup, options) {
  const server = http.createServer();
  const io = new Server(server, options);
  setup(io);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { io, url: `http://127.0.0.1:${server.address().port}` };
}

const once = (socket, ...events) => new Promise((resolve) => {
  for (const event of events) socket.once(event, (...args) => resolve([event, ...args]));
});

/** What a middleware sees of the credentials: the URL (t masked) and the CONNECT payload. */
function seen(socket) {
  const url = socket.handshake.url.replace(/([?&]t=)[^&]*/, "$1…")
    .replace(/(password=)[^&]*/, "$1…");
  const payload = Object.keys(socket.handshake.auth).join(", ") || "nothing";
  return `url ${url}, auth payload: ${payload}`;
}

async function middlewareRefusal() {
  console.log("-- a middleware refusal: next(err) in io.use");
  const attempts = [];
  const { io, url } = await serve((io) => {
    io.use((socket, next) => {
      attempts.push(seen(socket));
      next();
    });
    io.use(auth.authenticate);  // the app's middleware (auth.js)
    io.on("connection", (socket) => socket.emit("welcome", socket.data));
  });

  // --8<-- [start:auth-function]
  let password = "looking-glass";
  let asked = 0;
  const socket = connect(url, {
    transports: ["websocket"],
    // a function: called again for every connection attempt, so it can send fresh credentials
    auth: (send) => {
      asked += 1;
      send({ username: "alice", password });
    },
    ...FAST_RETRIES,
  });
  const [, err] = await once(socket, "connect_error");
  console.log(`connect_error: err.message ${JSON.stringify(err.message)},`
    + ` err.data ${JSON.stringify(err.data)}`);
  console.log(`socket.active: ${socket.active}`);  // false: the client will not retry by itself
  // --8<-- [end:auth-function]
  const before = attempts.length;
  await sleep(1000);
  console.log(`one second later: ${attempts.length - before} new CONNECT at the server,`
    + ` the auth function asked ${asked} time(s) in all`);

  // --8<-- [start:connect-again]
  password = "wonderland";  // new credentials, then an explicit new attempt
  socket.connect();
  // --8<-- [end:connect-again]
  const [, welcome] = await once(socket, "welcome");
  console.log(`after socket.connect(): connected as ${welcome.user},`
    + ` the auth function asked ${asked} time(s) in all`);
  console.log(`the server saw: ${attempts[attempts.length - 1]}`);
  socket.close();

  const inQuery = connect(url, { transports: ["websocket"], forceNew: true,
    query: { username: "alice", password: "wonderland" } });
  await once(inQuery, "welcome");
  console.log(`the same credentials as a query: ${attempts[attempts.length - 1]}`);
  inQuery.close();
  await io.close();
}

async function httpRefusal() {
  console.log("-- an HTTP-level refusal: allowRequest answers 403 before any socket exists");
  let requests = 0;
  const { io, url } = await serve(() => {}, {
    allowRequest: (req, callback) => {
      requests += 1;
      callback("forbidden", false);
    },
  });
  const socket = connect(url, { transports: ["polling"], ...FAST_RETRIES });
  const [, err] = await once(socket, "connect_error");
  console.log(`connect_error: err.message ${JSON.stringify(err.message)},`
    + ` err.description ${err.description}`);
  console.log(`socket.active: ${socket.active}`);  // true: the Manager retries with backoff
  for (let retry = 1; retry <= 3; retry += 1) await once(socket.io, "reconnect_error");
  console.log(`the Manager retried on its own: ${requests} handshake requests, 3 of them`
    + " retries; socket.disconnect() stops it");
  socket.disconnect();
  await io.close();
}

async function main() {
  await middlewareRefusal();
  await httpRefusal();
}

main();
