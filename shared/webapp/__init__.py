"""The demo web app both servers share: pages and static files (the browser client), the login
route, the command line, the access log, live sessions, and what may be shown of a handshake."""
