"use strict";
// socketio-jwt on real Socket.IO 0.9.19: a token in the handshake query (or an Authorization
// header), checked by io.set('authorization'); handlers read socket.handshake.decoded_token.
// (Migrated: ../v4/jwt.js; kept unchanged on 4.8: ../v4/jwt-kept.js.) Tokens are the demo's
// (POST /login on app.js, or shared/policy/tokens.py), signed with TOKEN_SECRET.
//   TOKEN_SECRET=… node originals/v0.9/jwt.js [--host 127.0.0.1] [--port 8097]
var sio = require("socket.io");
var socketioJwt = require("socketio-jwt");
var shared = require("../http");

var SECRET = process.env.TOKEN_SECRET;
if (!SECRET) throw new Error("set TOKEN_SECRET: the secret the tokens are signed with");
var args = shared.parseArgs(8097);
var server = shared.createServer();  // no routes: only Socket.IO
var io = sio.listen(server, { "log level": 1 });

// --8<-- [start:authorize]
io.set("authorization", socketioJwt.authorize({
  secret: SECRET,
  algorithms: ["HS256"],  // passed on to jsonwebtoken's verify
  handshake: true,  // check the token of the handshake (?token=…), not a later event
}));

io.sockets.on("connection", function (socket) {
  var claims = socket.handshake.decoded_token;  // socketio-jwt put the claims there
  socket.emit("welcome", { user: claims.sub, role: claims.role, server: "node-0.9" });
});
// --8<-- [end:authorize]

shared.listen(server, args);
