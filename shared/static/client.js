// THE browser client. Every page uses it unchanged: each server's own page (one pane) and the
// side-by-side page (two panes). It drives the official socket.io-client 4.8 (`io`, served
// from /static/vendor/socket.io.min.js) and turns whatever happens into a verdict.
"use strict";

(function () {
  const panes = new Map(); // name -> {root, server, socket, request, token}

  function $(root, selector) {
    return root.querySelector(selector);
  }

  function step(pane, text) {
    const item = document.createElement("li");
    item.textContent = `${new Date().toISOString().slice(11, 23)}  ${text}`;
    $(pane.root, ".steps").append(item);
  }

  function show(pane, verdict) {
    const box = $(pane.root, ".verdict");
    box.dataset.accepted = String(verdict.accepted);
    box.textContent = verdict.accepted
      ? `Accepted as ${verdict.user} (${verdict.role})`
      : `Refused: ${verdict.summary}`;
    $(pane.root, ".retry").hidden = verdict.accepted;
    $(pane.root, ".show-handshake").hidden = !verdict.accepted;
  }

  // --8<-- [start:login]
  async function login(pane, username, password) {
    const response = await fetch(new URL("/login", pane.server), {
      method: "POST",
      credentials: "include", // lets the server set its HttpOnly cookie, even cross-origin
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    const body = await response.json().catch(() => ({}));
    step(pane, `POST /login -> ${response.status}${body.error ? " " + body.error : ""}`);
    return response.ok ? body.token : null;
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
      case "cookie": // set by POST /login; cross-origin XHR sends it only with credentials
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

  async function fetchToken(pane, request) {
    if (request.token) {
      step(pane, "using the token given");
      return request.token;
    }
    return login(pane, request.username, request.password);
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
      // A transport error: v4 would retry with backoff. An HTTP answer from the server is a
      // refused handshake (the 0.9 way): stop, do not hammer the server.
      const status = typeof err.description === "number" ? err.description : null;
      if (status && status >= 400) {
        const body = err.context && err.context.responseText;
        step(pane, `${err.message}: HTTP ${status} ${body || ""}`);
        step(pane, "not retrying: the HTTP handshake was refused");
        socket.disconnect();
        settle({ accepted: false, kind: "http", status, body: body || null,
                 summary: `HTTP ${status} ${body || ""}`.trim() });
        return;
      }
      step(pane, `${err.message}: retrying (the server may be down)`);
    });
    socket.on("disconnect", (reason) => step(pane, `disconnected: ${reason}`));
    // The server ends a live socket whose token expired or was revoked; log in again to go on.
    socket.on("session_ended", (data) => {
      step(pane, `session ended by the server: ${data.message} (${data.reason})`);
      show(pane, { accepted: false, summary: `session ended: ${data.message}` });
    });
  }
  // --8<-- [end:verdict]

  async function connect(name, request) {
    const pane = panes.get(name);
    disconnect(name);
    $(pane.root, ".steps").replaceChildren();
    for (const field of [".welcome", ".transport", ".handshake"]) {
      $(pane.root, field).textContent = "";
    }
    $(pane.root, ".verdict").textContent = "Connecting…";
    pane.request = request;
    pane.token = needsToken(request.carrier) ? await fetchToken(pane, request) : null;
    if (needsToken(request.carrier) && !pane.token) {
      step(pane, "no token: connecting without credentials");
    }
    const options = carrierOptions(pane, request);
    if (needsToken(request.carrier) && !pane.token) {
      delete options.query;
      delete options.extraHeaders;
      delete options.auth;
    }
    const url = new URL(request.namespace || "/", pane.server).href;
    const verdict = await new Promise((settle) => {
      const socket = io(url, { forceNew: true, reconnectionAttempts: 5, ...options });
      pane.socket = socket;
      watch(pane, socket, settle);
    });
    show(pane, verdict);
    return verdict;
  }

  function disconnect(name) {
    const pane = panes.get(name);
    if (pane.socket) {
      pane.socket.disconnect();
      pane.socket = null;
    }
  }

  async function showHandshake(name) {
    const pane = panes.get(name);
    const handshake = await pane.socket.timeout(3000).emitWithAck("handshake");
    $(pane.root, ".handshake").textContent = JSON.stringify(handshake, null, 2);
    return handshake;
  }

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
      const server = root.dataset.server || window.location.origin;
      panes.set(name, { root, server, socket: null, request: null, token: null });
      $(root, ".retry").addEventListener("click", () => connect(name, panes.get(name).request));
      $(root, ".show-handshake").addEventListener("click", () => showHandshake(name));
    }
    const form = document.getElementById("credentials");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const request = readForm(form);
      await Promise.all([...panes.keys()].map((name) => connect(name, request)));
    });
    document.getElementById("disconnect").addEventListener("click", () => {
      for (const name of panes.keys()) disconnect(name);
    });
  }

  window.handshakeDemo = { connect, disconnect, showHandshake, panes };
  document.addEventListener("DOMContentLoaded", mount);
})();
