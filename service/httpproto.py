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
from uvicorn.protocols.http.h11_impl import H11Protocol


class GuardedH11Protocol(H11Protocol):
    # `baomi serve --http-workers N` names this class by import path: its processes read the deadline here
    header_timeout: float = float(os.environ.get("BAOMI_HEADER_TIMEOUT_S", "10"))

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timeout)

    def _head_timeout(self) -> None:
        self._head_timer = None
        # still waiting for (the rest of) a request head: give up on this client
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

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
        super().connection_lost(exc)


def protocol(header_timeout: float) -> type[GuardedH11Protocol]:
    """The protocol class for uvicorn.run(http=...), with this header deadline."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"header_timeout": float(header_timeout)})
