"use strict";
// Run an unchanged 0.9 authorization(handshakeData, callback) as a 1.0+ middleware
// (migration_kit/adapter.py).
//
// Socket.IO 1.x-2.x shipped such a shim (io.set('authorization', fn) became an io.use) but fed
// the function socket.request, the raw HTTP request: handshakeData.query was undefined, and
// address, time, xdomain and issued were gone (see ../v2/shim.js). This one feeds it a real
// 0.9-shaped handshakeData. What the function adds (user, session...) goes where the app's 0.9
// handlers read it, socket.handshake, and where 1.0+ code reads it, socket.data.
const querystring = require("querystring");

const LEGACY_FIELDS = ["headers", "address", "time", "query", "url", "xdomain", "secure", "issued"];

/** 0.9's handshakeData: exactly these eight fields, in this order, from socket.handshake. */
function handshakeDataOf(socket) {
  const { handshake } = socket;
  return {
    headers: handshake.headers,
    address: { address: handshake.address, port: socket.request.socket.remotePort },
    time: handshake.time,
    // 0.9 parsed it with querystring: a repeated name is an array, not only its last value
    query: querystring.parse(handshake.url.split("?")[1] || ""),
    url: handshake.url,
    xdomain: handshake.xdomain,
    secure: handshake.secure,
    issued: handshake.issued,
  };
}

// --8<-- [start:adapter]
/** io.use(asMiddleware(authorization)): the 0.9 function, unchanged, in the chain. */
function asMiddleware(authorization, { timeout = 10000 } = {}) {
  return function middleware(socket, next) {
    // 0.9 code reads what earlier code put on handshakeData: here, socket.data.
    const handshakeData = { ...handshakeDataOf(socket), ...socket.data };
    let answered = false;
    const timer = setTimeout(callback, timeout, "authorization callback not called in time");

    function callback(err, authorized) {  // fails closed: only the first answer counts
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      if (err) {
        console.error("0.9 authorization error:", err);  // logged, never sent (as in 0.9)
        return next(new Error("Authorization failed"));
      }
      if (!authorized) return next(new Error("Not authorized"));  // as Socket.IO 1.x's shim
      for (const [key, value] of Object.entries(handshakeData)) {
        if (LEGACY_FIELDS.includes(key)) continue;
        socket.handshake[key] = value;  // where 0.9 handlers read it: socket.handshake.user
        socket.data[key] = value;  // where 1.0+ code reads it
      }
      next();
    }

    try {
      authorization(handshakeData, callback);
    } catch (err) {
      callback(err);
    }
  };
}
// --8<-- [end:adapter]

module.exports = { asMiddleware };
