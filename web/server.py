"""gunicorn as ``kb serve`` runs it: its worker, and the options that keep its state in the data folder.

A request line or a header over gunicorn's limits never reaches Flask; gunicorn answers it
itself, as HTML. This worker answers those two in the API's JSON error shape instead (by then the
path may not even be known, so it does so for every path).
"""

from __future__ import annotations

import json
from pathlib import Path

from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

SOCKET_PATH_MAX = 100  # bytes: a Unix socket's path must fit in sun_path (108 on Linux, 104 elsewhere)
TOO_LARGE = {
    LimitRequestLine: (414, "URI Too Long", "uri_too_long",
                       "the address is too long (at most 4094 bytes): send fewer or shorter parameters"),
    LimitRequestHeaders: (431, "Request Header Fields Too Large", "headers_too_large",
                          "a request header is too large, or there are too many (at most 8190 bytes each, 100 in all)"),
}


class Worker(ThreadWorker):
    """gunicorn's threaded worker, answering oversized request lines and headers as JSON."""

    def handle_error(self, req, client, addr, exc):
        for kind, (status, reason, code, message) in TOO_LARGE.items():
            if isinstance(exc, kind):
                body = json.dumps({"error": {"code": code, "message": message}}).encode()
                head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n").encode()
                self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
                try:
                    client.sendall(head + body)
                except OSError:
                    self.log.debug("Failed to send error message.")
                return
        super().handle_error(req, client, addr, exc)


def gunicorn_options(data_dir: Path) -> list[str]:
    """gunicorn's command-line options that keep its files under ``data_dir``: the control socket
    there (``gunicornc -s DATA_DIR/gunicorn.ctl``), or none when that path is too long for a socket;
    never the shared ``~/.gunicorn/gunicorn.ctl``, which a second server on the machine would take."""
    socket = Path(data_dir).resolve() / "gunicorn.ctl"
    if len(str(socket).encode()) > SOCKET_PATH_MAX:
        return ["--no-control-socket"]
    return ["--control-socket", str(socket)]
