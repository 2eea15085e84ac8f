"use strict";
// The demo app on real Socket.IO 0.9.19 and express 3 (legacy_authorization/app.py): the page,
// POST /login (a session, and a token in the body), POST /logout, and a Socket.IO handshake
// authorized by io.set('authorization', …).
//   node originals/v0.9/app.js [--host 127.0.0.1] [--port 8091] [--allow-origin ORIGIN]...
//                              [--session-ttl SECONDS]
var http = require("http");
var path = require("path");
var express = require("express");
var sio = require("socket.io");
var shared = require("../http");
var auth = require("./auth");
var sessions = require("./session");

var args = shared.parseArgs(8091);
var origins = [];  // the page origins, known once the server listens
var app = express();
app.set("json spaces", 0);  // express 3 indents JSON outside production
app.use(shared.refuseForeignOrigins(function () { return origins; }));
app.use(sessions.middleware(args.sessionTtl));
app.use(express.json({ limit: shared.MAX_BODY }));
app.use(express.urlencoded({ extended: false, limit: shared.MAX_BODY }));
var server = http.createServer(app);  // 0.9 answers /socket.io/ and passes the rest to it
// warnings and errors only: 0.9 logs every handshake and packet by default
var io = sio.listen(server, { "log level": 1 });

app.get("/", function (req, res) {
  res.sendfile(path.join(__dirname, "index.html"));  // express 3's name for sendFile
});

// --8<-- [start:login]
app.post("/login", function (req, res, next) {
  shared.login(req.body).then(function (answer) {
    if (!answer.user) return res.status(answer.status).json(answer.body);
    req.session.regenerate(function (err) {  // a new id: one planted before login is useless
      if (err) return next(err);
      req.session.user = answer.user;  // the session holds the name, never the role
      res.json(answer.body);
    });
  }, next);
});
// --8<-- [end:login]

// --8<-- [start:logout]
app.post("/logout", function (req, res, next) {
  if (!req.session.user) return res.status(401).json({ error: "invalid_session" });
  var sid = req.sessionID;
  req.session.destroy(function (err) {  // from the store: the cookie is refused from now on
    if (err) return next(err);
    // 0.9 lists a room's sockets with clients(room); ending the main one ends the connection
    io.sockets.clients("session:" + sid).forEach(function (socket) { socket.disconnect(); });
    res.clearCookie(sessions.KEY, { path: "/" });
    res.json({ logged_out: true });
  });
});
// --8<-- [end:logout]
app.use(shared.bodyErrors);

// --8<-- [start:origins]
function allowOrigins() {
  // 0.9's default is "*:*", every page; a cookie carrier needs the list (and so does every
  // client: with a list, a handshake without Origin or Referer is refused too)
  origins = shared.pageOrigins(server, args.allowOrigins);
  io.set("origins", shared.hostPorts(origins));  // an array of "host:port"
}
// --8<-- [end:origins]

// --8<-- [start:wire]
// 0.9: one global authorization function, plus one for the /admin namespace.
io.set("authorization", auth.authorization);
io.of("/admin").authorization(auth.adminAuthorization);
// --8<-- [end:wire]

// --8<-- [start:connection]
function onConnection(socket) {
  var sid = socket.handshake.sessionID;
  if (!sid) return welcome(socket);  // no session: nothing a /logout could end
  // authorization read the session at the handshake, but the client opens its transport
  // later, maybe after a /logout: join the room first (a /logout from now on finds the
  // socket there), then ask the store whether one before it destroyed the session.
  socket.join("session:" + sid);
  sessions.store.get(sid, function (err, session) {
    if (err || !session) return socket.disconnect();
    welcome(socket);
  });
}

function welcome(socket) {
  // Who is this? 0.9 apps read what authorization put on socket.handshake (mutated in place).
  var handshake = socket.handshake;
  socket.emit("welcome", { user: handshake.user, role: handshake.role, server: "node-0.9" });
  socket.on("handshake", function () {
    var ack = arguments[arguments.length - 1];  // 0.9 passes it last; a client may send none
    if (typeof ack === "function") ack(shared.redacted(socket.handshake));
  });
}
io.sockets.on("connection", onConnection);
io.of("/admin").on("connection", onConnection);
// --8<-- [end:connection]

// --8<-- [start:visit]
// A handler that writes the session back: handshake.session is a copy read at the handshake,
// so read the store's own, which /logout may have destroyed since.
io.sockets.on("connection", function (socket) {
  socket.on("visit", function (ack) {
    var sid = socket.handshake.sessionID;
    if (!sid || typeof ack !== "function") return;
    sessions.store.get(sid, function (err, session) {
      if (err || !session) return ack({ error: "session_ended" });
      session.visits = (session.visits || 0) + 1;
      sessions.store.set(sid, session, function (err) {
        ack(err ? { error: "session_ended" } : { visits: session.visits });
      });
    });
  });
});
// --8<-- [end:visit]

shared.listen(server, args, allowOrigins);
