"""The side-by-side page: one form, two panes, the 0.9 server and the 1.0+ server.

``python -m shared.webapp.side_by_side --port 8080 --legacy http://127.0.0.1:8081
--middleware http://127.0.0.1:8082``. The page is static: the browser talks to both servers
directly (cross-origin), with the same client.js as each server's own page.
"""

import aiohttp_jinja2
from aiohttp import web

from shared.webapp.app import add_static, setup_templates
from shared.webapp.cli import parse, run
from shared.webapp.protection import security_headers

PANES = web.AppKey("panes", list)
DESCRIPTION = "side-by-side page"


def create_app(*, legacy: str, middleware: str) -> web.Application:
    app = web.Application()
    app.on_response_prepare.append(security_headers([legacy, middleware]))
    app[PANES] = [
        {"name": "legacy", "server": legacy, "era": "0.9", "title": "0.9: global authorization"},
        {"name": "middleware", "server": middleware, "era": "1.0+", "title": "1.0+: middleware"},
    ]
    setup_templates(app)
    app.router.add_get("/", page)
    add_static(app)
    return app


async def page(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template(
        "side_by_side.html", request,
        {"panes": request.app[PANES], "static": "/static", "connect_label": "Connect both"},
    )


def main() -> None:
    def servers(parser):
        parser.add_argument("--legacy", default="http://127.0.0.1:8081")
        parser.add_argument("--middleware", default="http://127.0.0.1:8082")

    args = parse(DESCRIPTION, 8080, servers)
    run(create_app(legacy=args.legacy, middleware=args.middleware), args, DESCRIPTION)


if __name__ == "__main__":
    main()
