"use strict";
// What the 0.9 and the 4.8 demo apps share besides the policy: the command line, the HTTP
// routes (POST /login, as shared/webapp/login.py), the "listening on" line, and a handshake with its
// secrets hidden (shared/webapp/redaction.py).
const http = require("http");
const path = require("path");
const util = require("util");
const policy = require("./policy");

const MAX_BODY_BYTES = 4096;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** --host 127.0.0.1 --port PORT (0: any free port) --allow-origin ORIGIN (repeatable). */
function parseArgs(defaultPort) {
  try {
    const { values } = util.parseArgs({
      options: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: String(defaultPort) },
        "allow-origin": { type: "string", multiple: true, default: [] },
      },
    });
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) throw new Error(`bad --port ${values.port}`);
    const allowOrigins = values["allow-origin"].map(originOf);
    return { host: values.host, port, allowOrigins };
  } catch (err) {
    console.error(`${err.message}\nusage: node ${path.relative(process.cwd(), process.argv[1])}`
      + ` [--host 127.0.0.1] [--port ${defaultPort}] [--allow-origin ORIGIN]...`);
    process.exit(2);
  }
}

// As browsers send it: "http://app.example:8080/" is the origin http://app.example:8080.
function originOf(text) {
  const origin = URL.canParse(text) ? new URL(text).origin : "null";
  if (origin === "null") throw new Error(`bad --allow-origin ${text}`);
  return origin;
}

/** The app's own routes; Socket.IO answers /socket.io/ before they run. */
function createServer() {
  return http.createServer((req, res) => {
    req.on("error", () => res.destroy());  // a client that went away mid-body
    if (req.method === "POST" && req.url.split("?")[0] === "/login") {
      return login(req, res).catch((err) => {  // a bug: log it, keep serving the others
        console.error("POST /login failed:", err);
        res.destroy();
      });
    }
    req.resume();
    json(res, 404, { error: "not_found" });
  });
}

/** Print the one line the test harness waits for, with the real port when --port was 0. */
function listen(server, { host, port }) {
  server.listen(port, host, () => {
    const address = server.address();
    const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
    console.log(`listening on http://${shown}:${address.port}`);
  });
}

async function login(req, res) {
  const body = await jsonBody(req);
  const { username, password } = isObject(body) ? body : {};
  if (![username, password].every(isCredential)) {
    return json(res, 400, { error: "malformed_credentials" });
  }
  const verdict = await policy.login(username, password);
  if (verdict.code) return json(res, 401, { error: verdict.code });
  const token = policy.issue(verdict.user, verdict.role);
  // HttpOnly: page scripts cannot read it; SameSite=Strict: other sites cannot send it.
  res.setHeader("Set-Cookie",
    `token=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${policy.TTL_SECONDS}`);
  json(res, 200, { token, user: verdict.user, role: verdict.role, expires_in: policy.TTL_SECONDS });
}

/** The request's JSON body, or undefined: no Content-Length, over 4 KiB, not UTF-8 or JSON. */
async function jsonBody(req) {
  const length = Number(req.headers["content-length"]);
  if (!(length <= MAX_BODY_BYTES)) {
    req.resume();
    return undefined;
  }
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    return JSON.parse(UTF8.decode(Buffer.concat(chunks)));
  } catch {
    return undefined;  // not UTF-8, not JSON, or the client went away
  }
}

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCredential(value) {
  return typeof value === "string" && value.length > 0
    && [...value].length <= policy.MAX_CREDENTIAL_LENGTH;
}

function json(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

const REDACTED = "[redacted]";
const SECRET_KEYS = new Set(["token", "password", "authorization", "cookie"]);
// Query values safe to show: Engine.IO's own, in their usual shapes (an allow-list: a token
// may come under any name). The cache-buster `t` is a number in 0.9, a short string in 4.8.
const SAFE_PARAMS = new Map([["EIO", /^\d{1,2}$/], ["transport", /^(polling|websocket)$/],
  ["sid", /^[A-Za-z0-9_-]{20}$/], ["t", /^[0-9.A-Za-z_-]{1,24}$/]]);

/** A copy of a handshake safe to show or log: token and password values, the Cookie and
 * Authorization headers, and every unknown query value in the url hidden. */
function redacted(handshake) {
  const safe = {};
  for (const [key, value] of Object.entries(handshake)) {
    if (SECRET_KEYS.has(key)) safe[key] = REDACTED;
    else if (isObject(value)) safe[key] = redacted(value);
    else if (key === "url" && typeof value === "string") safe[key] = redactedUrl(value);
    else safe[key] = value;
  }
  return safe;
}

function redactedUrl(url) {
  const at = url.indexOf("?");
  if (at === -1) return url;
  const parts = url.slice(at + 1).split("&").map((part) => {
    const eq = part.indexOf("=");
    if (eq === -1) return part;
    const name = part.slice(0, eq);
    const rule = SAFE_PARAMS.get(name);
    return rule && rule.test(part.slice(eq + 1)) ? part : `${name}=${REDACTED}`;
  });
  return `${url.slice(0, at)}?${parts.join("&")}`;
}

module.exports = { parseArgs, createServer, listen, redacted };
