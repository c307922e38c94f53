"""Submissions (申请) and the review workflow over HTTP. The rules (states, who may do what,
preconditions, audit entries) are service.workflow's; these handlers parse, call it and answer."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .. import workflow
from ..deps import CurrentPrincipal, Requires, State
from ..errors import err
from ..intake import read_draft
from ..models import Submission
from ..queue import check_queue
from ..schemas import (AuditEntryOut, SubmissionDetailOut, SubmissionListOut, SubmissionOut,
                       VerdictOut, errors)
from .scan import UPLOAD_BODY

router = APIRouter(prefix="/api/v1", tags=["submissions 申请与审查"])

SUB_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "required": ["text", "title"], "properties": {
        "text": {"type": "string", "description": "草稿正文 / draft text"},
        "filename": {"type": "string"},
        "title": {"type": "string", "description": "信息名称 / title"},
        "purpose": {"type": "string", "description": "发布目的 / purpose"},
        "channel": {"type": "string", "description": "拟发布渠道（网站、公众号…）/ intended channel"},
        "scope": {"type": "string", "description": "拟公开范围 / intended publication scope"},
        "summary": {"type": "string", "description": "内容摘要 / summary"}}}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file", "title"], "properties": {
        "file": {"type": "string", "format": "binary"}, "title": {"type": "string"},
        "purpose": {"type": "string"}, "channel": {"type": "string"}, "scope": {"type": "string"},
        "summary": {"type": "string"}}}}}}}


# -- endpoints ----------------------------------------------------------------------------------
@router.post("/submissions", status_code=202, summary="提交申请 / create a submission", openapi_extra=SUB_BODY,
             dependencies=[Requires("submit")],
             responses={202: {"model": SubmissionOut, "description": "已受理，自动审查排队中 / accepted, scan queued"},
                        **errors(400, 401, 403, 408, 413, 415, 422, 429, 503, 507)},
             description="作者提交草稿及申请材料（信息名称、发布目的、拟发布渠道、拟公开范围）。文件先加密落盘并提交数据库后才应答；"
                         "可带 Idempotency-Key 重试。\n\nAn author submits a draft with the 申请 fields. The upload is "
                         "encrypted and durable before the answer; retry with Idempotency-Key.")
async def create_submission(request: Request, p: CurrentPrincipal, st: State):
    await run_in_threadpool(check_queue, st, p)
    idem = request.headers.get("idempotency-key")
    if idem is not None and (len(idem) > 128 or not idem.isprintable()):
        raise err(400, "bad_idempotency_key", "Idempotency-Key 格式不正确。")
    d = await read_draft(request, text_fields=workflow.FIELDS)
    if not d.fields.get("title"):
        raise err(422, "validation_error", "缺少信息名称（title）。", fields=[{"loc": ["body", "title"], "type": "missing"}])
    sub_id, replay = await run_in_threadpool(workflow.store_version, st, p, d, None, d.fields, idem)
    url = str(request.url_for("get_submission", sub_id=sub_id))
    with st.db.read() as s:
        sub = s.get(Submission, sub_id)
        body = workflow.submission_summary(s, sub)
        body["job_id"], body["url"] = workflow.current_version(s, sub).job_id, url
    return JSONResponse(body, status_code=202, headers={"Location": url, **({"Idempotent-Replay": "true"} if replay else {})})


@router.get("/submissions", summary="申请列表 / list submissions",
            dependencies=[Requires("submission.list")],
            responses={200: {"model": SubmissionListOut}, **errors(401)},
            description="作者只看到本人的申请；审查人、审批人、管理员看到全部。默认最早的在前。\n\n"
                        "Authors see only their own; staff see all. Oldest first by default.")
def list_submissions(p: CurrentPrincipal, st: State,
                     status: str | None = Query(None, description="状态，逗号分隔 / status, comma separated"),
                     decision: str | None = Query(None, description="pass/review/block"),
                     owner: str | None = Query(None, description="提交人用户名 / submitter"),
                     category: str | None = Query(None, description="发现类别前缀 / finding category prefix"),
                     newest_first: bool = False,
                     limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)):
    return workflow.list_submissions(st, p, status=status, decision=decision, owner=owner, category=category,
                                     newest_first=newest_first, limit=limit, offset=offset)


@router.get("/submissions/{sub_id}", name="get_submission", summary="申请详情 / show a submission",
            dependencies=[Requires("submission.view")],
            responses={200: {"model": SubmissionDetailOut}, **errors(401, 403, 404)},
            description="申请材料、版本、当前报告（每条发现带 id 与审查结论）、与上一版本的差异、决定记录。"
                        "`segments=true` 附带文本段用于高亮。\n\nFields, versions, the current report (findings with ids "
                        "and verdicts), the diff against the previous version, decisions. `segments=true` adds the text.")
def get_submission(sub_id: str, p: CurrentPrincipal, st: State, segments: bool = False,
                   version: int | None = Query(None, ge=1, description="版本号，默认当前 / version, default current")):
    return workflow.submission_detail(st, p, sub_id, segments=segments, version=version)


@router.post("/submissions/{sub_id}/versions", status_code=202, summary="提交新版本 / new version",
             dependencies=[Requires("resubmit")],
             responses={202: {"model": SubmissionOut}, **errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503, 507)},
             openapi_extra=UPLOAD_BODY,
             description="修改后重新提交（仅申请人，状态为待审查或退回修改时）。旧版本保留，发现按指纹比较差异。\n\n"
                         "Resubmit after changes (owner; pending_review or changes_requested). Versions are kept; findings "
                         "are diffed by fingerprint.")
async def new_version(sub_id: str, request: Request, p: CurrentPrincipal, st: State):
    await run_in_threadpool(check_queue, st, p)
    d = await read_draft(request, text_fields=("note",))
    await run_in_threadpool(workflow.store_version, st, p, d, sub_id, d.fields, None)
    with st.db.read() as s:
        sub = s.get(Submission, sub_id)
        body = workflow.submission_summary(s, sub)
        body["job_id"] = workflow.current_version(s, sub).job_id
    return JSONResponse(body, status_code=202)


class ReasonIn(BaseModel):
    reason: str = Field("", max_length=2000, description="理由 / reason")


@router.post("/submissions/{sub_id}/withdraw", summary="撤回申请 / withdraw",
             dependencies=[Requires("withdraw")],
             responses={200: {"model": SubmissionOut}, **errors(401, 403, 404, 409)},
             description="申请人撤回尚未发布的申请。\n\nThe owner withdraws a submission not yet published.")
def withdraw(sub_id: str, body: ReasonIn, p: CurrentPrincipal, st: State):
    return workflow.apply(st, p, sub_id, "withdraw", reason=body.reason)


class VerdictIn(BaseModel):
    verdict: Literal["confirmed", "false_positive", "accepted_risk"] = Field(
        description="confirmed 确认风险 / false_positive 误报 / accepted_risk 接受风险")
    reason: str = Field("", max_length=2000, description="理由（误报与接受风险必填）/ reason (required unless confirmed)")


@router.put("/submissions/{sub_id}/findings/{finding_id}/verdict", summary="逐条审查结论 / per-finding verdict",
            dependencies=[Requires("verdict")],
            responses={200: {"model": VerdictOut}, **errors(401, 403, 404, 409, 422)},
            description="审查人对当前版本的一条发现给出结论。\n\nA reviewer's verdict on one finding of the current version.")
def put_verdict(sub_id: str, finding_id: int, body: VerdictIn, p: CurrentPrincipal, st: State):
    return workflow.put_verdict(st, p, sub_id, finding_id, body.verdict, body.reason)


class ReviewIn(BaseModel):
    decision: Literal["approve", "request_changes", "reject", "escalate"] = Field(
        description="approve 同意发布（提交审批）/ request_changes 退回修改 / reject 不予发布 / escalate 提交上级或保密办")
    reason: str = Field("", max_length=4000, description="意见 / reason")


@router.post("/submissions/{sub_id}/review", summary="保密审查决定 / review decision",
             dependencies=[Requires("review")],
             responses={200: {"model": SubmissionOut}, **errors(401, 403, 404, 409, 422)},
             description="同意须先对当前版本每条发现给出结论；退回、驳回、上报须写明理由。\n\n"
                         "approve needs a verdict on every finding of the current version; the others need a reason.")
def review(sub_id: str, body: ReviewIn, p: CurrentPrincipal, st: State):
    return workflow.apply(st, p, sub_id, "review", body.decision, body.reason)


class SignIn(BaseModel):
    decision: Literal["approve", "request_changes", "reject"] = Field(
        description="approve 批准发布 / request_changes 退回修改 / reject 不予发布")
    reason: str = Field("", max_length=4000)


@router.post("/submissions/{sub_id}/approval", summary="审批签发 / approver sign-off",
             dependencies=[Requires("approval")],
             responses={200: {"model": SubmissionOut}, **errors(401, 403, 404, 409, 422)},
             description="第二级审批：审批人不能是同一申请的审查人（职责分离）。\n\n"
                         "Second level; the approver must not be the reviewer of the same submission.")
def approval(sub_id: str, body: SignIn, p: CurrentPrincipal, st: State):
    return workflow.apply(st, p, sub_id, "approval", body.decision, body.reason)


class PublishIn(BaseModel):
    url: str = Field("", max_length=1000, description="发布地址 / where it was published")


@router.post("/submissions/{sub_id}/publish", summary="标记已发布 / mark published",
             dependencies=[Requires("publish")],
             responses={200: {"model": SubmissionOut}, **errors(401, 403, 404, 409)},
             description="批准后由申请人或管理员标记已发布（凭据须有 submit 权限范围）。\n\n"
                         "The owner or an admin marks an approved submission published (needs scope `submit`).")
def publish(sub_id: str, body: PublishIn, p: CurrentPrincipal, st: State):
    return workflow.apply(st, p, sub_id, "publish", url=body.url)


@router.get("/submissions/{sub_id}/audit", summary="审计记录 / audit trail",
            dependencies=[Requires("submission.view")],
            responses={200: {"model": list[AuditEntryOut]}, **errors(401, 403, 404)},
            description="本申请的全部审计记录（不含正文与匹配内容）。\n\nAudit entries of this submission (no draft text).")
def submission_audit(sub_id: str, p: CurrentPrincipal, st: State):
    return workflow.audit_trail(st, p, sub_id)
