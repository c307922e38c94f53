"""The archive review pages (档案保密审查): the batches and the upload form, a batch with its items,
the machine's suggestion beside each step's opinion, per-item and bulk decisions, finishing or
returning a step, the final list of 涉密 items, the register and summary downloads. Every action
calls service.archive, as the API does."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from .. import archive, workflow
from ..errors import APIError
from .common import ERR_ZH, PageRoute, form_principal, form_principal_async, page_principal, redirect, render, state

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FLASH = {"created": "档案批次已提交，正在逐件扫描。", "decided": "意见已保存。", "bulk": "批量意见已保存。",
         "completed": "本环节已完成，已转入下一环节。", "returned": "已退回上一环节。"}
ERRORS = {"separation_of_duties": archive.SEPARATION_ZH, "decisions_missing": "还有档案未给出本环节意见。",
          "reason_required": "与系统建议或上一环节意见不同（或退回）时请填写理由。",
          "archive_zip_invalid": "档案包不是可读取的 ZIP 文件，已拒绝。", "archive_zip_empty": "档案包中没有文件。",
          "archive_catalog_invalid": "目录文件无法使用（应为含 档号、题名 列的 xlsx 或 csv）。"}


def _flash(request: Request) -> dict:
    msg, code = request.query_params.get("msg", ""), request.query_params.get("err", "")
    out = {}
    if msg in FLASH:
        out["flash"] = FLASH[msg]
    if code in ERRORS:
        out["flash_error"] = ERRORS[code]
    elif code in ERR_ZH:
        out["flash_error"] = ERR_ZH[code]
    return out


@router.get("/archive")
def batches_page(request: Request):
    p = page_principal(request)
    rows = archive.list_batches(state(request), p)
    return render(request, "archive_list.html", {"batches": rows, "can_create": workflow.can(p, "archive.create"),
                                                 **_flash(request)}, p=p)


@router.post("/archive/new")
async def new_batch(request: Request):
    st = state(request)
    try:
        u = await archive.read_upload(request)
    except APIError as exc:
        return redirect("/archive", err=exc.code)
    p = await run_in_threadpool(form_principal, request, {"csrf_token": u["csrf_token"]})
    try:
        bid = await run_in_threadpool(archive.create_batch, st, p, u["data"], u["filename"], u["title"], u["catalog"],
                                      u["catalog_name"], u["as_of"])
    except APIError as exc:
        return redirect("/archive", err=exc.code)
    return redirect(f"/archive/{bid}", msg="created")


@router.get("/archive/{batch_id}")
def batch_page(batch_id: str, request: Request):
    p = page_principal(request)
    d = archive.batch_detail(state(request), p, batch_id)
    return render(request, "archive_batch.html", {
        "b": d, "STEP_ZH": archive.STEP_ZH, "STEPS": archive.STEPS, "ATTRIBUTE_ZH": archive.ATTRIBUTE_ZH,
        "LEVELS": archive.LEVELS, "ACCESS": ("开放", "控制使用", "不开放"), "step": d["status"],
        "separation": archive.SEPARATION_ZH, "effective": archive.effective, **_flash(request)}, p=p)


def _value(form) -> dict:
    def g(k):
        v = form.get(k, "")
        return v if isinstance(v, str) else ""
    return {"attribute": g("attribute"), "level": g("level"), "access": g("access"), "reason": g("reason")[:archive.MAX_REASON]}


async def _act(request: Request, batch_id: str, fn, ok: str, anchor: str = "") -> object:
    form, p = await form_principal_async(request)
    try:
        await run_in_threadpool(fn, state(request), p, form)
    except APIError as exc:
        return redirect(f"/archive/{batch_id}{anchor}", err=exc.code)
    return redirect(f"/archive/{batch_id}{anchor}", msg=ok)


@router.post("/archive/{batch_id}/item/{item_id}")
async def item_post(batch_id: str, item_id: int, request: Request):
    return await _act(request, batch_id, lambda st, p, f: archive.decide(st, p, batch_id, [item_id], _value(f)),
                      "decided", f"#item-{item_id}")


@router.post("/archive/{batch_id}/bulk")
async def bulk_post(batch_id: str, request: Request):
    """Adopt, for every item, the machine's suggestion (初审) or the previous step's opinion."""
    return await _act(request, batch_id, lambda st, p, f: archive.decide(st, p, batch_id, None, None, adopt=True),
                      "bulk")


@router.post("/archive/{batch_id}/complete")
async def complete_post(batch_id: str, request: Request):
    form, p = await form_principal_async(request)
    dec = form.get("decision") if form.get("decision") in ("complete", "return") else "complete"
    r = form.get("reason", "")
    try:
        await run_in_threadpool(archive.complete, state(request), p, batch_id, dec, r if isinstance(r, str) else "")
    except APIError as exc:
        return redirect(f"/archive/{batch_id}", err=exc.code)
    return redirect(f"/archive/{batch_id}", msg="completed" if dec == "complete" else "returned")
