"""mkdocs hook: a site that links out, and tables that read.

- Every issue reference in the text (``socket.io#1487, #1644``, ``socket.io PR #1023``,
  ``socket.io-client#506``, ``socketio-jwt#38``, ``passport.socketio PR #76``,
  ``python-socketio#1495``) becomes a link to that GitHub issue or pull request, on every page,
  generated tables included. Text in code and in existing links is left alone.
- Each page ends with the official Socket.IO and python-socketio documentation it builds on
  (``OFFICIAL_DOCS`` below: one place to keep them).
- Code in tables breaks only after ``_ - . / : ,``, never in the middle of a word (the
  stylesheet turns off the theme's break-anywhere for table code).
"""

import re

REPOS = {  # as the docs write them -> GitHub owner/name
    "socket.io-client": "socketio/socket.io-client",
    "socket.io": "socketio/socket.io",
    "socketio-jwt": "auth0-community/auth0-socketio-jwt",  # was auth0/socketio-jwt
    "passport.socketio": "jfromaniello/passport.socketio",
    "python-socketio": "miguelgrinberg/python-socketio",
}
REFERENCE = re.compile(
    r"(?<![\w./-])(?P<repo>" + "|".join(re.escape(name) for name in REPOS) + r")"
    r"(?P<first>(?: PR)? ?#\d+)(?P<more>(?:,? (?:and )?(?:PR )?#\d+)*)")
NUMBER = re.compile(r"(?P<pr>PR )?#(?P<number>\d+)")
SKIP_INSIDE = ("a", "code", "pre", "script", "style")
TAG = re.compile(r"(<[^>]+>)")

SOCKET_IO = "https://socket.io/docs/v4"
PYTHON_SOCKETIO = "https://python-socketio.readthedocs.io/en/latest"
MIGRATING_FROM_09 = ("Socket.IO: Migrating from 0.9 (authentication differences)",
                     "https://socket.io/docs/v2/migrating-from-0-9/#authentication-differences")
MIDDLEWARES = ("Socket.IO: Middlewares", f"{SOCKET_IO}/middlewares/")
HANDSHAKE = ("Socket.IO: the server Socket, `socket.handshake`",
             f"{SOCKET_IO}/server-socket-instance/#sockethandshake")
SOCKET_DATA = ("Socket.IO: `socket.data`", f"{SOCKET_IO}/server-socket-instance/#socketdata")
CLIENT_OPTIONS = ("Socket.IO: client options (`auth`, `query`, `extraHeaders`, "
                  "`withCredentials`)", f"{SOCKET_IO}/client-options/")
CLIENT_SOCKET = ("Socket.IO: the client Socket (`connect_error`, `socket.active`)",
                 f"{SOCKET_IO}/client-socket-instance/")
NAMESPACES = ("Socket.IO: Namespaces", f"{SOCKET_IO}/namespaces/")
CORS = ("Socket.IO: Handling CORS", f"{SOCKET_IO}/handling-cors/")
SERVER_OPTIONS = ("Socket.IO: server options (`allowRequest`, `connectTimeout`)",
                  f"{SOCKET_IO}/server-options/")
PROTOCOL = ("Socket.IO: the Socket.IO protocol (CONNECT, CONNECT_ERROR)",
            f"{SOCKET_IO}/socket-io-protocol/")
ENGINE_PROTOCOL = ("Socket.IO: the Engine.IO protocol (the HTTP handshake)",
                   f"{SOCKET_IO}/engine-io-protocol/")
MIGRATING_TO_3 = ("Socket.IO: Migrating from 2.x to 3.0", f"{SOCKET_IO}/migrating-from-2-x-to-3-0/")
MULTIPLE_NODES = ("Socket.IO: Using multiple nodes", f"{SOCKET_IO}/using-multiple-nodes/")
PERFORMANCE = ("Socket.IO: Performance tuning", f"{SOCKET_IO}/performance-tuning/")
PY_SERVER = ("python-socketio: the server (connect handlers, `environ`, `auth`)",
             f"{PYTHON_SOCKETIO}/server.html")
PY_CLIENT = ("python-socketio: the client", f"{PYTHON_SOCKETIO}/client.html")
PY_API = ("python-socketio: API reference", f"{PYTHON_SOCKETIO}/api.html")
FLASK_SOCKETIO = ("Flask-SocketIO: Getting started (connection events)",
                  "https://flask-socketio.readthedocs.io/en/latest/getting_started.html")

