"""Slow and idle clients (issue 13, red-team R7) against a real `baomi serve`: a connection that
sends nothing, one that dribbles an unfinished request head, and an idle keep-alive connection
are all closed by the server; a client that is quick is served meanwhile."""
from __future__ import annotations

import socket
import time

import httpx

from support.server import Server

ENV = dict(baomi_light_scanner="1", baomi_isolated="false", baomi_workers="0", baomi_argon2_fast="1",
           baomi_header_timeout_s="2", baomi_keepalive_s="2")
BOUND = 30.0       # safety bound of each wait: the assertion is "closed by the server", not a duration


def _closed_by_server(s: socket.socket, dribble: bytes = b"") -> bool:
    """Read until the server closes (recv -> b"" or a reset), sending `dribble` a byte at a time."""
    s.settimeout(0.5)
    t0, i = time.time(), 0
    while time.time() - t0 < BOUND:
        if i < len(dribble):
            try:
                s.sendall(dribble[i:i + 1])
            except OSError:
                return True
            i += 1
        try:
            if s.recv(4096) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def test_r7_silent_dribbling_and_idle_connections_are_closed(tmp_path):
    srv = Server(tmp_path / "data", **ENV).start()
    try:
        silent = socket.create_connection(("127.0.0.1", srv.port))
        slow = socket.create_connection(("127.0.0.1", srv.port))
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        assert httpx.get(srv.url + "/healthz", timeout=10).status_code == 200     # others are served
        assert _closed_by_server(silent)
        assert _closed_by_server(slow, b"X-a: " + b"b" * 200)   # one byte every 0.5 s: never a full head
        idle = socket.create_connection(("127.0.0.1", srv.port))
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        idle.settimeout(10)
        assert idle.recv(4096).startswith(b"HTTP/1.1 200")
        assert _closed_by_server(idle)                          # idle keep-alive after the answer
        # a keep-alive client that sends its next request in time is served again
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            assert [c.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
    finally:
        srv.stop()
