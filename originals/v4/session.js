"use strict";
// User code, 1.0+ style: the Express session, the same middleware for Express's routes and
// for Socket.IO (io.engine.use, 4.6+), as socket.io's "How to use with express-session" does.
const crypto = require("crypto");
const expressSession = require("express-session");
const shared = require("../http");

const KEY = "connect.sid";

// --8<-- [start:middleware]
function middleware(ttlSeconds, store = new expressSession.MemoryStore()) {
  return expressSession({
    store, secret: shared.SESSION_SECRET, name: KEY,  // store: Redis's with --redis (cluster.js)
    resave: false, saveUninitialized: false,  // a session exists once someone logged in
    cookie: { httpOnly: true, sameSite: "lax", maxAge: ttlSeconds * 1000 },
  });
}
// --8<-- [end:middleware]

// --8<-- [start:room]
function room(sessionId) {
  // The room of a session's sockets, for /logout. Named by a hash: with --redis, the adapter
  // publishes the room's name to every node, and the id is what the cookie carries.
  return `session:${crypto.createHash("sha256").update(sessionId).digest("hex")}`;
}
// --8<-- [end:room]

module.exports = { KEY, middleware, room };
