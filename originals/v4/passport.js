"use strict";
// Passport on real Socket.IO 4.8 and express 4, migrated from passport.socketio
// (../v0.9/passport.js): the session and Passport run for the Engine.IO handshake
// (io.engine.use, 4.6+), and handlers read socket.request.user.
//   node originals/v4/passport.js [--host 127.0.0.1] [--port 8096] [--allow-origin ORIGIN]...
const http = require("http");
const express = require("express");
const passport = require("passport");
const LocalStrategy = require("passport-local").Strategy;
const { Server } = require("socket.io");
const accounts = require("../accounts");
const shared = require("../http");
const sessions = require("./session");

const args = shared.parseArgs(8096);
accounts.configure(passport, LocalStrategy);
const app = express();
let origins = [];  // the page origins, known once the server listens
app.use(shared.refuseForeignOrigins(() => origins));  // no login forged by another site
const sessionMiddleware = sessions.middleware(args.sessionTtl);
app.use(sessionMiddleware);
app.use(express.urlencoded({ extended: false, limit: shared.MAX_BODY }));
app.use(passport.initialize());
app.use(passport.session());
app.post("/login", passport.authenticate("local"), (req, res) => {
  res.json({ user: req.user.username });  // a wrong password: 401 "Unauthorized", from Passport
});
const server = http.createServer(app);
const io = new Server(server, {  // a cookie carrier: only our pages (see app.js)
  allowRequest: (req, callback) => callback(null, shared.originAllowed(req.headers, origins)),
});

// --8<-- [start:authorize]
// The first HTTP request of a connection only: later ones belong to an accepted connection.
function onlyForHandshake(middleware) {
  return (req, res, next) => (req._query.sid === undefined ? middleware(req, res, next) : next());
}
io.engine.use(onlyForHandshake(sessionMiddleware));
io.engine.use(onlyForHandshake(passport.session()));  // sets req.user from the session
// Refuse in io.use: a refusal in io.engine.use (HTTP 401) makes the client retry for ever.
io.use((socket, next) => {
  if (socket.request.user) return next();
  const err = new Error("unauthorized");
  err.data = { code: "missing_credentials" };
  next(err);
});

io.on("connection", (socket) => {
  const { user } = socket.request;  // socket.handshake.user, where 0.9 had it, is undefined
  socket.emit("welcome", { user: user.username, role: user.role, server: "node-4.8",
    handshakeUser: typeof socket.handshake.user });
});
// --8<-- [end:authorize]

shared.listen(server, args, () => {
  origins = shared.pageOrigins(server, args.allowOrigins);
});
