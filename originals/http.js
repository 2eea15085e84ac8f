"use strict";
// What the 0.9 and the 4.8 demo apps share besides the policy: the command line, POST /login's
// answer (as shared/webapp/login.py), the pages' origins, the "listening on" line, and a
// handshake with its secrets hidden (shared/webapp/redaction.py).
const crypto = require("crypto");
const http = require("http");
const path = require("path");
const util = require("util");
const policy = require("./policy");

const MAX_BODY = "4kb";  // what the body parsers accept: a login needs far less

// SESSION_SECRET when set (the session cookies of a restarted server stay valid), else random.
const SESSION_SECRET = process.env.SESSION_SECRET || crypto.randomBytes(32).toString("hex");

/** --host 127.0.0.1 --port PORT (0: any free port) --allow-origin ORIGIN (repeatable)
 * --session-ttl SECONDS (how long a session lasts; tests make it short), and `more`: an app's
 * own options, as util.parseArgs takes them (the 4.8 app's --redis URL), returned by name. */
function parseArgs(defaultPort, more = {}) {
  try {
    const { values } = util.parseArgs({
      options: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: String(defaultPort) },
        "allow-origin": { type: "string", multiple: true, default: [] },
        "session-ttl": { type: "string", default: String(policy.TTL_SECONDS) },
        ...more,
      },
    });
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) throw new Error(`bad --port ${values.port}`);
    const sessionTtl = Number(values["session-ttl"]);
    if (!/^\d+$/.test(values["session-ttl"]) || sessionTtl < 1) {
      throw new Error(`bad --session-ttl ${values["session-ttl"]}`);
    }
    const allowOrigins = values["allow-origin"].map(originOf);
    const own = Object.fromEntries(Object.keys(more).map((name) => [name, values[name]]));
    return { ...own, host: values.host, port, allowOrigins, sessionTtl };
  } catch (err) {
    console.error(`${err.message}\nusage: node ${path.relative(process.cwd(), process.argv[1])}`
      + ` [--host 127.0.0.1] [--port ${defaultPort}] [--allow-origin ORIGIN]...`
      + " [--session-ttl SECONDS]"
      + Object.keys(more).map((name) => ` [--${name} VALUE]`).join(""));
    process.exit(2);
  }
}

// As browsers send it: "http://app.example:8080/" is the origin http://app.example:8080.
function originOf(text) {
  const origin = URL.canParse(text) ? new URL(text).origin : "null";
  if (origin === "null") throw new Error(`bad --allow-origin ${text}`);
  return origin;
}

/** The origins whose pages may use the user's cookie here: this server's own, then the
 * --allow-origin ones (shared/webapp/cli.py's own_origins). Known once it listens. */
function pageOrigins(server, allowOrigins) {
  const { address, port } = server.address();
  const own = [`http://${address.includes(":") ? `[${address}]` : address}:${port}`];
  if (address === "127.0.0.1" || address === "::1") own.push(`http://localhost:${port}`);
  return [...own, ...allowOrigins.filter((origin) => !own.includes(origin))];
}

/** 0.9's `origins` entries for them: "host:port", with port 80 assumed when the Origin has
 * none, even for https. An array, not a string: 0.9 searches it with indexOf, and in a string
 * "d.example:80" would match inside "good.example:80". */
function hostPorts(origins) {
  return origins.map((origin) => {
    const url = new URL(origin);
    return `${url.hostname}:${url.port || 80}`;
  });
}

// --8<-- [start:origin-allowed]
/** Not a request that another site's page makes with the user's cookie: its Origin is one of
 * `origins`, or it has none and is not a cross-site subresource (shared/webapp/protection.py).
 * Clients that are not browsers send neither header. */
function originAllowed(headers, origins) {
  if (headers.origin) return origins.includes(headers.origin);
  return !["same-site", "cross-site"].includes(headers["sec-fetch-site"]);
}
// --8<-- [end:origin-allowed]

/** For the HTTP routes of an express app (3 or 4): a POST from a page whose origin is not
 * allowed is refused before it runs (a logout forged by another site). */
function refuseForeignOrigins(origins) {
  return function (req, res, next) {
    if (req.method !== "POST" || originAllowed(req.headers, origins())) return next();
    res.status(403).json({ error: "foreign_origin" });
  };
}

/** What POST /login answers for `body` (JSON or form fields username and password):
 * {status, body}, and `user` when the password was right. */
async function login(body) {
  const { username, password } = isObject(body) ? body : {};
  if (![username, password].every(isCredential)) {
    return { status: 400, body: { error: "malformed_credentials" } };
  }
  const verdict = await policy.login(username, password);
  if (verdict.code) return { status: 401, body: { error: verdict.code } };
  const token = policy.issue(verdict.user, verdict.role);  // for the token carriers
  const answer = { token, user: verdict.user, role: verdict.role, expires_in: policy.TTL_SECONDS };
  return { status: 200, body: answer, user: verdict.user };
}

/** An express error handler: a body the parsers refuse (not JSON, too long) is a malformed
 * login; anything else is a bug, logged, and a 500 without details. */
function bodyErrors(err, req, res, next) {  // four parameters: how express tells one
  if (err.status >= 400 && err.status < 500) {
    return res.status(400).json({ error: "malformed_credentials" });
  }
  console.error(`${req.method} ${req.url} failed:`, err);
  res.status(500).json({ error: "internal_error" });
}

/** For the oracles, which have no routes of their own: 404 for all but /socket.io/. */
function createServer() {
  return http.createServer((req, res) => {
    req.resume();
    res.writeHead(404, { "Content-Type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({ error: "not_found" }));
  });
}

/** Print the one line the test harness waits for, with the real port when --port was 0;
 * `ready(server)` runs first (what needs the port, such as the page origins). */
function listen(server, { host, port }, ready = () => {}) {
  server.listen(port, host, () => {
    ready(server);
    const address = server.address();
    const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
    console.log(`listening on http://${shown}:${address.port}`);
  });
}

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCredential(value) {
  return typeof value === "string" && value.length > 0
    && [...value].length <= policy.MAX_CREDENTIAL_LENGTH;
}

const REDACTED = "[redacted]";
const SECRET_KEYS = new Set(["token", "password", "authorization", "cookie", "sessionID"]);
// Query values safe to show: Engine.IO's own, in their usual shapes (an allow-list: a token
// may come under any name). The cache-buster `t` is a number in 0.9, a short string in 4.8.
const SAFE_PARAMS = new Map([["EIO", /^\d{1,2}$/], ["transport", /^(polling|websocket)$/],
  ["sid", /^[A-Za-z0-9_-]{20}$/], ["t", /^[0-9.A-Za-z_-]{1,24}$/]]);

/** A copy of a handshake safe to show or log: token and password values, the Cookie and
 * Authorization headers, a session id, and every unknown query value in the url hidden. */
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

module.exports = {
  MAX_BODY, SESSION_SECRET, parseArgs, pageOrigins, hostPorts, originAllowed, refuseForeignOrigins, login,
  bodyErrors, createServer, listen, redacted,
};
