"""档案保密审查 API: archive batches (a ZIP + an optional catalogue) scanned as a job, then 初审 → 复核 →
审核 per item and in bulk (service.archive), the register xlsx and the summary PDF."""
from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from .. import archive
from ..deps import CurrentPrincipal, Requires, State
from ..errors import err
from ..record import render_archive_pdf

router = APIRouter(prefix="/api/v1/archive", tags=["archive 档案保密审查"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DecisionIn(BaseModel):
    attribute: Literal["secret", "non_secret"]
    level: Literal["绝密", "机密", "秘密", ""] = ""
    access: Literal["开放", "控制使用", "不开放"]
    reason: str = Field("", max_length=archive.MAX_REASON)


class BulkIn(BaseModel):
    items: list[int] | None = Field(None, description="条目 id；省略 = 全部 / item ids, none = every item")
    adopt: bool = Field(False, description="采纳系统建议（初审）或上一环节意见（复核、审核）")
    decision: DecisionIn | None = None


class CompleteIn(BaseModel):
    decision: Literal["complete", "return"] = "complete"
    reason: str = Field("", max_length=archive.MAX_REASON)


@router.post("/batches", status_code=202, dependencies=[Requires("archive.create")], summary="提交档案批次 / new archive batch",
             description="上传档案 ZIP（可附目录 xlsx/csv：档号、题名、形成日期、保管期限），作为任务逐件扫描，完成后进入初审。\n\n"
                         "Upload a ZIP of archive items (and optionally the catalogue); scanned as a job, then 初审.")
async def create(request: Request, p: CurrentPrincipal, st: State):
    u = await archive.read_upload(request)
    bid = await run_in_threadpool(archive.create_batch, st, p, u["data"], u["filename"], u["title"], u["catalog"],
                                  u["catalog_name"], u["as_of"])
    return {"id": bid, "status": "scanning"}


@router.get("/batches", dependencies=[Requires("archive.view")], summary="档案批次列表 / archive batches",
            description="全部档案批次（最新在前），含状态与件数。\n\nEvery archive batch, newest first, with its state and item count.")
def batches(p: CurrentPrincipal, st: State):
    return {"batches": archive.list_batches(st, p)}


@router.get("/batches/{batch_id}", dependencies=[Requires("archive.view")], summary="批次详情 / batch with its items",
            description="每件档案的系统建议（保密属性、密级、保密期限与到期情况、开放建议、理由）与各环节意见；审核完成后含涉密档案清单（编号、标记）。\n\n"
                        "Each item's suggestion and each step's opinion; after 审核 the final list of classified items with numbers and marking instructions.")
def detail(batch_id: str, p: CurrentPrincipal, st: State):
    return archive.batch_detail(st, p, batch_id)


@router.put("/batches/{batch_id}/items/{item_id}", dependencies=[Requires("archive.view")],
            summary="逐件意见 / decision on one item",
            description="当前环节（初审、复核或审核）对一件档案的意见；与系统建议或上一环节意见不同时须填写理由。\n\n"
                        "The current step's decision on one item; a reason is needed when it differs from the suggestion or the previous step.")
def decide_item(batch_id: str, item_id: int, body: DecisionIn, p: CurrentPrincipal, st: State):
    return archive.decide(st, p, batch_id, [item_id], body.model_dump())


@router.post("/batches/{batch_id}/bulk", dependencies=[Requires("archive.view")], summary="批量意见 / bulk decision",
             description="adopt=true：采纳系统建议（初审；无法读取的档案不会被批量采纳）或上一环节意见；否则对所选条目给出同一意见。\n\n"
                         "Bulk: adopt the suggestion (初审; unreadable items are skipped) or the previous step's opinion, or one value for the given items.")
def decide_bulk(batch_id: str, body: BulkIn, p: CurrentPrincipal, st: State):
    if not body.adopt and body.decision is None:
        raise err(422, "validation_error", "请给出 decision，或设 adopt=true。")
    return archive.decide(st, p, batch_id, body.items, body.decision.model_dump() if body.decision else None,
                          adopt=body.adopt)


@router.post("/batches/{batch_id}/complete", dependencies=[Requires("archive.view")],
             summary="完成本环节或退回 / finish the step or return it",
             description="complete：本环节每件档案都有意见后进入下一环节；return：复核、审核可退回上一环节（须填写理由）。\n\n"
                         "complete: every item decided, on to the next step; return (复核, 审核): back one step, with a reason.")
def complete(batch_id: str, body: CompleteIn, p: CurrentPrincipal, st: State):
    return archive.complete(st, p, batch_id, body.decision, body.reason)


def attachment(body: bytes, media_type: str, ascii_name: str, name: str) -> Response:
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"})


@router.get("/batches/{batch_id}/register.xlsx", dependencies=[Requires("archive.view")], summary="审查登记表 / register",
            responses={200: {"content": {XLSX: {}}}},
            description="登记表 xlsx：逐件系统建议与初审、复核、审核意见，汇总页，目录未匹配条目。\n\n"
                        "The register workbook: suggestions and the three steps' opinions per item, a summary sheet, unmatched catalogue rows.")
def register(batch_id: str, p: CurrentPrincipal, st: State):
    body = archive.register_xlsx(st, p, batch_id)
    return attachment(body, XLSX, f"archive-{batch_id}.xlsx", f"档案审查登记表-{batch_id}.xlsx")


@router.get("/batches/{batch_id}/summary.pdf", dependencies=[Requires("archive.view")], summary="审查汇总表 PDF / summary",
            responses={200: {"content": {"application/pdf": {}}}},
            description="汇总表 PDF：逐件意见、涉密档案清单（编号、标记）、各环节审查人与签字栏。\n\n"
                        "The summary PDF: opinions per item, the final classified list, the people of each step and signature blocks.")
def summary_pdf(batch_id: str, p: CurrentPrincipal, st: State):
    body = archive.exported(st, p, batch_id, "pdf", render_archive_pdf(archive.batch_detail(st, p, batch_id)))
    return attachment(body, "application/pdf", f"archive-{batch_id}.pdf", f"档案审查汇总表-{batch_id}.pdf")
