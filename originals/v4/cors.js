"use strict";
// The CORS headers of a handshake answer, on the real servers: 0.9.19 (its default `origins`,
// '*:*') allows every Origin with credentials, and refuses the others when `origins` is set; 4.8
// sends CORS headers only when its `cors` option says so, as originals/v4/app.js configures it
// for --allow-origin, and serves the handshake whatever the Origin.
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

async function show(label, attach, handshakePath) {
  const served = await serve(attach);
  console.log(`-- ${label}`);
  for (const origin of ORIGINS) {
    console.log(`Origin ${origin}: ${await handshake(served.port, handshakePath, origin)}`);
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
}

main();
