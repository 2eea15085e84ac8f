"use strict";
// A token on real Socket.IO 4.8, migrated from socketio-jwt (../v0.9/jwt.js): jsonwebtoken in
// an io.use middleware, the token in the client's `auth` payload (never in the URL, which
// access logs keep); handlers read socket.data.
//   TOKEN_SECRET=… node originals/v4/jwt.js [--host 127.0.0.1] [--port 8098]
const jwt = require("jsonwebtoken");
const { Server } = require("socket.io");
const shared = require("../http");

const SECRET = process.env.TOKEN_SECRET;
if (!SECRET) throw new Error("set TOKEN_SECRET: the secret the tokens are signed with");
const args = shared.parseArgs(8098);
const server = shared.createServer();  // no routes: only Socket.IO
const io = new Server(server);

// --8<-- [start:authorize]
function refusal(message, code) {
  const err = new Error(message);  // the client's connect_error: err.message, err.data
  err.data = { code };
  return err;
}

io.use((socket, next) => {
  const { token } = socket.handshake.auth;  // the client: io(url, { auth: { token } })
  if (typeof token !== "string") return next(refusal("no token provided", "credentials_required"));
  try {  // verify throws for a bad signature, an expired token, a malformed one
    socket.data.claims = jwt.verify(token, SECRET, { algorithms: ["HS256"] });
  } catch (err) {
    return next(refusal(err.message, "invalid_token"));
  }
  next();
});

io.on("connection", (socket) => {
  const { claims } = socket.data;  // 0.9: socket.handshake.decoded_token
  socket.emit("welcome", { user: claims.sub, role: claims.role, server: "node-4.8" });
});
// --8<-- [end:authorize]

shared.listen(server, args);
