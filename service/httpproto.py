"""Slow and idle clients at the protocol level (uvicorn's h11 protocol, subclassed).

uvicorn times out an idle keep-alive connection only after a response, and any byte received
cancels that timer; a connection that sends nothing, or dribbles an unfinished request head one
byte at a time, is never closed. Here every connection must deliver a complete request line and
headers within `header_timeout` seconds of being opened (and of its previous response): otherwise
the server closes it. The body has its own deadline (service.middleware.BodyGuardMiddleware, 408);
the number of open connections and tasks is bounded by uvicorn's limit_concurrency (503 beyond).
Settings: BAOMI_HEADER_TIMEOUT_S, BAOMI_KEEPALIVE_S, BAOMI_LIMIT_CONCURRENCY (service/README.md)."""
from __future__ import annotations

import asyncio
import os

import h11
from uvicorn.protocols.http.flow_control import CLOSE_HEADER
from uvicorn.protocols.http.h11_impl import H11Protocol

from .listen import CENSUS_ENV, ConnectionCensus

_census: ConnectionCensus | None = None
_closing = 0        # connections of this process told to close after their answer, not yet closed


def census() -> ConnectionCensus | None:
    """This process's connection census (service.listen), when `baomi serve` runs several processes."""
    global _census
    if _census is None and os.environ.get(CENSUS_ENV):
        _census = ConnectionCensus(os.environ[CENSUS_ENV])
    return _census


class GuardedH11Protocol(H11Protocol):
    # `baomi serve --http-workers N` names this class by import path: its processes read the deadline here
    header_timeout: float = float(os.environ.get("BAOMI_HEADER_TIMEOUT_S", "10"))

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()
        self._census = census()
        self._told_to_close = False
        if self._census is not None:
            self._census.publish(self._staying())

    def _staying(self) -> int:
        """This process's connections that stay (those told to close are leaving)."""
        return len(self.connections) - _closing

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timeout)

    def _head_timeout(self) -> None:
        self._head_timer = None
        # still waiting for (the rest of) a request head: give up on this client
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        global _closing
        if self.cycle is not cycle and self.cycle is not None and self._census is not None \
                and not self._told_to_close and self._census.should_shed(self._staying()):
            # more connections here than in the emptiest process: this answer closes the
            # connection (uvicorn adds `Connection: close` when the request asks for it; the
            # request's task has not run yet), and the client's next one is hashed anew. Counted
            # as leaving at once: the answer may be a queue's length away, and the connections
            # whose requests arrive meanwhile must not all be sent away too (they would all be
            # hashed anew, as unevenly as the first time)
            self._told_to_close = True
            _closing += 1
            self._census.publish(self._staying())
            if CLOSE_HEADER not in self.cycle.scope["headers"]:
                self.cycle.scope["headers"].append(CLOSE_HEADER)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE and self._head_timer is not None:
            self._head_timer.cancel()          # the head is complete: the body deadline takes over
            self._head_timer = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()             # the next request's head must come in time too

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "_head_timer", None) is not None:
            self._head_timer.cancel()
            self._head_timer = None
        global _closing
        super().connection_lost(exc)
        if getattr(self, "_told_to_close", False):
            self._told_to_close = False
            _closing -= 1
        if getattr(self, "_census", None) is not None:
            self._census.publish(self._staying())


def protocol(header_timeout: float) -> type[GuardedH11Protocol]:
    """The protocol class for uvicorn.run(http=...), with this header deadline."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"header_timeout": float(header_timeout)})
