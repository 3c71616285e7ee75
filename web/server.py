"""The gunicorn worker ``kb serve`` runs.

It loads the model and the live index, and runs one search, before it accepts a request: the
first colleague after a start or a restart waits no longer than any other (the master holds the
listening socket meanwhile, so connections queue rather than fail).

A request line or a header over gunicorn's limits never reaches Flask; gunicorn answers it
itself, as HTML. This worker answers those two in the API's JSON error shape instead (by then the
path may not even be known, so it does so for every path).
"""

from __future__ import annotations

import json
import time

from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

from kb import KbError

TOO_LARGE = {
    LimitRequestLine: (414, "URI Too Long", "uri_too_long",
                       "the address is too long (at most 4094 bytes): send fewer or shorter parameters"),
    LimitRequestHeaders: (431, "Request Header Fields Too Large", "headers_too_large",
                          "a request header is too large, or there are too many (at most 8190 bytes each, 100 in all)"),
}


class Worker(ThreadWorker):
    """gunicorn's threaded worker, warm before it serves, answering oversized request lines and
    headers as JSON."""

    def load_wsgi(self):
        super().load_wsgi()
        started = time.perf_counter()
        knowledge = self.wsgi.extensions["kb"]
        try:
            knowledge.warm()
        except KbError as exc:  # nothing indexed yet, a store away: the app says so per request
            self.log.warning("worker %s serves without warming up: %s", self.pid, exc)
        else:
            self.log.info("worker %s warm in %.1f s", self.pid, time.perf_counter() - started)

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
