"use strict";
// User code, 1.0+ style: the middlewares an app author hands to io.use(…)
// (middleware_auth/auth.py).
const util = require("util");
const policy = require("../policy");
const sessions = require("./session");

// --8<-- [start:authorize]
async function authenticate(socket, next) {
  // Runs once per namespace connection attempt, when the client's CONNECT arrives.
  const { handshake, request } = socket;
  let verdict;
  try {
    // handshake.query keeps the last value of a repeated name (0.9's was an array of them all)
    const presented = policy.credentialsIn(handshake.query, handshake.headers, handshake.auth);
    const sent = policy.cookiesNamed(handshake.headers, sessions.KEY);  // all, not the first
    if (sent.length) presented.push(policy.sessionIn(sent, await storedSession(request)));
    verdict = await policy.authenticate(presented, { client: handshake.address });
  } catch (err) {  // a throw here would end the Node process: refuse instead
    console.error("authentication failed with an error:", err);
    verdict = { code: "authorization_error", message: policy.REFUSALS.authorization_error };
  }
  if (verdict.code) {
    const err = new Error(verdict.message);  // the client's connect_error: err.message
    err.data = { code: verdict.code };  // ... and err.data
    return next(err);
  }
  Object.assign(socket.data, verdict);  // socket.data: what later handlers read
  next();
}
// --8<-- [end:authorize]

// --8<-- [start:reload]
async function storedSession(request) {
  // request.session is what io.engine.use(session) read at the Engine.IO handshake, and a
  // CONNECT may come long after it, after a /logout: ask the store for its own copy. null when
  // the store has none (logged out, expired, never known) or cannot answer.
  if (!request.session) return null;  // express-session sets none while its store is down
  try {
    await util.promisify(request.session.reload).call(request.session);
  } catch {
    return null;
  }
  return request.session;  // reload put a new object there
}
// --8<-- [end:reload]

// --8<-- [start:namespace]
function requireAdmin(socket, next) {
  // Runs after authenticate, for /admin only: io.of('/admin').use(…).
  const { user, role } = socket.data;
  const refusal = policy.authorizeNamespace({ user, role }, socket.nsp.name);
  if (refusal) {
    const err = new Error(refusal.message);
    err.data = { code: refusal.code };
    return next(err);
  }
  next();
}
// --8<-- [end:namespace]

module.exports = { authenticate, requireAdmin };
