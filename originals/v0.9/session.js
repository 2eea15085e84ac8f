"use strict";
// User code, 0.9 style: the Express session, and how the authorization function found it (the
// signed connect.sid cookie of the handshake, then the session store), as socket.io #545 and
// Stack Overflow 8030199 show it. express-session is connect's session middleware: express 3's
// own copy (express.session, 1.11) cannot set SameSite, its last version can, in express 3 too.
var express = require("express");
var expressSession = require("express-session");
var shared = require("../http");

var KEY = "connect.sid";
var store = new expressSession.MemoryStore();

// --8<-- [start:middleware]
function middleware(ttlSeconds) {
  return expressSession({
    store: store, secret: shared.SESSION_SECRET, name: KEY,
    resave: false, saveUninitialized: false,  // a session exists once someone logged in
    cookie: { httpOnly: true, sameSite: "lax", maxAge: ttlSeconds * 1000 },
  });
}
// --8<-- [end:middleware]

// --8<-- [start:load]
var parseCookies = express.cookieParser(shared.SESSION_SECRET);

/** The session a handshake's cookie names, as a promise: null when it sends none, when the
 * signature is wrong or missing, or when the store has no such session (unknown, expired,
 * logged out). Its id goes on handshakeData.sessionID. */
function load(handshakeData) {
  return new Promise(function (resolve, reject) {
    // a request of its own: cookies and the secret must not end up on socket.handshake
    var req = { headers: { cookie: handshakeData.headers.cookie || "" } };
    parseCookies(req, {}, function (err) {
      if (err) return reject(err);
      // a signed cookie moves from req.cookies to req.signedCookies: false if the signature
      // is wrong; one without a signature stays in req.cookies, and names no session
      var sid = req.signedCookies[KEY];
      if (!sid) return resolve(null);
      store.get(sid, function (err, session) {
        if (err) return reject(err);
        if (session) handshakeData.sessionID = sid;
        resolve(session || null);
      });
    });
  });
}
// --8<-- [end:load]

module.exports = { KEY: KEY, store: store, middleware: middleware, load: load };
