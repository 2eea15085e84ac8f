"use strict";
// Servers and clients of different eras, on the real packages: a socket.io-client 0.9.16 (0.9's
// protocol 1) cannot talk to Socket.IO 4.8, with or without allowEIO3; allowEIO3 lets a 2.5.0
// client in; and a 4.8 client cannot talk to a 0.9.19 server. So a 0.9 server and its clients
// must switch together.
//   node originals/v4/old-clients.js   (the output is old-clients.out.txt)
const http = require("http");
const path = require("path");
const { Server } = require("socket.io");
const client4 = require("socket.io-client");

const originals = (version, name) => require(path.join(__dirname, "..", version, "node_modules",
  name));
const client09 = originals("v0.9", "socket.io-client");  // 0.9.16
const client2 = originals("v2", "socket.io-client");  // 2.5.0
const server09 = originals("v0.9", "socket.io");  // 0.9.19

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** An HTTP server on a free loopback port, with `attach(server)` answering Socket.IO on it. */
async function serve(attach) {
  const server = http.createServer();
  const io = attach(server);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const close = () => (io.close ? io.close() : server.close());
  return { url, close };
}

/** A 4.8 server whose io.use refuses alice's wrong password with err.data, as the app does. */
function server48(options) {
  return (server) => {
    const io = new Server(server, options);
    io.use((socket, next) => {
      if (socket.handshake.query.password === "wonderland") return next();
      next(Object.assign(new Error("Invalid credentials"), { data: { code: "bad_credentials" } }));
    });
    return io;
  };
}

/** Status and body of one GET. */
function get(url) {
  return new Promise((resolve) => {
    http.get(url, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      // a 200 opens an Engine.IO session: its id changes on every run
      res.on("end", () => resolve(`HTTP ${res.statusCode} ${/"sid"/.test(body)
        ? "(an Engine.IO session opened)" : body}`));
    });
  });
}

/** The events `socket` emits in `ms`, as "name payload". */
async function events(socket, names, ms) {
  const seen = [];
  for (const name of names) {
    socket.on(name, (payload) => {
      const shown = payload instanceof Error ? `Error ${JSON.stringify(payload.message)}`
        : JSON.stringify(payload);
      seen.push(shown === undefined ? name : `${name} ${shown}`);
    });
  }
  await sleep(ms);
  return seen.join(", ") || "nothing";
}

const EVENTS_09 = ["connect", "connect_failed", "error"];
const EVENTS_2 = ["connect", "connect_error", "error"];
const EVENTS_4 = ["connect", "connect_error"];

async function oldClient(label, options) {
  const served = await serve(server48(options));
  console.log(`-- socket.io 4.8 server, ${label}`);
  console.log(`GET /socket.io/1/?t=0 (a 0.9 client's handshake): ${await get(
    `${served.url}/socket.io/1/?t=0`)}`);
  console.log(`GET /socket.io/?EIO=3&transport=polling (a 2.x client's handshake): ${await get(
    `${served.url}/socket.io/?EIO=3&transport=polling`)}`);
  const old = client09.connect(`${served.url}/?password=wonderland`,
    { "force new connection": true, reconnect: false });
  console.log(`socket.io-client 0.9.16: ${await events(old, EVENTS_09, 300)}`);
  for (const password of ["wonderland", "looking-glass"]) {
    const socket = client2(served.url, { query: { password }, reconnection: false,
      forceNew: true });
    console.log(`socket.io-client 2.5.0, password ${password}: ${await events(socket, EVENTS_2,
      300)}`);
    socket.close();
  }
  served.close();
}

async function main() {
  await oldClient("default options", {});
  await oldClient("allowEIO3: true", { allowEIO3: true });

  const served = await serve((server) => server09.listen(server, { log: false,
    "client store expiration": 0 }));
  console.log("-- socket.io 0.9.19 server");
  console.log(`GET /socket.io/?EIO=4&transport=polling (a 4.8 client's handshake): ${
    await get(`${served.url}/socket.io/?EIO=4&transport=polling`)}`);
  const socket = client4(served.url, { reconnection: false, forceNew: true });
  console.log(`socket.io-client 4.8.4: ${await events(socket, EVENTS_4, 300)}`);
  socket.close();
  served.close();
}

main();
