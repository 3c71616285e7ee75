"""The gunicorn worker ``kb serve`` runs.

It loads the model and the live index, and runs one search, before it accepts a request: the
first colleague after a start or a restart waits no longer than any other (the master holds the
listening socket meanwhile, so connections queue rather than fail).

A slow client cannot hold a thread: a new connection's request (its head, and a body up to
``MAX_BODY``) is read in the worker's event loop, as it trickles in, and only a complete request
goes to a thread. A connection that has not sent its request within ``REQUEST_SECONDS`` is
closed. (Gunicorn's own threaded worker hands a connection to a thread at its first byte; twenty
clients sending a byte a second then stall every thread.)

A request line or a header over gunicorn's limits never reaches Flask; gunicorn answers it
itself, as HTML. This worker answers those two in the API's JSON error shape instead (by then the
path may not even be known, so it does so for every path).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import selectors
import time

from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import TConn, ThreadWorker

from kb import KbError

TOO_LARGE = {
    LimitRequestLine: (414, "URI Too Long", "uri_too_long",
                       "the address is too long (at most 4094 bytes): send fewer or shorter parameters"),
    LimitRequestHeaders: (431, "Request Header Fields Too Large", "headers_too_large",
                          "a request header is too large, or there are too many (at most 8190 bytes each, 100 in all)"),
}


REQUEST_SECONDS = 30.0  # a new connection's whole request must arrive within this
MAX_HEAD = 8190 * 101  # beyond this the head is too large anyway: gunicorn's parser says 431
MAX_BODY = 256 * 1024 + 1  # the app's request limit: past it, the app answers 413 without reading on


def request_complete(buffer: bytes) -> bool:
    """Whether ``buffer`` holds a whole request (head, and its body when that is small enough to
    wait for), or so much that the parser must decide."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return len(buffer) > MAX_HEAD
    head, body = buffer[:end].lower(), buffer[end + 4:]
    if len(body) > MAX_BODY:
        return True
    fields = dict(line.partition(b":")[::2] for line in head.split(b"\r\n")[1:])
    fields = {name.strip(): value.strip() for name, value in fields.items()}
    if b"100-continue" in fields.get(b"expect", b""):
        return True  # the client waits for "100 Continue" before its body: gunicorn answers that
    for name, value in fields.items():
        if name == b"transfer-encoding" and b"chunked" in value:
            return body.endswith(b"0\r\n\r\n")
        if name == b"content-length":
            return not value.isdigit() or len(body) >= int(value) or int(value) > MAX_BODY
    return True


class Worker(ThreadWorker):
    """gunicorn's threaded worker, warm before it serves, reading each new request whole before a
    thread takes it, and answering oversized request lines and headers as JSON."""

    def init_process(self):
        self.arriving: dict[int, tuple] = {}  # socket fd -> (connection, bytes so far, deadline)
        super().init_process()

    def accept(self, listener):
        if self.cfg.is_ssl:  # the event loop would read encrypted bytes: gunicorn's own way then
            return super().accept(listener)
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client, address, listener.getsockname())  # non-blocking until a thread takes it
        self.arriving[client.fileno()] = (conn, bytearray(), time.monotonic() + REQUEST_SECONDS)
        self.poller.register(client, selectors.EVENT_READ, functools.partial(self.on_request_bytes, conn))

    def on_request_bytes(self, conn, client):
        arriving = self.arriving.get(client.fileno())
        if arriving is None:
            return
        buffer = arriving[1]
        try:
            data = client.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away before its request was whole
            self._drop(conn)
            return
        buffer += data
        if request_complete(bytes(buffer)):
            self.poller.unregister(client)
            del self.arriving[client.fileno()]
            conn.received = bytes(buffer)
            conn.data_ready = True
            self.enqueue_req(conn)

    def handle(self, conn):
        received = getattr(conn, "received", None)
        if received is not None:  # what the event loop read comes first, then the socket
            conn.received = None
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(received)
        return super().handle(conn)

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        for conn, _, deadline in list(self.arriving.values()):
            if now > deadline:
                self._drop(conn)

    def _drop(self, conn):
        self.arriving.pop(conn.sock.fileno(), None)
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()

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
