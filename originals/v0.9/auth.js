"use strict";
// User code, 0.9 style: the functions an app author handed to io.set('authorization', …)
// (legacy_authorization/auth.py).
var policy = require("../policy");
var sessions = require("./session");

// --8<-- [start:authorize]
function authorization(handshakeData, callback) {
  // Runs once per connection, on the HTTP handshake, before any socket exists.
  var client = handshakeData.address && handshakeData.address.address;  // none: peer gone
  var session;
  sessions.load(handshakeData).then(function (found) {
    session = found;
    var presented = policy.credentialsIn(handshakeData.query, handshakeData.headers);
    var sent = policy.cookiesNamed(handshakeData.headers, sessions.KEY);  // all, not the first
    if (sent.length) presented.push(policy.sessionIn(sent, session));
    return policy.authenticate(presented, { client: client });
  }).then(function (verdict) {
    // refused: 403 "handshake unauthorized" for the client, the reason only in our log
    if (verdict.code) return callback(null, false);
    Object.assign(handshakeData, verdict);  // in place: this becomes socket.handshake
    if (session) handshakeData.session = session;  // handlers read socket.handshake.session
    callback(null, true);
  }, function (err) {
    // a bug or a broken store: 500 "handshake error", never a crash or a handshake left hanging
    console.error("authorization failed with an error:", err);
    callback(err);
  });
}
// --8<-- [end:authorize]

// --8<-- [start:namespace]
function adminAuthorization(handshakeData, callback) {
  // Runs when a client joins /admin, with the handshake data stored above.
  var identity = { user: handshakeData.user, role: handshakeData.role };
  var refusal = policy.authorizeNamespace(identity, "/admin");
  callback(null, refusal === null);  // false: the client's /admin gets "unauthorized"
}
// --8<-- [end:namespace]

module.exports = { authorization: authorization, adminAuthorization: adminAuthorization };
