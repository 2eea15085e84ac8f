"use strict";
// What socket.io 4.8 answers to polling requests no well-behaved client sends: a POST whose
// payload holds a packet no client sends (open, ping), one with a packet that has no type, a
// CONNECT that is not UTF-8, one over maxHttpBufferSize; and a JSONP handshake. Each POST
// goes to a session of its own; the next long-poll shows whether the session lives on, and
// what it had queued.
//   node originals/v4/polling-payloads.js   (the output is polling-payloads.out.txt)
const http = require("http");
const { Server } = require("socket.io");

const PATH = "/socket.io/?EIO=4&transport=polling";
const LIMIT = 64 * 1024; // the Python servers' packet limit, set here too

const POSTS = [
  ["a CONNECT, then an Engine.IO open packet", Buffer.from("40\x1e0")],
  ["a CONNECT, then an Engine.IO ping (a v4 client only answers pings)", Buffer.from("40\x1e2")],
  ["a CONNECT, then a packet with no type", Buffer.from("40\x1e,")],
  ["a CONNECT that is not UTF-8", Buffer.from([0x34, 0x30, 0xff, 0xfe])],
  ["a payload over maxHttpBufferSize", Buffer.alloc(LIMIT + 1, "4")],
];

/** One request: its status and body, ids hidden so that the output is the same every run. */
function request(port, method, path, body) {
  return new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, agent: false,
      headers: body ? { "Content-Type": "text/plain", "Content-Length": body.length } : {} },
    (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode, text }));
    });
    req.end(body);
  });
}

const shown = ({ status, text }) =>
  `HTTP ${status} ${JSON.stringify(text.replace(/(sid\\?":\\?")[\w-]+/g, "$1…"))}`;

async function main() {
  const server = http.createServer();
  const io = new Server(server, { pingInterval: 300, maxHttpBufferSize: LIMIT });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  for (const [label, body] of POSTS) {
    const opened = await request(port, "GET", PATH);
    const session = `${PATH}&sid=${JSON.parse(opened.text.slice(1)).sid}`;
    const posted = await request(port, "POST", session, body);
    const polled = await request(port, "GET", session); // a ping within 300 ms, if nothing else
    console.log(`-- ${label}\nPOST: ${shown(posted)}\nthen GET: ${shown(polled)}`);
  }
  const jsonp = await request(port, "GET", `${PATH}&j=0`);
  console.log(`-- a JSONP handshake (?j=0)\nGET: ${shown(jsonp)}`);
  // engine.io keeps a session it closed with no long-poll waiting for 30 s (its polling
  // transport's closeTimeout), and the process with it: nothing more is to be seen
  io.close(() => process.exit(0));
}

main();
