// THE browser client. Every page uses it unchanged: each server's own page (one pane) and the
// side-by-side page (two panes). It drives the official socket.io-client 4.8 (`io`, served
// from /static/vendor/socket.io.min.js), turns whatever happens into a verdict, and tells each
// pane's story in its own era's terms: 0.9's `authorization(handshake_data, callback)` on the
// HTTP handshake, or 1.0+'s `use(socket, next)` chain on the CONNECT packet.
"use strict";

(function () {
  const OPEN_TIMEOUT_MS = 5000; // /login and Engine.IO's open: a server that never answers
  const VERDICT_TIMEOUT_MS = 8000; // the whole handshake, CONNECT and welcome included
  const panes = new Map(); // name -> {root, server, era, socket, request, attempt, ...}

  function $(root, selector) {
    return root.querySelector(selector);
  }

  function clock() {
    return new Date().toISOString().slice(11, 23);
  }

  function step(pane, text) {
    const item = document.createElement("li");
    item.textContent = `${clock()}  ${text}`;
    $(pane.root, ".steps").append(item);
  }

  // "text with `code`" as DOM nodes: the narration is text, never HTML.
  function rich(text) {
    const fragment = document.createDocumentFragment();
    text.split("`").forEach((part, index) => {
      if (!part) return;
      if (index % 2) {
        const code = document.createElement("code");
        code.textContent = part;
        fragment.append(code);
      } else {
        fragment.append(part);
      }
    });
    return fragment;
  }

  function tell(pane, lines) {
    $(pane.root, ".story").replaceChildren(...lines.map((line) => {
      const item = document.createElement("li");
      item.append(rich(line));
      return item;
    }));
  }

  // ---- the session cookie ----------------------------------------------------------------
  // POST /login starts a server-side session and sets its HttpOnly cookie: the page cannot
  // read it, so it remembers what its own logins set. Cookies are per host, not per port: both
  // demo servers on 127.0.0.1 share one.
  function cookieKey(pane) {
    return `handshake-demo:session-cookie:${new URL(pane.server).hostname}`;
  }

  function cookieHeld(pane) {
    try {
      return JSON.parse(sessionStorage.getItem(cookieKey(pane)));
    } catch {
      return null;
    }
  }

  function setCookieMemory(pane, value) {
    try {
      if (value) sessionStorage.setItem(cookieKey(pane), JSON.stringify(value));
      else sessionStorage.removeItem(cookieKey(pane));
    } catch {
      // storage disabled: the panes then say "none set by this page"
    }
    showCookies();
  }

  function showCookies() {
    for (const pane of panes.values()) {
      const held = cookieHeld(pane);
      $(pane.root, ".cookie").textContent = held
        ? `${held.user} (${held.role}), set by POST /login at ${held.at}; the cookie carrier sends it`
        : "none set by this page";
    }
  }

  // --8<-- [start:login]
  async function login(pane, username, password) {
    const response = await fetch(new URL("/login", pane.server), {
      method: "POST",
      credentials: "include", // lets the server set its HttpOnly cookie, even cross-origin
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password }),
      signal: AbortSignal.timeout(OPEN_TIMEOUT_MS), // a server that never answers
    });
    const body = await response.json().catch(() => ({}));
    step(pane, `POST /login -> ${response.status}${body.error ? " " + body.error : ""}`);
    if (!response.ok) return { token: null, status: response.status, error: body.error || "" };
    setCookieMemory(pane, { user: body.user, role: body.role, at: clock().slice(0, 8) });
    return { token: body.token, user: body.user, role: body.role };
  }
  // --8<-- [end:login]

  // --8<-- [start:carriers]
  // Where the credentials travel. The server sees query and headers of the first HTTP request
  // only; `auth` travels in the Socket.IO CONNECT packet (Socket.IO 3+).
  function carrierOptions(pane, request) {
    const { username, password } = request;
    switch (request.carrier) {
      case "query-password": // the 2012 question: login data in the handshake URL
        return { query: { username, password } };
      case "query-token":
        return { query: { token: pane.token } };
      case "cookie": // the session cookie the browser holds; cross-origin: withCredentials
        return { withCredentials: true };
      case "header": // browsers send extra headers on polling requests only: poll first
        return {
          extraHeaders: { Authorization: `Bearer ${pane.token}` },
          transports: ["polling", "websocket"],
        };
      case "auth-token": // a function: evaluated again on every (re)connection
        return { auth: (send) => send({ token: pane.token }) };
      case "auth-password":
        return { auth: { username, password } };
      default:
        throw new Error(`unknown carrier ${request.carrier}`);
    }
  }
  // --8<-- [end:carriers]

  function needsToken(carrier) {
    return ["query-token", "cookie", "header", "auth-token"].includes(carrier);
  }

  function why(err) {
    return err && err.name === "TimeoutError"
      ? `no answer within ${OPEN_TIMEOUT_MS / 1000} s`
      : `no answer (${(err && err.message) || err})`;
  }

  // --8<-- [start:verdict]
  function watch(pane, socket, settle) {
    socket.io.on("open", () => {
      step(pane, `Engine.IO open (${socket.io.engine.transport.name})`);
      socket.io.engine.on("upgrade", (transport) => {
        step(pane, `upgraded to ${transport.name}`);
        $(pane.root, ".transport").textContent = transport.name;
      });
      $(pane.root, ".transport").textContent = socket.io.engine.transport.name;
    });
    socket.on("connect", () => step(pane, `CONNECT ${socket.nsp} accepted`));
    socket.on("welcome", (data) => {
      step(pane, `welcome ${JSON.stringify(data)}`);
      $(pane.root, ".welcome").textContent = JSON.stringify(data);
      settle({ accepted: true, user: data.user, role: data.role, server: data.server });
    });
    socket.on("connect_error", (err) => {
      if (!socket.active) {
        // A middleware said no (CONNECT_ERROR): v4 does not retry by itself.
        step(pane, `connect_error "${err.message}" ${JSON.stringify(err.data ?? null)}`);
        step(pane, "not retrying: refused by the server; press Retry to try again");
        const code = err.data && err.data.code;
        settle({ accepted: false, kind: "connect_error", message: err.message,
                 data: err.data ?? null, summary: `${err.message}${code ? ` (${code})` : ""}` });
        return;
      }
      // A transport error: v4 would retry with backoff, forever. Stop, and say which it is:
      // an HTTP answer is a refused handshake (the 0.9 way); no answer, a server down.
      socket.disconnect();
      const status = typeof err.description === "number" ? err.description : 0;
      if (status >= 400) {
        const body = err.context && err.context.responseText;
        step(pane, `${err.message}: HTTP ${status} ${body || ""}`);
        step(pane, "not retrying: the HTTP handshake was refused");
        settle({ accepted: false, kind: "http", status, body: body || null,
                 summary: `HTTP ${status} ${body || ""}`.trim() });
        return;
      }
      step(pane, `${err.message}: no answer from ${pane.server}; not retrying`);
      settle({ accepted: false, kind: "unreachable",
               summary: `no answer from ${pane.server} (${err.message})` });
    });
  }
  // --8<-- [end:verdict]

  // ---- a pane's state ----------------------------------------------------------------------
  function reset(pane, status) {
    pane.attempt += 1; // events and answers of an earlier attempt are ignored from now on
    if (pane.cancel) pane.cancel();
    if (pane.socket) {
      pane.socket.off();
      pane.socket.io.off();
      pane.socket.disconnect();
      pane.socket = null;
    }
    pane.verdict = null;
    const box = $(pane.root, ".verdict");
    delete box.dataset.accepted;
    box.textContent = status;
    const source = $(pane.root, ".source");
    source.textContent = "";
    delete source.dataset.warning;
    for (const field of [".welcome", ".transport", ".handshake"]) {
      $(pane.root, field).textContent = "";
    }
    $(pane.root, ".steps").replaceChildren();
    $(pane.root, ".retry").hidden = true;
    $(pane.root, ".show-handshake").hidden = true;
    tell(pane, ERAS[pane.era].before);
    return pane.attempt;
  }

  const PREFIXES = { unreachable: "Unreachable", timeout: "Unreachable",
                     session_ended: "Session ended" };

  function show(pane, verdict) {
    pane.verdict = verdict;
    const box = $(pane.root, ".verdict");
    box.dataset.accepted = String(verdict.accepted);
    box.textContent = verdict.accepted
      ? `Accepted as ${verdict.user} (${verdict.role})`
      : `${PREFIXES[verdict.kind] || "Refused"}: ${verdict.summary}`;
    const source = $(pane.root, ".source");
    source.textContent = verdict.source ? verdict.source.text : "";
    if (verdict.source && verdict.source.warning) source.dataset.warning = "true";
    else delete source.dataset.warning;
    if (verdict.kind === "http") {
      $(pane.root, ".transport").textContent = "none: refused before any session existed";
    }
    $(pane.root, ".retry").hidden = verdict.accepted || !pane.request;
    $(pane.root, ".show-handshake").hidden = !verdict.accepted;
    tell(pane, narrate(pane, verdict));
  }

  // Where the identity came from: the demo never shows a user without saying.
  function identitySource(pane, request, got, verdict) {
    const typed = request.username ? `“${request.username}”` : "nothing";
    const fromCookie = (instead) => {
      const held = cookieHeld(pane);
      const when = held && held.user === verdict.user ? ` (set at ${held.at})` : "";
      return { warning: true, text: `Not what you typed: ${instead}, but the browser still ` +
        `holds the session cookie of an earlier login as ${verdict.user}${when}, and sent ` +
        "it. Log out ends that session and clears it." };
    };
    switch (request.carrier) {
      case "query-password":
      case "auth-password":
        return { text: `Identity from: the username and password you typed, in the ${
          request.carrier === "query-password" ? "query" : "auth payload"}.` };
      case "cookie":
        if (got && got.token && !got.given) {
          return { text: `Identity from: the session cookie POST /login just set for ${
            got.user}.` };
        }
        return fromCookie(got && got.given ? "the token you pasted travels in no cookie"
          : `POST /login refused ${typed}`);
      default:
        if (!got || !got.token) {
          // no token was presented: a same-origin request carried the cookie anyway
          return fromCookie(`POST /login refused ${typed}`);
        }
        return { text: got.given
          ? `Identity from: the token you pasted (it names ${verdict.user}).`
          : `Identity from: the token POST /login just gave for ${got.user}.` };
    }
  }

  async function connect(name, request) {
    const pane = panes.get(name);
    const attempt = reset(pane, "Connecting…");
    const current = () => pane.attempt === attempt;
    pane.request = request;
    pane.token = null;
    let got = null; // what this attempt's login gave
    if (needsToken(request.carrier)) {
      if (request.token) {
        step(pane, "using the token given");
        got = { token: request.token, given: true };
      } else {
        try {
          got = await login(pane, request.username, request.password);
        } catch (err) {
          if (!current()) return null;
          step(pane, `POST /login: ${why(err)}`);
          const verdict = { accepted: false, kind: "unreachable",
                            summary: `POST /login: ${why(err)} from ${pane.server}` };
          show(pane, verdict);
          return verdict;
        }
        if (!current()) return null;
      }
      pane.token = got.token;
      if (!pane.token) {
        step(pane, request.carrier === "cookie"
          ? "no new session: the browser sends whatever session cookie it still holds"
          : "no token: connecting without credentials");
      }
    }
    const options = carrierOptions(pane, request);
    if (needsToken(request.carrier) && !pane.token) {
      delete options.query;
      delete options.extraHeaders;
      delete options.auth;
    }
    const url = new URL(request.namespace || "/", pane.server).href;
    const verdict = await new Promise((resolve) => {
      let timer = null;
      const settle = (value) => {
        clearTimeout(timer);
        pane.cancel = null;
        resolve(value);
      };
      pane.cancel = () => settle(null);
      const socket = io(url, { forceNew: true, timeout: OPEN_TIMEOUT_MS, ...options });
      pane.socket = socket;
      timer = setTimeout(() => {
        step(pane, `no verdict within ${VERDICT_TIMEOUT_MS / 1000} s; giving up`);
        socket.disconnect();
        settle({ accepted: false, kind: "timeout",
                 summary: `no verdict from ${pane.server} within ${VERDICT_TIMEOUT_MS / 1000} s` });
      }, VERDICT_TIMEOUT_MS);
      watch(pane, socket, settle);
      socket.on("disconnect", (reason) => step(pane, `disconnected: ${reason}`));
      // The server ends a live socket whose token or session ended; log in again to go on.
      socket.on("session_ended", (data) => {
        step(pane, `session ended by the server: ${data.message} (${data.reason})`);
        show(pane, { accepted: false, kind: "session_ended", message: data.message,
                     reason: data.reason, summary: data.message });
      });
    });
    if (!verdict || !current()) return verdict;
    if (verdict.accepted) verdict.source = identitySource(pane, request, got, verdict);
    show(pane, verdict);
    return verdict;
  }

  function disconnect(name) {
    const pane = panes.get(name);
    const wasConnected = Boolean(pane.socket && pane.socket.connected);
    reset(pane, "Not connected");
    step(pane, wasConnected ? "you disconnected: socket.disconnect()" : "you pressed Disconnect");
  }

  // everywhere: POST /logout-everywhere ends every session of the user, on every node
  async function logout(name, everywhere = false) {
    const pane = panes.get(name);
    const path = everywhere ? "/logout-everywhere" : "/logout";
    reset(pane, "Logging out…");
    const attempt = pane.attempt;
    pane.token = null;
    let text;
    try {
      const response = await fetch(new URL(path, pane.server), {
        method: "POST",
        credentials: "include", // the session cookie, which the page cannot read
        signal: AbortSignal.timeout(OPEN_TIMEOUT_MS),
      });
      const body = await response.json().catch(() => ({}));
      step(pane, `POST ${path} -> ${response.status}${body.error ? " " + body.error : ""}`);
      // Log out ends the session and clears its cookie (also one whose session had ended:
      // another server sharing the store was quicker); Log out everywhere leaves it, refused.
      const ended = body.error === "invalid_session";
      if (!everywhere && (response.ok || response.status === 400 || ended)) {
        setCookieMemory(pane, null);
      }
      const done = everywhere ? "Logged out everywhere: every session of this user has ended"
        : "Logged out: the session is ended on the server, its cookie cleared";
      text = response.ok ? done
        : response.status === 400 ? "Logged out: the browser held no session cookie"
          : ended && !everywhere ? "Logged out: the session had already ended, its cookie cleared"
            : `Log out refused: HTTP ${response.status} ${body.error || ""}`.trim();
    } catch (err) {
      step(pane, `POST ${path}: ${why(err)}`);
      text = `Log out failed: ${why(err)} from ${pane.server}`;
    }
    if (pane.attempt !== attempt) return text;
    $(pane.root, ".verdict").textContent = text;
    return text;
  }

  async function showHandshake(name) {
    const pane = panes.get(name);
    const box = $(pane.root, ".handshake");
    if (!pane.socket || !pane.socket.connected) {
      box.textContent = "Not connected: there is no handshake to show.";
      return null;
    }
    try {
      const handshake = await pane.socket.timeout(3000).emitWithAck("handshake");
      box.textContent = JSON.stringify(handshake, null, 2);
      return handshake;
    } catch (err) {
      box.textContent = `No answer from the server: ${err.message}`;
      return null;
    }
  }

  // ---- each era's story ----------------------------------------------------------------------
  function readsFrom(era, carrier) {
    const handshake = era === "0.9" ? "handshake_data" : "socket.handshake";
    if (carrier.startsWith("query")) return `${handshake}["query"]`;
    if (carrier === "cookie") { // the session the cookie names, read in the era's own way
      return era === "0.9" ? `${handshake}["session"]` : "get_session(socket.aiohttp_request)";
    }
    if (carrier === "header") return `${handshake}["headers"]["authorization"]`;
    return era === "0.9" ? null : `socket.handshake["auth"]`;
  }

  const HANDSHAKE = "`GET /socket.io/?EIO=4&transport=polling…`, the HTTP handshake";

  const ERAS = {
    "0.9": {
      before: [
        "`authorization(handshake_data, callback)` runs once, on the HTTP handshake, before " +
          "any socket exists.",
        "It answers `callback(None, True)`: HTTP 200; or `callback(None, False)`: HTTP 403 " +
          "`handshake unauthorized`, with no reason.",
      ],
      story(pane, verdict, request) {
        const ns = request.namespace || "/";
        const reads = readsFrom("0.9", request.carrier);
        const read = reads ? `read \`${reads}\``
          : "found no credentials (the `auth` payload is Socket.IO 3+: 0.9's " +
            "`handshake_data` has no `auth`)";
        const gate = `${HANDSHAKE}: \`authorization(handshake_data, callback)\` ran on it, ${read}`;
        if (verdict.accepted) {
          return [
            `${gate}, and answered \`callback(None, True)\`.`,
            "On the wire: HTTP 200 with a session id (Engine.IO's open packet here; 0.9 " +
              "sent `sid:heartbeat:close:transports`). The identity was written into " +
              "`handshake_data`, which became `socket.handshake`.",
            ...(ns === "/" ? [] : [`Joining \`${ns}\` ran its namespace function, ` +
              "`admin_authorization(handshake_data, callback)`: `callback(None, True)`."]),
            `A 0.9 client would have emitted \`connect\`${ns === "/" ? "" : ` on \`${ns}\``}.`,
          ];
        }
        if (verdict.kind === "http" && verdict.body === "handshake unauthorized") {
          return [
            `${gate}, and answered \`callback(None, False)\`.`,
            "On the wire: HTTP 403, body `handshake unauthorized`. No session was created, " +
              "and the reason stayed in the server's log: 0.9 could not send one.",
            "A 0.9 client (socket.io-client 0.9.16) emitted `error('handshake unauthorized')` " +
              "and stayed “connecting”, never to handshake again (socket.io-client#506).",
            "This page's 4.x client sees a transport error (`xhr poll error`, status 403) " +
              "that it would retry with backoff; the page stops it.",
          ];
        }
        if (verdict.kind === "http" && verdict.body === "handshake error") {
          return [
            `${gate}, and answered \`callback(err)\`.`,
            "On the wire: HTTP 500, body `handshake error`; `err` itself was only logged.",
            "A 0.9 client emitted `error('handshake error')`, and `connect()` could " +
              "handshake again.",
          ];
        }
        if (verdict.kind === "http") {
          return [`The server refused the HTTP request before \`authorization\` ran: ` +
            `HTTP ${verdict.status} \`${verdict.body || ""}\`.`];
        }
        if (verdict.kind === "connect_error") {
          return [
            `${gate}, and answered \`callback(None, True)\`: HTTP 200.`,
            `Joining \`${ns}\` ran its namespace function, ` +
              "`admin_authorization(handshake_data, callback)`, which answered " +
              "`callback(None, False)`.",
            `On the wire: an error packet for \`${ns}\`, reason \`${verdict.message}\`; ` +
              "no other reason, 0.9 could not say why. The connection itself stays up.",
            `A 0.9 client emitted \`connect_failed('${verdict.message}')\` on \`${ns}\`; ` +
              `this 4.x client gets \`connect_error\` with \`err.message\` ` +
              `\`${verdict.message}\`.`,
          ];
        }
        if (verdict.kind === "session_ended") {
          return [`The server ended this socket: \`${verdict.message}\` ` +
            `(\`${verdict.reason}\`).`,
          "0.9's `authorization` ran once, on the handshake, and never again: ending a " +
            "socket whose token or session ended is this app's own addition."];
        }
        return [`${verdict.summary}: the HTTP handshake never completed, so ` +
          "`authorization` never ran. Is the server running?"];
      },
    },
    "1.0+": {
      before: [
        "The HTTP handshake opens an Engine.IO session with no check.",
        "The middleware chain runs on the client's CONNECT packet for a namespace: " +
          "`authenticate(socket, next)` answers `next()`, or `next(err)`: a `connect_error` " +
          "with `err.message` and `err.data`.",
      ],
      story(pane, verdict, request) {
        const ns = request.namespace || "/";
        const chain = ns === "/" ? "`authenticate(socket, next)`"
          : "`authenticate(socket, next)`, then `require_admin(socket, next)`";
        const open = `${HANDSHAKE}, opened an Engine.IO session with no check: HTTP 200.`;
        const reads = readsFrom("1.0+", request.carrier);
        const prefix = ns === "/" ? "" : `${ns},`;
        if (verdict.accepted) {
          return [
            open,
            `The client's CONNECT packet for \`${ns}\` ran ${chain}; \`authenticate\` read ` +
              `\`${reads}\`, and each middleware answered \`next()\`. The identity went on ` +
              "`socket.data`.",
            `On the wire: \`40${prefix}{"sid":…}\` (CONNECT); the client emitted \`connect\`.`,
          ];
        }
        if (verdict.kind === "connect_error") {
          const packet = JSON.stringify({ message: verdict.message,
                                          ...(verdict.data === null ? {} : { data: verdict.data }) });
          const who = verdict.data && verdict.data.code === "forbidden_namespace"
            ? "`authenticate` answered `next()`, then `require_admin(socket, next)` answered " +
              "`next(err)`"
            : `\`authenticate(socket, next)\` read \`${reads}\` and answered \`next(err)\``;
          return [
            open,
            `The client's CONNECT packet for \`${ns}\` ran the chain: ${who}.`,
            `On the wire: \`44${prefix}${packet}\` (CONNECT_ERROR).`,
            `The client emitted \`connect_error\` with \`err.message\` ` +
              `\`${JSON.stringify(verdict.message)}\` and \`err.data\` ` +
              `\`${JSON.stringify(verdict.data)}\`; \`socket.active\` is \`false\`: ` +
              "it does not retry by itself (Retry does).",
          ];
        }
        if (verdict.kind === "http") {
          return [`The server refused the HTTP request before any middleware ran: ` +
            `HTTP ${verdict.status} \`${verdict.body || ""}\`.`,
          "A 1.0+ client sees `connect_error` `xhr poll error` and retries with backoff; " +
            "the page stops it."];
        }
        if (verdict.kind === "session_ended") {
          return [`The server ended this socket: \`${verdict.message}\` ` +
            `(\`${verdict.reason}\`).`,
          "Middlewares run once per CONNECT: ending a socket whose token or session ended " +
            "is this app's own addition."];
        }
        return [`${verdict.summary}: no CONNECT packet reached the server, so no ` +
          "middleware ran. Is the server running?"];
      },
    },
  };

  function narrate(pane, verdict) {
    const request = { ...(pane.request || {}) };
    if (verdict.source && verdict.source.warning) request.carrier = "cookie"; // what it read
    return ERAS[pane.era].story(pane, verdict, request);
  }

  // ---- the page --------------------------------------------------------------------------------
  function readForm(form) {
    const data = new FormData(form);
    return {
      username: data.get("username"),
      password: data.get("password"),
      carrier: data.get("carrier"),
      namespace: data.get("namespace"),
      token: (data.get("token") || "").trim() || null,
    };
  }

  function mount() {
    for (const root of document.querySelectorAll("[data-pane]")) {
      const name = root.dataset.pane;
      const pane = { root, server: root.dataset.server || window.location.origin,
                     era: root.dataset.era === "0.9" ? "0.9" : "1.0+", socket: null,
                     request: null, token: null, attempt: 0, cancel: null, verdict: null };
      panes.set(name, pane);
      reset(pane, "Not connected");
      $(root, ".retry").addEventListener("click", () => {
        if (pane.request) connect(name, pane.request);
      });
      $(root, ".show-handshake").addEventListener("click", () => showHandshake(name));
    }
    showCookies();
    const form = document.getElementById("credentials");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const request = readForm(form);
      await Promise.all([...panes.keys()].map((name) => connect(name, request)));
    });
    document.getElementById("disconnect").addEventListener("click", () => {
      for (const name of panes.keys()) disconnect(name);
    });
    for (const [id, everywhere] of [["logout", false], ["logout-everywhere", true]]) {
      document.getElementById(id).addEventListener("click", async () => {
        // Both requests leave before either answer clears the cookie: each server acts on it.
        await Promise.all([...panes.keys()].map((name) => logout(name, everywhere)));
      });
    }
  }

  window.handshakeDemo = { connect, disconnect, logout, showHandshake, panes };
  document.addEventListener("DOMContentLoaded", mount);
})();
