"""Builds the FastAPI app. Nothing else happens here (FastAPI full-stack template rule)."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import errors
from .jobs import start_workers, startup_sweep, stop_workers
from .middleware import BodyGuardMiddleware, ObserveMiddleware
from .metrics import Metrics
from .routers import archive, auth, gate, health, records, review, scan, site, submissions
from .settings import Settings
from .site import start_site_runner, stop_site_runner
from .state import ServiceState
from .web import mount as mount_web

DESCRIPTION = """Baomi 保密审查服务：上网信息发布前的保密审查（申请 → 保密审查 → 修改 → 审批 → 发布），
供作者自查、CMS 发布前闸门、审查人与审批人使用。全部离线运行；日志与审计记录不含正文与匹配内容。

Offline confidentiality review before online publication: scan API, CMS gate, review workflow and a
hash-chained audit record. Errors: `{"error": {"code", "message"}}`; 401 = who are you, 403 = not allowed
(always with a code). Authentication: session cookie + `X-CSRF-Token` for pages, or
`Authorization: Bearer bm_…` API keys (never in the URL)."""


def create_app(settings: Settings | None = None, state: ServiceState | None = None,
               run_workers: bool = True) -> FastAPI:
    settings = settings or (state.settings if state else Settings())
    metrics = state.metrics if state else Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        st = state or ServiceState.build(settings)
        st.metrics = metrics
        app.state.svc = st
        startup_sweep(st)
        st.warm_scanner()
        if run_workers and settings.workers > 0:
            start_workers(st, settings.workers)
        if run_workers:
            start_site_runner(st)
        try:
            yield
        finally:
            stop_site_runner()
            stop_workers(st)
            if state is None:
                st.db.dispose()

    app = FastAPI(title="Baomi 保密审查 API", version="1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  # FastAPI's native OpenTelemetry off: nothing leaves the machine (not even when
                  # FASTAPI_OTEL_AUTO_CONFIGURE is set), and no provider checks on every request
                  telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False,
                             "auto_configure": False},
                  # backstop only: BodyGuardMiddleware answers first with the JSON error shape
                  max_body_size=2 * settings.max_body_bytes)
    errors.install(app)
    for r in (health.router, auth.router, scan.router, gate.router, submissions.router, review.router,
              records.router, site.router, archive.router):
        app.include_router(r)
    app.add_middleware(BodyGuardMiddleware, max_body=settings.max_body_bytes, timeout_s=settings.body_timeout_s)
    app.add_middleware(ObserveMiddleware, metrics=metrics)
    mount_web(app)
    return app
