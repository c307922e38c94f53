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

import socket


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
