"""BAOMI_LIMIT_CONCURRENCY bounds the whole service, not each of its HTTP processes: uvicorn counts
connections and tasks per process, so `baomi serve` gives each process its share
(Settings.limit_per_process). A real server with two processes and a limit of 6 never holds more
than 6 connections being served; with the limit applied per process it held up to 2 × 5."""
from __future__ import annotations

import socket
import time

from support.server import Server

from service.settings import Settings

ENV = dict(baomi_light_scanner="1", baomi_isolated="false", baomi_workers="0", baomi_argon2_fast="1",
           baomi_keepalive_s="60", baomi_header_timeout_s="60")


def test_the_limit_is_shared_out_over_the_processes(tmp_path):
    assert Settings(data_dir=tmp_path, http_workers=1, limit_concurrency=200).limit_per_process == 200
    assert Settings(data_dir=tmp_path, http_workers=2, limit_concurrency=200).limit_per_process == 100
    assert Settings(data_dir=tmp_path, http_workers=3, limit_concurrency=200).limit_per_process == 66
    # uvicorn counts the asking connection itself: a share below 2 would refuse everything
    assert Settings(data_dir=tmp_path, http_workers=4, limit_concurrency=4).limit_per_process == 2


def _held_answers(port: int, n: int) -> tuple[list[socket.socket], int, int, int]:
    """Open `n` keep-alive connections one after the other, one request each, and keep the ones
    served open: -> (served connections held, how many, refused with 503, served and released).
    A process holding more connections than the other answers `Connection: close` (service.listen's
    census evens them out): that connection is served but not held, so it does not count."""
    kept, refused, released = [], 0, 0
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port), timeout=30)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        head = c.recv(4096)
        if head.startswith(b"HTTP/1.1 200"):
            if b"connection: close" in head.lower():
                released += 1
                c.close()
            else:
                kept.append(c)
        else:
            assert head.startswith(b"HTTP/1.1 503"), head[:40]
            refused += 1
            c.close()
    return kept, len(kept), refused, released


def test_two_processes_hold_no_more_than_the_limit_together(tmp_path):
    srv = Server(tmp_path / "data", baomi_http_workers="2", baomi_limit_concurrency="6", **ENV).start()
    try:
        time.sleep(2.0)                 # both processes listening (the first answers /healthz alone)
        kept, served, refused, released = _held_answers(srv.port, 24)
        try:
            # each process admits 3 (uvicorn serves fewer than its limit at once: 2 each held)
            assert 2 <= served <= 4 and served + refused + released == 24, (served, refused, released)
        finally:
            for c in kept:
                c.close()
        time.sleep(0.5)
        again, served2, _, freed = _held_answers(srv.port, 2)     # freed: served again
        served2 += freed
        for c in again:
            c.close()
        assert served2 >= 1
    finally:
        srv.stop()
