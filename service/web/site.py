"""保密检查 pages: the sites under inspection (add one, its schedule and next run, start a run),
and a run's page (progress while it runs, then the result per URL with 下架/整改). The same
service.site functions as the API; what a page offers is what workflow.can() allows."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from .. import site
from ..errors import APIError
from ..workflow import check
from .common import PageRoute, form_principal_async, page_principal, redirect, render, state

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FLASH = {"site_added": "检查对象已添加。", "site_queued": "检查已开始排队。", "site_schedule": "检查计划已保存。"}


@router.get("/site")
def site_list(request: Request):
    p = page_principal(request)
    check(p, "site.view")
    targets = site.list_targets(state(request), p)
    msg = FLASH.get(request.query_params.get("msg", ""), "")
    return render(request, "site_list.html", {"targets": targets, "SCHEDULE_ZH": site.SCHEDULE_ZH,
                                              "WEEKDAY_ZH": site.WEEKDAY_ZH, "flash": msg}, p=p)


@router.post("/site")
async def site_add(request: Request):
    form, p = await form_principal_async(request)
    opts = {"max_pages": form.get("max_pages") or None, "max_depth": form.get("max_depth") or None,
            "delay_s": form.get("delay_s") or None, "same_host": form.get("same_host") == "1",
            "ignore_robots": form.get("ignore_robots") == "1", "allow_hosts": form.get("allow_hosts", "")}
    try:
        await run_in_threadpool(site.create_target, state(request), p, form.get("url", ""), form.get("name", ""), opts,
                                form.get("schedule", "off"), form.get("at_time", "02:00"),
                                int(form.get("weekday", "0") or 0))
    except (APIError, ValueError) as exc:
        return redirect("/site", err=getattr(exc, "code", "validation_error"))
    return redirect("/site", msg="site_added")


@router.get("/site/{target_id}")
def site_target(target_id: str, request: Request):
    p = page_principal(request)
    check(p, "site.view")
    t = site.get_target(state(request), p, target_id)
    msg = FLASH.get(request.query_params.get("msg", ""), "")
    return render(request, "site_target.html", {"t": t, "SCHEDULE_ZH": site.SCHEDULE_ZH, "WEEKDAY_ZH": site.WEEKDAY_ZH,
                                                "flash": msg}, p=p)


@router.post("/site/{target_id}/schedule")
async def site_schedule(target_id: str, request: Request):
    form, p = await form_principal_async(request)
    try:
        await run_in_threadpool(site.set_schedule, state(request), p, target_id, form.get("schedule", "off"),
                                form.get("at_time", "02:00"), int(form.get("weekday", "0") or 0))
    except (APIError, ValueError) as exc:
        return redirect(f"/site/{target_id}", err=getattr(exc, "code", "validation_error"))
    return redirect(f"/site/{target_id}", msg="site_schedule")


@router.post("/site/{target_id}/run")
async def site_run(target_id: str, request: Request):
    form, p = await form_principal_async(request)
    try:
        r = await run_in_threadpool(site.start_run, state(request), p, target_id)
    except APIError as exc:
        return redirect(f"/site/{target_id}", err=exc.code)
    return redirect(f"/site/runs/{r['id']}", msg="site_queued")


@router.get("/site/runs/{run_id}")
def site_run_page(run_id: str, request: Request):
    p = page_principal(request)
    check(p, "site.view")
    r = site.get_run(state(request), p, run_id, with_report=True)
    msg = FLASH.get(request.query_params.get("msg", ""), "")
    return render(request, "site_run.html", {"r": r, "doc": r.get("report"), "STAGE_ZH": site.STAGE_ZH, "flash": msg},
                  p=p)
