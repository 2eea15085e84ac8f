"use strict";
// The demo app on real Socket.IO 4.8 and express 4 (middleware_auth/app.py): the page,
// POST /login (a session, and a token in the body), POST /logout, and every namespace
// connection authorized by io.use(…) middlewares. With --redis, one node of several behind
// HAProxy (cluster.js), with SESSION_SECRET and TOKEN_SECRET shared by every node.
//   node originals/v4/app.js [--host 127.0.0.1] [--port 8094] [--allow-origin ORIGIN]...
//                            [--session-ttl SECONDS] [--redis redis://HOST:PORT/DB]
const http = require("http");
const path = require("path");
const express = require("express");
const { Server } = require("socket.io");
const shared = require("../http");
const auth = require("./auth");
const cluster = require("./cluster");
const sessions = require("./session");

const args = shared.parseArgs(8094, { redis: { type: "string" } });
const problem = args.redis && cluster.problemWith(args.redis);
if (problem) {
  console.error(problem);
  process.exit(2);
}
// --8<-- [start:redis]
const nodes = args.redis ? cluster.connect(args.redis) : null;  // what the nodes share
const sessionMiddleware = sessions.middleware(args.sessionTtl, nodes?.store);
// --8<-- [end:redis]
let origins = [];  // the page origins, known once the server listens
const app = express();
app.use(shared.refuseForeignOrigins(() => origins));
app.use(sessionMiddleware);
app.use(express.json({ limit: shared.MAX_BODY }));
app.use(express.urlencoded({ extended: false, limit: shared.MAX_BODY }));
const server = http.createServer(app);  // Socket.IO answers /socket.io/ and passes the rest to it
// --8<-- [start:cors]
const io = new Server(server, {
  // CORS lets pages on the allowed origins poll with their cookie; none allowed by default.
  cors: args.allowOrigins.length ? { origin: args.allowOrigins, credentials: true } : undefined,
  // CORS does not apply to WebSocket: any page could open one with the user's cookie. This
  // runs on every new Engine.IO connection, polling or WebSocket (403 "Forbidden" if false).
  allowRequest: (req, callback) => callback(null, shared.originAllowed(req.headers, origins)),
  ...nodes?.serverOptions,  // with --redis: the Redis adapter and the "io" cookie (cluster.js)
});
// --8<-- [end:cors]
// --8<-- [start:engine-use]
io.engine.use(sessionMiddleware);  // socket.request.session, as Express's routes have it
// --8<-- [end:engine-use]

app.get("/", (req, res) => res.sendFile(path.join(__dirname, "index.html")));

// --8<-- [start:login]
app.post("/login", async (req, res, next) => {
  try {
    const answer = await shared.login(req.body);
    if (!answer.user) return res.status(answer.status).json(answer.body);
    req.session.regenerate((err) => {  // a new id: one planted before login is useless
      if (err) return next(err);
      req.session.user = answer.user;  // the session holds the name, never the role
      res.json(answer.body);
    });
  } catch (err) {
    next(err);  // express 4 does not catch a rejected promise itself
  }
});
// --8<-- [end:login]

// --8<-- [start:logout]
app.post("/logout", (req, res, next) => {
  if (!req.session.user) return res.status(401).json({ error: "invalid_session" });
  const room = sessions.room(req.session.id);
  req.session.destroy((err) => {  // from the store: the cookie is refused from now on
    if (err) return next(err);
    // every socket of this session, on every namespace; true: close the connection too
    for (const namespace of [io, io.of("/admin")]) namespace.in(room).disconnectSockets(true);
    res.clearCookie(sessions.KEY, { path: "/" });
    res.json({ logged_out: true });
  });
});
// --8<-- [end:logout]
app.use(shared.bodyErrors);

// --8<-- [start:wire]
// 1.0+: a chain per namespace; io.use() does not run for a client of /admin.
io.use(auth.authenticate);
io.of("/admin").use(auth.authenticate).use(auth.requireAdmin);
// --8<-- [end:wire]

// --8<-- [start:connection]
function onConnection(socket) {
  // Who is this? 1.0+ apps read what the middlewares put on socket.data.
  const { user, role } = socket.data;
  socket.emit("welcome", { user, role, server: "node-4.8" });
  const { session } = socket.request;
  if (session.user) socket.join(sessions.room(session.id));  // for /logout
  socket.on("handshake", (...args) => {
    const ack = args[args.length - 1];  // a client may send no acknowledgement callback
    if (typeof ack === "function") ack(shared.redacted(socket.handshake));
  });
}
io.on("connection", onConnection);
io.of("/admin").on("connection", onConnection);
// --8<-- [end:connection]

// --8<-- [start:visit]
// A handler that writes the session back: socket.request.session was read at the handshake,
// so reload the store's own first, which /logout may have destroyed since.
io.on("connection", (socket) => {
  socket.on("visit", (ack) => {
    if (!socket.request.session.user || typeof ack !== "function") return;
    socket.request.session.reload((err) => {
      if (err) return ack({ error: "session_ended" });
      const session = socket.request.session;  // reload put a new object there
      session.visits = (session.visits || 0) + 1;
      session.save((err) => ack(err ? { error: "session_ended" } : { visits: session.visits }));
    });
  });
});
// --8<-- [end:visit]

// With --redis, listen once Redis answers: a node that cannot read sessions takes no request.
Promise.resolve(nodes?.ready).then(() => shared.listen(server, args, () => {
  origins = shared.pageOrigins(server, args.allowOrigins);
}), (err) => {  // node-redis gave up connecting
  console.error(`redis: ${err.message}`);
  process.exit(1);
});