OFFICIAL_DOCS = {  # page -> the official documentation it builds on
    "index.md": [MIGRATING_FROM_09, MIDDLEWARES, PY_SERVER],
    "original-thread.md": [MIGRATING_FROM_09, MIDDLEWARES, CLIENT_OPTIONS],
    "tutorial/legacy.md": [MIGRATING_FROM_09, ENGINE_PROTOCOL, PY_SERVER],
    "tutorial/middleware.md": [MIDDLEWARES, HANDSHAKE, SOCKET_DATA, NAMESPACES, PY_SERVER],
    "tutorial/client.md": [CLIENT_OPTIONS, CLIENT_SOCKET, CORS, PY_CLIENT],
    "migration-guide.md": [MIGRATING_FROM_09, MIGRATING_TO_3, MIDDLEWARES, CLIENT_SOCKET, CORS,
                           PY_SERVER],
    "reference/handshake.md": [HANDSHAKE, ENGINE_PROTOCOL, PY_SERVER],
    "reference/carriers.md": [CLIENT_OPTIONS, MIDDLEWARES, PY_CLIENT],
    "reference/parity.md": [PROTOCOL, ENGINE_PROTOCOL, PY_CLIENT],
    "reference/behaviours.md": [MIDDLEWARES, PROTOCOL, MIGRATING_FROM_09, PY_SERVER],
    "reference/fidelity.md": [MIGRATING_FROM_09, MIDDLEWARES, PROTOCOL, PY_SERVER],
    "reference/security.md": [CORS, SERVER_OPTIONS, MIDDLEWARES, PY_SERVER],
    "reference/performance.md": [PERFORMANCE, PY_SERVER],
    "reference/scaling.md": [MULTIPLE_NODES, PY_SERVER],
    "native.md": [PY_SERVER, PY_API, FLASK_SOCKETIO, MIDDLEWARES],
    "nodejs.md": [MIDDLEWARES, SERVER_OPTIONS, CORS, CLIENT_OPTIONS, CLIENT_SOCKET],
    "faq.md": [MIGRATING_FROM_09, MIDDLEWARES, CLIENT_OPTIONS, CLIENT_SOCKET, PY_SERVER],
}
DEFAULT_DOCS = [MIDDLEWARES, MIGRATING_FROM_09, PY_SERVER, PY_API]  # a page not listed yet


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    docs = OFFICIAL_DOCS.get(page.file.src_uri, DEFAULT_DOCS)
    links = "\n".join(f"    - [{title}]({url})" for title, url in docs)
    return (f"{markdown.rstrip()}\n\n"
            f"!!! info \"The official documentation this page builds on\"\n\n{links}\n")


def on_page_content(html: str, page, config, files, **kwargs) -> str:
    return break_table_code(link_references(html))


def link_references(html: str) -> str:
    """Issue references in text outside ``a``, ``code`` and ``pre`` become links."""
    out, inside = [], []
    for part in TAG.split(html):
        if part.startswith("<"):
            name = re.match(r"</?([a-zA-Z0-9]+)", part)
            if name and name.group(1).lower() in SKIP_INSIDE and not part.endswith("/>"):
                if part.startswith("</"):
                    if inside and inside[-1] == name.group(1).lower():
                        inside.pop()
                else:
                    inside.append(name.group(1).lower())
            out.append(part)
        elif inside:
            out.append(part)
        else:
            out.append(REFERENCE.sub(reference_links, part))
    return "".join(out)


def reference_links(match: re.Match) -> str:
    repo = REPOS[match["repo"]]

    def href(found: re.Match) -> str:
        kind = "pull" if found["pr"] else "issues"
        return f"https://github.com/{repo}/{kind}/{found['number']}"

    def link(found: re.Match, text: str | None = None) -> str:
        return f'<a href="{href(found)}" class="issue-link">{text or found.group(0)}</a>'

    first = NUMBER.search(match["first"])  # the link's text is "socket.io#1487" entire
    return (link(first, match["repo"] + match["first"])
            + NUMBER.sub(link, match["more"]))


TABLE = re.compile(r"<table>.*?</table>", re.S)
CODE = re.compile(r"(<code[^>]*>)(.*?)(</code>)", re.S)
BREAK_AFTER = re.compile(r"([_\-/:,]|\.(?!\d))(?=[^\s<])")  # after _ - / : , and . (not in 0.9)


def break_table_code(html: str) -> str:
    def in_code(match: re.Match) -> str:
        text = "".join(part if part.startswith("<") else BREAK_AFTER.sub(r"\1<wbr>", part)
                       for part in TAG.split(match.group(2)))
        return f"{match.group(1)}{text}{match.group(3)}"

    return TABLE.sub(lambda table: CODE.sub(in_code, table.group(0)), html)
