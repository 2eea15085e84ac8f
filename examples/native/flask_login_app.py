"""Flask-Login in Flask-SocketIO: the user logs in over HTTP, the Socket.IO ``connect`` handler
reads ``current_user``. The session lives on the server (Flask-Session), so logging out ends it.

``python -m examples.native.flask_login_app`` serves it on http://127.0.0.1:8098/.
"""

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass

from cachelib import SimpleCache
from flask import Flask, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_session import Session
from flask_socketio import SocketIO, disconnect, emit
from socketio.exceptions import ConnectionRefusedError

from examples.native import command_line, real_policy
from examples.native.flask_app import PolicyLoop
from shared.policy import REFUSALS, Policy, Refusal
from shared.webapp.login import LOGIN_REFUSAL_STATUS

SERVER = "native-flask-login"


@dataclass(frozen=True)
class Member(UserMixin):
    """What Flask-Login keeps as ``current_user``; its ``id`` is what the session stores."""

    id: str
    role: str


class LiveConnections:
    """The Socket.IO connections opened with each login (Flask-Session's session id), so that
    ``/logout`` can end them. Werkzeug serves each request on a thread of its own: a lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_login: dict[str, set[str]] = defaultdict(set)
        self._login_of: dict[str, str] = {}

    def add(self, login: str, sid: str) -> None:
        with self._lock:
            self._by_login[login].add(sid)
            self._login_of[sid] = login

    def discard(self, sid: str) -> None:
        with self._lock:
            login = self._login_of.pop(sid, None)
            sids = self._by_login.get(login)
            if sids is not None:
                sids.discard(sid)
                if not sids:
                    del self._by_login[login]

    def pop(self, login: str) -> set[str]:
        with self._lock:
            sids = self._by_login.pop(login, set())
            for sid in sids:
                del self._login_of[sid]
            return sids


# --8<-- [start:setup]
def create_app(policy: Policy) -> Flask:
    app = Flask(__name__)
    # The session on the server: the cookie holds only a random id (32 bytes), so a copy of
    # it taken before /logout opens nothing after it. SimpleCache is this process's memory;
    # a real deployment names a shared store (SESSION_TYPE="redis", SESSION_REDIS=...).
    app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=SimpleCache(),
                      SESSION_COOKIE_SAMESITE="Lax",  # HttpOnly is Flask's default
                      PERMANENT_SESSION_LIFETIME=3600)  # an hour, as the other servers'
    Session(app)
    login_manager = LoginManager(app)
    # manage_session=False: Socket.IO handlers open the same server-side session as HTTP
    # routes (Flask-SocketIO's own advice with Flask-Login); its default copies it at connect.
    # cors_allowed_origins is left at its default: same origin only, on polling and WebSocket
    socketio = SocketIO(app, async_mode="threading", manage_session=False)
    policy_loop = app.extensions["policy_loop"] = PolicyLoop()
    live = LiveConnections()

    @login_manager.user_loader
    def load_user(user_id: str) -> Member | None:
        user = policy.users.get(user_id)
        return Member(user.name, user.role) if user else None
    # --8<-- [end:setup]

    # --8<-- [start:login]
    @app.post("/login")
    def login():
        origin = request.headers.get("Origin")
        if origin is not None and origin != request.host_url.rstrip("/"):
            return {"error": "foreign_origin"}, 403  # another site may not log the user in
        fields = request.get_json(silent=True)
        if not isinstance(fields, dict):
            fields = request.form
        verdict = policy_loop.run(policy.login(fields.get("username"), fields.get("password"),
                                               client=request.remote_addr or ""))
        if isinstance(verdict, Refusal):
            return {"error": verdict.code}, LOGIN_REFUSAL_STATUS.get(verdict.code, 401)
        app.session_interface.regenerate(session)  # a new id for a new login (fixation)
        login_user(Member(verdict.user, verdict.role))
        return {"user": verdict.user, "role": verdict.role}

    @app.post("/logout")
    def logout():
        login = session.sid
        logout_user()
        session.clear()  # empty: Flask-Session deletes it from the store, and the cookie
        for sid in live.pop(login):  # this login's live connections end with it
            disconnect(sid, namespace="/")
        return "", 204
    # --8<-- [end:login]

    # --8<-- [start:connect]
    @socketio.on("connect")
    def connect(auth):
        """Flask-Login has loaded ``current_user`` from the handshake's session cookie."""
        if not current_user.is_authenticated:
            has_cookie = app.session_interface.get_cookie_name(app) in request.cookies
            code = "invalid_session" if has_cookie else "missing_credentials"
            raise ConnectionRefusedError(REFUSALS[code], {"code": code})
        live.add(session.sid, request.sid)
        emit("welcome", {"user": current_user.id, "role": current_user.role,
                         "server": SERVER})

    @socketio.on("disconnect")
    def forget(reason):
        live.discard(request.sid)
    # --8<-- [end:connect]

    return app


if __name__ == "__main__":
    args = command_line("Flask-Login in Flask-SocketIO", default_port=8098)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # request lines: see flask_app
    app = create_app(real_policy())
    app.extensions["socketio"].run(app, host=args.host, port=args.port,
                                   allow_unsafe_werkzeug=True)
