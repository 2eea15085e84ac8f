"use strict";
// passport.socketio on real Socket.IO 0.9.19 and express 3: Passport logs the user in over
// HTTP; the authorization function finds the user from the session cookie, and handlers read
// socket.handshake.user. (Migrated: ../v4/passport.js.)
//   node originals/v0.9/passport.js [--host 127.0.0.1] [--port 8095] [--allow-origin ORIGIN]...
var http = require("http");
var express = require("express");
var passport = require("passport");
var LocalStrategy = require("passport-local").Strategy;
var passportSocketIo = require("passport.socketio");
var sio = require("socket.io");
var accounts = require("../accounts");
var shared = require("../http");
var sessions = require("./session");

var args = shared.parseArgs(8095);
accounts.configure(passport, LocalStrategy);
var app = express();
app.set("json spaces", 0);  // express 3 indents JSON outside production
var origins = [];  // the page origins, known once the server listens
app.use(shared.refuseForeignOrigins(function () { return origins; }));  // no forged login
app.use(sessions.middleware(args.sessionTtl));
app.use(express.urlencoded({ extended: false, limit: shared.MAX_BODY }));
app.use(passport.initialize());
app.use(passport.session());
app.post("/login", passport.authenticate("local"), function (req, res) {
  res.json({ user: req.user.username });  // a wrong password: 401 "Unauthorized", from Passport
});
var server = http.createServer(app);
var io = sio.listen(server, { "log level": 1 });

// --8<-- [start:authorize]
io.set("authorization", passportSocketIo.authorize({
  cookieParser: express.cookieParser,  // express 3's own
  key: sessions.KEY,  // connect.sid
  secret: shared.SESSION_SECRET,
  store: sessions.store,  // the one express-session writes to
  passport: passport,
}));

io.sockets.on("connection", function (socket) {
  var user = socket.handshake.user;  // passport.socketio put the deserialized user there
  socket.emit("welcome", { user: user.username, role: user.role, server: "node-0.9" });
});
// --8<-- [end:authorize]

shared.listen(server, args, function () {  // a cookie carrier: only our pages (see app.js)
  origins = shared.pageOrigins(server, args.allowOrigins);
  io.set("origins", shared.hostPorts(origins));
});
