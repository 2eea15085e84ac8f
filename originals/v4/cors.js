"use strict";
// The CORS headers of a handshake answer, on the real servers: 0.9.19 (its default `origins`,
// '*:*') allows every Origin with credentials, and refuses the others when `origins` is set; 4.8
// sends CORS headers only when its `cors` option says so, and serves the handshake and opens a
// WebSocket whatever the Origin, unless an `allowRequest` checks it, as originals/v4/app.js does.
//   node originals/v4/cors.js   (the output is cors.out.txt)
const http = require("http");
const path = require("path");
const { Server } = require("socket.io");

const server09 = require(path.join(__dirname, "..", "v0.9", "node_modules", "socket.io"));

const ORIGINS = ["http://page.example", "http://elsewhere.example"];
const CORS_HEADERS = ["access-control-allow-origin", "access-control-allow-credentials"];

/** An HTTP server on a free loopback port, with `attach(server)` answering Socket.IO on it. */
async function serve(attach) {
  const server = http.createServer();
  const io = attach(server);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: server.address().port, close: () => (io.close ? io.close() : server.close()) };
}

/** The status and CORS headers of one handshake request from a page of `origin`. */
function handshake(port, handshakePath, origin) {
  return new Promise((resolve) => {
    http.get({ host: "127.0.0.1", port, path: handshakePath, headers: { Origin: origin } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => {
          const cors = CORS_HEADERS.filter((name) => name in res.headers)
            .map((name) => `${name}: ${res.headers[name]}`);
          const refused = res.statusCode === 200 ? "" : ` ${JSON.stringify(body)}`;
          resolve(`HTTP ${res.statusCode}${refused}, ${cors.join(", ") || "no CORS headers"}`);
        });
      });
  });
}

/** A WebSocket opened directly (no polling first) from a page of `origin`: 101, or refused. */
function websocket(port, origin) {
  return new Promise((resolve) => {
    const request = http.get({ host: "127.0.0.1", port, path: "/socket.io/?EIO=4&transport=websocket",
      headers: { Origin: origin, Connection: "Upgrade", Upgrade: "websocket",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" } });
    request.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(`WebSocket ${res.statusCode} ${res.statusMessage}`);
    });
    request.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve(`WebSocket refused: HTTP ${res.statusCode} ${JSON.stringify(body)}`));
    });
  });
}

async function show(label, attach, handshakePath) {
  const served = await serve(attach);
  console.log(`-- ${label}`);
  for (const origin of ORIGINS) {
    let line = `Origin ${origin}: ${await handshake(served.port, handshakePath, origin)}`;
    if (handshakePath === PATH_4) line += `; ${await websocket(served.port, origin)}`;
    console.log(line);
  }
  served.close();
}

const PATH_09 = "/socket.io/1/?t=0";
const PATH_4 = "/socket.io/?EIO=4&transport=polling";

async function main() {
  await show("socket.io 0.9.19, default settings (origins '*:*')",
    (server) => server09.listen(server, { log: false, "client store expiration": 0 }), PATH_09);
  await show("socket.io 0.9.19, io.set('origins', ['page.example:80'])", (server) => {
    const io = server09.listen(server, { log: false, "client store expiration": 0 });
    io.set("origins", ["page.example:80"]);
    return io;
  }, PATH_09);
  await show("socket.io 4.8, no cors option", (server) => new Server(server), PATH_4);
  await show("socket.io 4.8, cors: { origin: ['http://page.example'], credentials: true }",
    (server) => new Server(server, {
      // --8<-- [start:cors]
      cors: { origin: ["http://page.example"], credentials: true },
      // --8<-- [end:cors]
    }), PATH_4);
  await show("socket.io 4.8, the same cors and an allowRequest that checks Origin",
    (server) => new Server(server, {
      cors: { origin: ["http://page.example"], credentials: true },
      // --8<-- [start:allow-request]
      allowRequest: (req, callback) => callback(null, req.headers.origin === "http://page.example"),
      // --8<-- [end:allow-request]
    }), PATH_4);
}

main();
