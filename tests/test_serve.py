"""``kb serve`` as operators run it: gunicorn's own errors in the API's shape, bodies too large or
too deep, and two servers on one machine that keep to their own data folders."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, web_config

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``kb serve`` over a small indexed world, with a home folder of its own."""

    def __init__(self, root: Path) -> None:
        config = web_config(root)
        self.port = free_port()
        self.home = root / "home"
        self.home.mkdir()
        self.data_dir = Path(config["data_dir"])
        env = {**os.environ, "HOME": str(self.home), "KB_HOST": "127.0.0.1", "KB_PORT": str(self.port),
               "KB_WORKERS": "1", "KB_THREADS": "4", "KB_MODEL": "hashing", "KB_DATA_DIR": config["data_dir"],
               "KB_CONTENT_DIR": config["content_dir"]}
        env.pop("XDG_RUNTIME_DIR", None)
        env.pop("KB_DATABASE_URL", None)
        self.log = open(root / "serve.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([sys.executable, "-m", "indexer.cli", "serve"], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while self.request("GET", "/api/health")[0] != 200:
            assert self.process.poll() is None, (root / "serve.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.getheader("Content-Type") or "", response.read()
        except OSError:
            return 0, "", b""
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture
def servers(tmp_path):
    started = [Server(tmp_path / "one"), Server(tmp_path / "two")]
    yield started
    for server in started:
        server.stop()


def test_two_servers_keep_to_their_data_folders_and_answer_in_the_apis_shape(servers):
    one, two = servers
    assert json.loads(one.request("GET", "/api/health")[2])["ready"]  # warm before its first answer
    for server in servers:
        assert (server.data_dir / "gunicorn.ctl").is_socket()
        assert not any(server.home.iterdir())  # nothing in the home folder: no ~/.gunicorn
    two.stop()
    assert (one.data_dir / "gunicorn.ctl").is_socket()  # stopping one leaves the other's socket
    assert one.request("GET", "/api/health")[0] == 200

    status, kind, body = one.request("GET", "/api/search?q=" + "x" * 5000)
    assert (status, kind) == (414, "application/json") and json.loads(body)["error"]["code"] == "uri_too_long"
    status, kind, body = one.request("GET", "/api/health", headers={"X-Padding": "y" * 9000})
    assert (status, kind) == (431, "application/json")
    assert json.loads(body)["error"]["code"] == "headers_too_large"

    deep = b"[" * 10000 + b"]" * 10000
    status, _, body = one.request("POST", "/api/notes", deep, {"Content-Type": "application/json"})
    assert status == 400 and b"too deeply" in body
    assert one.request("GET", "/api/health")[0] == 200


def test_an_oversize_body_sent_in_chunks_is_413_not_invalid_json(servers):
    one = servers[0]
    connection = http.client.HTTPConnection("127.0.0.1", one.port, timeout=30)
    chunk = b'{"body": "' + b"x" * 65536
    connection.putrequest("POST", "/api/notes")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    try:
        for _ in range(16):  # 1 MB
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        connection.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server may answer and close before the whole body is sent
    response = connection.getresponse()
    answer = response.read()
    assert response.status == 413, answer
    connection.close()


def test_clients_that_trickle_their_requests_stall_nothing(servers):
    """Twenty connections send headers or a body a few bytes at a time (past the server's four
    threads); health and a new search still answer, while the trickles go on."""
    import threading

    one = servers[0]
    stop = threading.Event()
    heads = [b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"] * 10
    bodies = [b"POST /api/notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 400\r\n\r\n" + b"{" * 400] * 10
    opened: list[socket.socket] = []

    def trickle(request: bytes) -> None:
        connection = socket.create_connection(("127.0.0.1", one.port), timeout=60)
        opened.append(connection)
        start = request.index(b"X-Slow") if b"X-Slow" in request else request.index(b"\r\n\r\n") + 4
        connection.sendall(request[:start])
        for position in range(start, len(request)):
            if stop.wait(0.5):
                return
            connection.sendall(request[position:position + 1])

    threads = [threading.Thread(target=trickle, args=(request,), daemon=True) for request in heads + bodies]
    for thread in threads:
        thread.start()
    time.sleep(2)  # every trickle is connected and sending
    try:
        assert one.request("GET", "/api/health")[0] == 200
        assert one.request("GET", "/api/search?q=onboarding+buddy+trickle")[0] == 200
    finally:
        stop.set()
        for connection in opened:
            connection.close()


def test_a_request_is_whole_when_its_head_and_body_are_in():
    from web.server import request_complete

    head = b"POST /api/notes HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
    assert not request_complete(b"GET / HTTP/1.1\r\nHost: x\r\n")
    assert request_complete(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert not request_complete(head + b"abc") and request_complete(head + b"abcde")
    chunked = b"POST /api/notes HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
    assert not request_complete(chunked) and request_complete(chunked + b"0\r\n\r\n")
    assert request_complete(b"POST /api/notes HTTP/1.1\r\nContent-Length: 9999999\r\n\r\n")  # the app says 413
    assert request_complete(b"POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
