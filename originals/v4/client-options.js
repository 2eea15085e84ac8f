"use strict";
// The 4.8 client when its server goes away, on the real packages: by default it retries for
// ever (reconnectionAttempts: Infinity); with a limit it stops and its Manager (socket.io)
// fires reconnect_failed. (0.9.16: ../v0.9/client-options.js.)
//   node originals/v4/client-options.js   (the output is client-options.out.txt)
const http = require("http");
const { Server } = require("socket.io");
const { io } = require("socket.io-client");

/** A server that accepts one connection, then goes away: resolves with the client's events. */
function serverGoesAway(options, enough) {
  return new Promise((resolve) => {
    const server = http.createServer();
    const ioServer = new Server(server);
    server.listen(0, "127.0.0.1", () => {
      const socket = io(`http://127.0.0.1:${server.address().port}`, options);
      const events = [];
      const seen = (name) => (...args) => {
        events.push(name + (name === "reconnect_attempt" ? ` ${args[0]}` : ""));
        if (enough(events)) {
          socket.disconnect();  // stops the retries
          resolve(events);
        }
      };
      socket.once("connect", () => {
        events.push("connect");
        ioServer.close();  // closes every connection, then the HTTP server
      });
      socket.on("disconnect", seen("disconnect"));
      // the Manager's events, no longer the socket's (0.9: reconnecting on the socket)
      socket.io.on("reconnect_attempt", seen("reconnect_attempt"));
      socket.io.on("reconnect_failed", seen("reconnect_failed"));
    });
  });
}

async function main() {
  console.log(`default reconnectionAttempts: ${io({ autoConnect: false }).io.reconnectionAttempts()}`);
  const fast = { reconnectionDelay: 10, reconnectionDelayMax: 20, forceNew: true };
  console.log("-- defaults: the server goes away");
  const forever = await serverGoesAway(fast, (events) => events.includes("reconnect_attempt 5"));
  console.log(`events: ${forever.join(", ")}: still retrying, until socket.disconnect()`);
  console.log("-- reconnectionAttempts: 3");
  // --8<-- [start:options]
  const limited = await serverGoesAway({
    ...fast,
    reconnectionAttempts: 3,  // 0.9: 'max reconnection attempts' (default 10)
  }, (events) => events.includes("reconnect_failed"));
  // --8<-- [end:options]
  console.log(`events: ${limited.join(", ")}`);
}

main();
