"""/healthz, /metrics, and the API docs served from local assets (no CDN)."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy import func, select, text

from scanner.config import Isolation

from ..deps import State
from ..models import Job
from ..schemas import HealthOut

router = APIRouter(tags=["ops 运维"])


@router.get("/healthz", summary="健康检查 / health", responses={200: {"model": HealthOut}},
            description="数据库可用、工作线程存活、队列深度。\n\nDatabase reachable, workers alive, queue depth.")
def healthz(st: State):
    with st.db.read() as s:
        s.execute(text("SELECT 1"))
        depth = dict(s.execute(select(Job.status, func.count()).where(
            Job.status.in_(("queued", "running"))).group_by(Job.status)).all())
    workers = sum(1 for t in st.workers if t.is_alive())
    return {"status": "ok", "db": "sqlite" if st.db.is_sqlite else "postgresql",
            "workers": workers, "queued": depth.get("queued", 0), "running": depth.get("running", 0),
            "isolated_extraction": st.isolation is not Isolation.OFF}


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus 指标 / metrics",
            description="Prometheus 文本格式。\n\nPrometheus text exposition format.")
def metrics(st: State):
    with st.db.read() as s:
        depth = dict(s.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    gauges = {f"baomi_jobs_{k}": (f"jobs currently {k}", float(depth.get(k, 0))) for k in ("queued", "running")}
    return PlainTextResponse(st.metrics.render(gauges), media_type="text/plain; version=0.0.4")


DOCS_HTML = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>Baomi API 文档</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:1.5em auto;padding:0 1em;color:#111}
.op{border:1px solid #ccc;border-radius:4px;margin:.6em 0;padding:.5em .8em}.m{font-weight:bold;display:inline-block;min-width:4.5em}
.d{white-space:pre-wrap;color:#333;margin:.3em 0}code{background:#f4f4f4;padding:0 .2em}h2{border-bottom:1px solid #ddd}</style>
</head><body><h1>Baomi 保密审查服务 API</h1>
<p>机器可读的定义：<a href="/openapi.json">/openapi.json</a>。本页只使用本地资源，不从外部加载任何内容。</p>
<div id="ops">加载中…</div>
<script src="/api-docs.js"></script></body></html>"""

DOCS_JS = """(function(){
fetch('/openapi.json').then(function(r){return r.json()}).then(function(spec){
  var root=document.getElementById('ops'); root.textContent='';
  var byTag={};
  Object.keys(spec.paths).forEach(function(p){Object.keys(spec.paths[p]).forEach(function(m){
    var op=spec.paths[p][m]; var tag=(op.tags||['other'])[0]; (byTag[tag]=byTag[tag]||[]).push([m,p,op]);});});
  Object.keys(byTag).forEach(function(tag){
    var h=document.createElement('h2'); h.textContent=tag; root.appendChild(h);
    byTag[tag].forEach(function(x){
      var d=document.createElement('div'); d.className='op';
      var m=document.createElement('span'); m.className='m'; m.textContent=x[0].toUpperCase(); d.appendChild(m);
      var c=document.createElement('code'); c.textContent=x[1]; d.appendChild(c);
      var s=document.createElement('div'); s.textContent=x[2].summary||''; d.appendChild(s);
      var t=document.createElement('div'); t.className='d'; t.textContent=x[2].description||''; d.appendChild(t);
      root.appendChild(d);});});
});})();"""


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def docs():
    return HTMLResponse(DOCS_HTML, headers={"Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'"})


@router.get("/api-docs.js", include_in_schema=False)
def docs_js():
    return PlainTextResponse(DOCS_JS, media_type="application/javascript")
