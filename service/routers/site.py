"""保密检查 over HTTP: targets (start URL, options, schedule), runs (start, progress, result), the
run's report as JSON, xlsx and HTML. The rules are service.site's; these handlers parse and answer."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from scanner.site.report import render_html, write_xlsx_report

from .. import audit, site
from ..deps import CurrentPrincipal, Requires, State
from ..errors import err

router = APIRouter(prefix="/api/v1/site", tags=["site 保密检查"])


class TargetIn(BaseModel):
    url: str = Field(description="起始网址 / start URL (http, https)")
    name: str = ""
    max_pages: int | None = None
    max_depth: int | None = None
    delay_s: float | None = None
    same_host: bool = False
    ignore_robots: bool = False
    allow_hosts: list[str] = Field(default_factory=list)
    schedule: Literal["off", "daily", "weekly"] = "off"
    at_time: str = "02:00"
    weekday: int = 0


class ScheduleIn(BaseModel):
    schedule: Literal["off", "daily", "weekly"]
    at_time: str = "02:00"
    weekday: int = 0


@router.post("/targets", status_code=201, summary="新建检查对象 / add a site to inspect",
             dependencies=[Requires("site.edit")],
             description="起始网址、抓取参数（页面数、深度、间隔、是否仅本主机、额外允许的主机、是否忽略 robots.txt）和检查计划。\n\n"
                         "Start URL, crawl options and schedule (off / daily / weekly at HH:MM, Beijing time UTC+8).")
def create_target(body: TargetIn, p: CurrentPrincipal, st: State):
    opts = body.model_dump(include={"max_pages", "max_depth", "delay_s", "same_host", "ignore_robots", "allow_hosts"})
    return site.create_target(st, p, body.url, body.name, opts, body.schedule, body.at_time, body.weekday)


@router.get("/targets", summary="检查对象列表 / sites", dependencies=[Requires("site.view")],
            description="全部检查对象，含检查计划、下次检查时间和最近一次检查。\n\nEvery site with its schedule, next run time and last run.")
def list_targets(p: CurrentPrincipal, st: State):
    return {"items": site.list_targets(st, p)}


@router.get("/targets/{target_id}", summary="检查对象与历次检查 / a site and its runs", dependencies=[Requires("site.view")],
            description="检查对象及最近 50 次检查（状态、进度、计数）。\n\nA site and its last 50 runs (status, progress, counts).")
def get_target(target_id: str, p: CurrentPrincipal, st: State):
    return site.get_target(st, p, target_id)


@router.put("/targets/{target_id}/schedule", summary="设置检查计划 / set the schedule", dependencies=[Requires("site.edit")],
            description="off（手动）、daily（每天 HH:MM）或 weekly（每周某天 HH:MM，0 = 周一），北京时间；返回下次检查时间。\n\n"
                        "off, daily at HH:MM or weekly on a weekday (0 = Monday) at HH:MM, Beijing time (UTC+8); answers with the next run time.")
def set_schedule(target_id: str, body: ScheduleIn, p: CurrentPrincipal, st: State):
    return site.set_schedule(st, p, target_id, body.schedule, body.at_time, body.weekday)


@router.post("/targets/{target_id}/runs", status_code=202, summary="开始检查 / start a run",
             dependencies=[Requires("site.run")],
             description="排队一次检查；与该网站上一次完成的检查对比，只报告新增或已变化的网址。\n\n"
                         "Queues a run; compared with the site's previous finished run (only new or changed URLs are reported).")
def start_run(target_id: str, p: CurrentPrincipal, st: State):
    return site.start_run(st, p, target_id)


@router.get("/runs/{run_id}", summary="检查进度与结果 / a run (progress, summary, report)",
            dependencies=[Requires("site.view")],
            description="状态（queued/running/done/failed）、进度、计数；完成后附报告（report=false 不附）。\n\n"
                        "Status, progress and counts; the report once done (unless report=false).")
def get_run(run_id: str, p: CurrentPrincipal, st: State, report: bool = True):
    return site.get_run(st, p, run_id, with_report=report)


def _report(st, p, run_id: str, fmt: str) -> dict:
    r = site.get_run(st, p, run_id, with_report=True)
    if "report" not in r:
        raise err(409, "site_run_not_done", "该次检查尚未完成。", status=r["status"])
    with st.db.write() as s:
        audit.append(s, p.actor, "site.report_exported", "site_run", run_id, after={"format": fmt})
    return r["report"]


@router.get("/runs/{run_id}/report.xlsx", summary="检查报告 xlsx / report as xlsx", dependencies=[Requires("site.view")],
            description="工作表：检查结果、发现明细、未检查、已消失、概况。\n\nSheets: results, findings, not inspected, gone, overview.",
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
async def report_xlsx(run_id: str, p: CurrentPrincipal, st: State):
    doc = await run_in_threadpool(_report, st, p, run_id, "xlsx")
    with tempfile.TemporaryDirectory(dir=st.blobs.tmp) as d:
        out = Path(d) / "r.xlsx"
        await run_in_threadpool(write_xlsx_report, doc, out)
        data = out.read_bytes()
    name = f"保密检查-{run_id}.xlsx"
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=\"site-{run_id}.xlsx\"; "
                                                    f"filename*=UTF-8''{quote(name)}"})


@router.get("/runs/{run_id}/report.json", summary="检查报告 JSON / report as JSON", dependencies=[Requires("site.view")],
            description="格式 baomi.site.report/1（稳定代码：action、decision、categories、skipped[].code、exit_code）。\n\n"
                        "Format baomi.site.report/1 with stable codes.")
def report_json(run_id: str, p: CurrentPrincipal, st: State):
    return _report(st, p, run_id, "json")


@router.get("/runs/{run_id}/report.html", response_class=HTMLResponse, summary="检查报告 HTML / report as HTML",
            dependencies=[Requires("site.view")],
            description="独立的 HTML 报告页。\n\nA standalone HTML report page.")
def report_html(run_id: str, p: CurrentPrincipal, st: State):
    return HTMLResponse(render_html(_report(st, p, run_id, "html")),
                        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
