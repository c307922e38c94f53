"""Pure-ASGI middleware: NUL bytes in the path or query (400), a whole-body receive deadline
(slowloris -> 408), request metrics and access log lines with route templates only (no query
strings, no bodies), security headers."""
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
        qs = scope.get("query_string", b"") or b""
        if "\x00" in scope.get("path", "") or b"%00" in (scope.get("raw_path") or b"") or \
                b"\x00" in qs or b"%00" in qs:
            # before any route or query: PostgreSQL rejects NUL in text (an error, not an answer)
            return await _reply(send, 400, "nul_byte", "请求地址或参数中含有非法字符（NUL）。")
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    return await _reply(send, 400, "bad_content_length", "Content-Length 不正确。")
                if declared > self.max_body or declared < 0:
                    return await _reply(send, 413, "body_too_large", self._too_large(), _page(scope))
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
                    raise _Abort(413, "body_too_large", self._too_large())
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
                await _reply(send, exc.status, exc.code, exc.message, _page(scope))
        except Exception as exc:
            # an app layer may wrap our abort (e.g. the multipart parser); unwrap it
            inner = exc.__cause__ or exc.__context__
            if isinstance(inner, _Abort) and not started:
                await _reply(send, inner.status, inner.code, inner.message, _page(scope))
            else:
                raise

    def _too_large(self) -> str:
        return f"请求体超过大小上限（{size_zh(self.max_body)}）。"


def size_zh(n: int) -> str:
    return f"{n / (1 << 20):.0f} MiB" if n >= 1 << 20 else f"{max(1, n >> 10)} KiB"


class _Abort(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


def _page(scope) -> bool:
    """A browser posting a page's form (not the API): the answer is a page, not JSON."""
    if scope.get("path", "").startswith("/api/"):
        return False
    accept = next((v for k, v in scope.get("headers", []) if k == b"accept"), b"")
    return b"text/html" in accept


PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>无法提交</title>
<link rel="stylesheet" href="/static/app.css"></head><body><main class="wrap"><section class="card">
<h1>无法提交</h1><p class="flash err" role="alert" id="error-message">✗ {msg}</p>
<p>请压缩或拆分文件后重新提交。</p><p><a href="/new" id="back">重新提交申请</a> · <a href="/me">我的申请</a></p>
</section></main></body></html>"""


async def _reply(send, status: int, code: str, message: str, page: bool = False) -> None:
    if page:
        from html import escape
        payload = PAGE.format(msg=escape(message)).encode()
        ctype = b"text/html; charset=utf-8"
    else:
        payload = json.dumps(err_body(code, message), ensure_ascii=False).encode()
        ctype = b"application/json"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype), (b"connection", b"close"),
                            (b"content-security-policy", b"default-src 'none'; style-src 'self'"),
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
