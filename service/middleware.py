"""Pure-ASGI middleware: a whole-body receive deadline (slowloris -> 408), request metrics and
access log lines with route templates only (no query strings, no bodies), security headers."""
from __future__ import annotations

import asyncio
import json
import logging
import time

from .errors import body as err_body

log = logging.getLogger("baomi.access")


class BodyGuardMiddleware:
    """Request body cap and receive deadline for every route.

    413 when Content-Length declares more than the cap (before reading), or when streamed
    (chunked) bytes pass it; 408 when the whole body has not arrived within the deadline
    (slowloris). Both answer with the service's JSON error shape and close the connection.
    """

    def __init__(self, app, max_body: int, timeout_s: float):
        self.app, self.max_body, self.timeout_s = app, max_body, timeout_s

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    return await _reply(send, 400, "bad_content_length", "Content-Length 不正确。")
                if declared > self.max_body or declared < 0:
                    return await _reply(send, 413, "body_too_large", "请求体超过大小上限。")
        deadline = time.monotonic() + self.timeout_s
        started = False
        seen = 0

        async def guarded_receive():
            nonlocal seen
            remaining = deadline - time.monotonic()
            try:
                msg = await asyncio.wait_for(receive(), timeout=max(remaining, 0.001))
            except TimeoutError:
                raise _Abort(408, "request_timeout", "请求体接收超时。")
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_body:
                    raise _Abort(413, "body_too_large", "请求体超过大小上限。")
            return msg

        async def tracking_send(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, guarded_receive, tracking_send)
        except _Abort as exc:
            if not started:
                await _reply(send, exc.status, exc.code, exc.message)
        except Exception as exc:
            # an app layer may wrap our abort (e.g. the multipart parser); unwrap it
            inner = exc.__cause__ or exc.__context__
            if isinstance(inner, _Abort) and not started:
                await _reply(send, inner.status, inner.code, inner.message)
            else:
                raise


class _Abort(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


async def _reply(send, status: int, code: str, message: str) -> None:
    payload = json.dumps(err_body(code, message), ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


class ObserveMiddleware:
    def __init__(self, app, metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = [500]

        async def wrapped(msg):
            if msg["type"] == "http.response.start":
                status[0] = msg["status"]
                headers = list(msg.get("headers", []))
                names = {h[0].lower() for h in headers}
                for k, v in ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                             (b"referrer-policy", b"same-origin"), (b"cache-control", b"no-store")):
                    if k not in names:
                        headers.append((k, v))
                msg = {**msg, "headers": headers}
            await send(msg)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "<unmatched>"
            dt = time.perf_counter() - t0
            self.metrics.inc("baomi_http_requests_total", route=path, method=scope["method"], status=str(status[0]))
            self.metrics.observe("baomi_http_request_seconds", dt, route=path)
            log.info("%s %s %d %.1fms", scope["method"], path, status[0], dt * 1000)
