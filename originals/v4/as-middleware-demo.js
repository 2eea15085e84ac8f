"use strict";
// The 0.9 authorization from ../v0.9/auth.js, unchanged, in a real Socket.IO 4.8 io.use chain:
// one line per connection attempt, and the policy's own "refused:" log lines between them.
//   node originals/v4/as-middleware-demo.js   (the output is as-middleware-demo.out.txt)
const http = require("http");
const { Server } = require("socket.io");
const { io: connect } = require("socket.io-client");
const { authorization } = require("../v0.9/auth");
const { asMiddleware } = require("./as-middleware");
const policy = require("../policy");

const ATTEMPTS = [
  ["query password alice/wonderland", { username: "alice", password: "wonderland" }],
  ["query password alice/looking-glass", { username: "alice", password: "looking-glass" }],
  ["query token for bob (issued by originals/policy.js)", { token: policy.issue("bob", "admin") }],
  ["nothing", {}],
];

/** Connect once, and say what the client saw. */
function attempt(url, query) {
  return new Promise((resolve) => {
    const socket = connect(url, { query, reconnection: false, forceNew: true,
      transports: ["websocket"] });
    socket.on("welcome", ({ handshake, data }) => {
      socket.close();
      resolve(`connected; socket.handshake: ${handshake.user} (${handshake.role}), `
        + `socket.data: ${data.user} (${data.role})`);
    });
    socket.on("connect_error", (err) => {
      socket.close();
      resolve(`connect_error ${err.message}`);
    });
  });
}

async function main() {
  const server = http.createServer();
  const io = new Server(server);
  io.use(asMiddleware(authorization));
  // The app's 0.9 handler, unchanged, reads socket.handshake; new 1.0+ code reads socket.data.
  io.on("connection", (socket) => socket.emit("welcome", {
    handshake: { user: socket.handshake.user, role: socket.handshake.role },
    data: socket.data,
  }));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  for (const [label, query] of ATTEMPTS) console.log(`${label}: ${await attempt(url, query)}`);
  await io.close();  // closes the HTTP server too
}

main();
