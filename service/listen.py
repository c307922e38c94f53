"""One listening socket per server process (SO_REUSEPORT), so the kernel spreads new connections
over the processes of `baomi serve --http-workers N`.

uvicorn's workers share the parent's one listening socket, and whichever worker's event loop wakes
first accepts every connection waiting in the queue: 50 keep-alive clients connecting at once all
landed on one process (measured: 99 % of the server's CPU in one of two processes), which then
served them on one core while the other idled. Here each worker opens its own socket bound to the
same address with SO_REUSEPORT, and the kernel hashes each new connection to one of the listening
sockets (balanced on average; 50 connections split about 25 ± 4).

The hook is the socket list uvicorn hands to each worker process (pickled into the spawned child):
`PerProcessListener` pickles into a fresh SO_REUSEPORT socket, bound in the child (uvicorn then
listens on it). The parent keeps one bound socket that never listens: it holds the address for the
group, so no other program can take the port between worker restarts, and gets no connections."""
from __future__ import annotations

import contextlib
import os
import socket
import time


def reuseport_socket(family: int, addr: tuple) -> socket.socket:
    """A TCP socket bound to `addr` with SO_REUSEADDR and SO_REUSEPORT (not yet listening)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(addr)
    except BaseException:
        sock.close()
        raise
    return sock


class PerProcessListener:
    """Stands in for the listening socket in uvicorn's worker list: unpickled in a worker process,
    it is that worker's own SO_REUSEPORT socket on the same address."""

    def __init__(self, family: int, addr: tuple):
        self.family, self.addr = family, addr

    def __reduce__(self):
        return reuseport_socket, (self.family, self.addr)


def per_process_listener(host: str, port: int) -> tuple[socket.socket, PerProcessListener]:
    """-> (the parent's bound, never listening socket that holds the address; the stand-in to pass
    to the workers)."""
    family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    hold = reuseport_socket(family, addr)
    return hold, PerProcessListener(family, hold.getsockname())


# -- evening out what the hash left uneven -----------------------------------------------------------
CENSUS_ENV = "BAOMI_HTTP_CENSUS"        # the census directory, set by `baomi serve` for its processes


class ConnectionCensus:
    """How many connections each HTTP process holds, shared through one small file per process
    (`<data dir>/run/http-conns/<pid>`, 4 bytes, rewritten in place when the count changes).

    The kernel's hash splits 50 keep-alive clients unevenly now and then (34 / 17 measured), and a
    keep-alive client stays where it landed: the fuller process answers every one of its clients
    more slowly. A process that holds more than one connection above the emptiest live process
    answers its next request with `Connection: close` (service.httpproto); that client's next
    connection is hashed anew, so the shares even out within a few requests, and no request is
    refused or cut (a close after a complete response is plain HTTP/1.1)."""

    READ_EVERY_S = 0.25

    def __init__(self, directory: str):
        self.dir = directory
        self.pid = os.getpid()
        self._fd = os.open(os.path.join(directory, str(self.pid)), os.O_RDWR | os.O_CREAT, 0o600)
        self._published = -1
        self._others: list[int] = []
        self._read_at = 0.0

    def publish(self, n: int) -> None:
        if n != self._published:
            os.pwrite(self._fd, n.to_bytes(4, "little"), 0)
            self._published = n

    def others(self) -> list[int]:
        """The connection counts of the other live processes (read at most every READ_EVERY_S)."""
        t = time.monotonic()
        if t - self._read_at >= self.READ_EVERY_S:
            self._read_at, out = t, []
            for name in os.listdir(self.dir):
                if not name.isdigit() or int(name) == self.pid:
                    continue
                try:
                    os.kill(int(name), 0)
                except ProcessLookupError:      # a process that died: its file goes
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(self.dir, name))
                    continue
                except PermissionError:
                    pass
                try:
                    with open(os.path.join(self.dir, name), "rb") as fh:
                        out.append(int.from_bytes(fh.read(4).ljust(4, b"\0"), "little"))
                except OSError:
                    continue
            self._others = out
        return self._others

    def should_shed(self, mine: int) -> bool:
        """True when this process holds more than one connection above the emptiest other one."""
        others = self.others()
        return bool(others) and mine > min(others) + 1


def census_dir(data_dir) -> str:
    """A fresh census directory for a starting `baomi serve` (the files of an earlier run removed)."""
    d = os.path.join(str(data_dir), "run", "http-conns")
    os.makedirs(d, mode=0o700, exist_ok=True)
    for name in os.listdir(d):
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(d, name))
    return d
