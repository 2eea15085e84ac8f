"use strict";
// Several nodes of the 4.8 app (app.js --redis URL) share two things through Redis: the
// sessions (connect-redis: a session made on one node is read on every node) and the Socket.IO
// adapter (@socket.io/redis-adapter: io.in(room).disconnectSockets() reaches the sockets of
// every node). An Engine.IO session stays in the memory of the node that opened it: hence the
// "io" cookie, which tells HAProxy where to send the session's later requests.
const { createAdapter } = require("@socket.io/redis-adapter");
const { RedisStore } = require("connect-redis");
const { createClient } = require("redis");

// --8<-- [start:connect]
function connect(url) {
  const client = createClient({ url });
  const subscriber = client.duplicate();  // a subscribed connection can send nothing else
  for (const each of [client, subscriber]) {
    // node-redis reports a lost connection, and each retry that fails, as an "error" event
    // (the Redis adapter's own listener only warns that the app has none). It reconnects by
    // itself once Redis is back, and subscribes again.
    each.on("error", (err) => console.error(`redis: ${err.message}`));
  }
  return {
    ready: Promise.all([client.connect(), subscriber.connect()]),
    store: new RedisStore({ client }),  // for express-session, instead of its MemoryStore
    serverOptions: {  // for new Server(…)
      adapter: createAdapter(client, subscriber),
      // The handshake's answer names its Engine.IO session: Set-Cookie: io=<sid>. HAProxy
      // learns "sid -> this node" from it (cluster/haproxy.cfg.template).
      cookie: { name: "io", path: "/", httpOnly: true, sameSite: "lax" },
    },
  };
}
// --8<-- [end:connect]

/** Why a node cannot start with `--redis url`, or null. */
function problemWith(url) {
  if (!URL.canParse(url) || !["redis:", "rediss:"].includes(new URL(url).protocol)) {
    return `bad --redis ${url} (redis://HOST:PORT/DB)`;
  }
  // Every node must sign and check cookies and tokens with the same secrets, or each would
  // refuse what the others issued.
  const missing = ["SESSION_SECRET", "TOKEN_SECRET"].filter((name) => !process.env[name]);
  return missing.length ? `--redis needs ${missing.join(" and ")}` : null;
}

module.exports = { connect, problemWith };
