"use strict";
// User code, 1.0+ style: the Express session, the same middleware for Express's routes and
// for Socket.IO (io.engine.use, 4.6+), as socket.io's "How to use with express-session" does.
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

module.exports = { KEY, middleware };
