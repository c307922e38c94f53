"""Submissions (申请) and the review workflow: 提交 → 保密审查 → 修改 → 审批 → 发布.

States: scanning → pending_review → (changes_requested → scanning …) → pending_approval →
approved → published; rejected, withdrawn, escalated on the side. Each step is one write
transaction with an audit entry holding before/after state (never draft text)."""
from __future__ import annotations

import json
import uuid
from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from .. import audit
from ..deps import CurrentPrincipal, Principal, State, require
from ..errors import err
from ..faults import fault
from ..intake import Draft, read_draft
from ..jobs import load_report, new_job, queue_guard
from ..models import (Decision, FindingRow, Job, ReportRow, Submission, User, Verdict, Version,
                      now)
from ..schemas import (AuditEntryOut, SubmissionDetailOut, SubmissionListOut, SubmissionOut,
                       VerdictOut, errors)
from ..state import ServiceState
from .scan import UPLOAD_BODY, check_queue

router = APIRouter(prefix="/api/v1", tags=["submissions 申请与审查"])

FIELDS = ("title", "purpose", "channel", "scope", "summary")
OPEN = ("scanning", "pending_review", "changes_requested", "escalated", "pending_approval", "approved")
STATUS_ZH = {"scanning": "自动审查中", "pending_review": "待保密审查", "changes_requested": "退回修改",
             "escalated": "已提交上级/保密办", "pending_approval": "待审批", "approved": "已批准发布",
             "published": "已发布", "rejected": "不予发布", "withdrawn": "已撤回"}
VERDICT_ZH = {"confirmed": "确认风险", "false_positive": "误报", "accepted_risk": "接受风险"}
DECISION_ZH = {"approve": "同意发布", "request_changes": "退回修改", "reject": "不予发布",
               "escalate": "提交上级/保密办", "published": "已发布", "withdrawn": "撤回"}

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


# -- helpers ------------------------------------------------------------------------------------
def _get_sub(s, p: Principal, sub_id: str) -> Submission:
    sub = s.get(Submission, sub_id)
    if sub is None:
        raise err(404, "submission_not_found", "申请不存在。")
    if not p.is_staff and sub.owner_id != p.user_id:
        raise err(403, "not_owner", "只能查看和操作本人的申请。")
    return sub


def _state(sub: Submission) -> dict:
    return {"status": sub.status, "version": sub.current_version}


def _current_version(s, sub: Submission) -> Version:
    return s.execute(select(Version).where(Version.submission_id == sub.id,
                                           Version.number == sub.current_version)).scalar_one()


def _store_version(st: ServiceState, p: Principal, d: Draft, sub_id: str | None, meta: dict,
                   idem_key: str | None) -> tuple[str, bool]:
    """Durable blob, then submission/version/job/audit rows in one transaction. -> (id, replay)."""
    if idem_key and sub_id is None:
        with st.db.read() as s:
            prev = s.execute(select(Submission.id).where(Submission.owner_id == p.user_id,
                                                         Submission.idempotency_key == idem_key)).first()
            if prev:
                return prev[0], True
    blob_id = st.blobs.put(d.data)
    try:
        with st.db.write() as s:
            # the bound again, exact, under a lock (the early check ran before the body was read)
            queue_guard(s, st)
            if sub_id is None:
                sub = Submission(id=str(uuid.uuid4()), owner_id=p.user_id, status="scanning",
                                 current_version=1, idempotency_key=idem_key,
                                 **{k: meta.get(k, "") for k in FIELDS})
                s.add(sub)
                s.flush()
                before, number, action = None, 1, "submission.created"
            else:
                sub = _get_sub(s, p, sub_id)
                if sub.owner_id != p.user_id:
                    raise err(403, "not_owner", "只有申请人可以提交新版本。")
                if sub.status not in ("pending_review", "changes_requested"):
                    raise err(409, "invalid_state", f"当前状态（{STATUS_ZH.get(sub.status, sub.status)}）不能提交新版本。")
                before = _state(sub)
                number, action = sub.current_version + 1, "submission.version_added"
                sub.current_version, sub.status, sub.updated_at = number, "scanning", now()
                sub.reviewer_id = sub.approver_id = None
            ver = Version(id=str(uuid.uuid4()), submission_id=sub.id, number=number, filename=d.filename,
                          media_type=d.media_type, size=len(d.data), sha256=d.sha256, blob_id=blob_id,
                          note=meta.get("note", ""))
            job = new_job(s, blob_id=blob_id, filename=d.filename, sha256=d.sha256, size=len(d.data),
                          principal=p.tag, user_id=p.user_id, version_id=ver.id)
            ver.job_id = job.id
            s.add(ver)
            audit.append(s, p.actor, action, "submission", sub.id, before=before,
                         after={**_state(sub), "sha256": d.sha256, "size": len(d.data),
                                "media_type": d.media_type, "job": job.id})
            out = sub.id
    except BaseException:
        st.blobs.delete(blob_id)
        raise
    fault("after_commit")
    st.wake.set()
    return out, False


def _finding_dicts(s, st: ServiceState, ver: Version, with_segments: bool) -> tuple[dict | None, list[dict]]:
    if not ver.report_id:
        return None, []
    row = s.get(ReportRow, ver.report_id)
    rep = load_report(st, row, with_segments=with_segments)
    rows = s.execute(select(FindingRow).where(FindingRow.report_id == row.id).order_by(FindingRow.idx)).scalars().all()
    verdicts = {v.finding_id: v for v in s.execute(select(Verdict).where(
        Verdict.finding_id.in_([r.id for r in rows]))).scalars()} if rows else {}
    out = []
    full = rep.get("findings") or []
    for r in rows:
        f = dict(full[r.idx]) if r.idx < len(full) else {
            "category": r.category, "rule_id": r.rule_id, "severity": r.severity, "layer": r.layer,
            "segment_id": r.segment_id, "start": r.start, "end": r.end, "fingerprint": r.fingerprint,
            "explanation": r.explanation, "suggestion": r.suggestion, "location": json.loads(r.location)}
        v = verdicts.get(r.id)
        f["id"] = r.id
        f["verdict"] = ({"verdict": v.verdict, "reason": v.reason, "user_id": v.user_id,
                         "created_at": v.created_at} if v else None)
        out.append(f)
    rep["findings"] = out
    return rep, out


def _diff(s, sub: Submission, number: int) -> dict | None:
    if number <= 1:
        return None
    vers = {v.number: v for v in s.execute(select(Version).where(
        Version.submission_id == sub.id, Version.number.in_((number - 1, number)))).scalars()}
    if len(vers) < 2 or not vers[number].report_id or not vers[number - 1].report_id:
        return None

    def fps(v):
        return {(r.fingerprint): r.category for r in s.execute(
            select(FindingRow).where(FindingRow.report_id == v.report_id)).scalars()}
    old, new = fps(vers[number - 1]), fps(vers[number])
    return {"from_version": number - 1, "to_version": number,
            "resolved": [{"fingerprint": k, "category": c} for k, c in old.items() if k not in new],
            "added": [{"fingerprint": k, "category": c} for k, c in new.items() if k not in old],
            "unchanged": [{"fingerprint": k, "category": c} for k, c in new.items() if k in old]}


def submission_summary(s, sub: Submission) -> dict:
    ver = _current_version(s, sub)
    rep = s.get(ReportRow, ver.report_id) if ver.report_id else None
    owner = s.get(User, sub.owner_id)
    return {"id": sub.id, "title": sub.title, "purpose": sub.purpose, "channel": sub.channel,
            "scope": sub.scope, "summary": sub.summary, "status": sub.status,
            "status_label": STATUS_ZH.get(sub.status, sub.status), "current_version": sub.current_version,
            "owner": {"id": owner.id, "username": owner.username, "display_name": owner.display_name},
            "decision": rep.decision if rep else None, "risk_score": rep.risk_score if rep else None,
            "finding_count": rep.finding_count if rep else None,
            "categories": [c for c in rep.categories.split(",") if c] if rep else [],
            "created_at": sub.created_at, "updated_at": sub.updated_at, "published_at": sub.published_at}


# -- endpoints ----------------------------------------------------------------------------------
@router.post("/submissions", status_code=202, summary="提交申请 / create a submission", openapi_extra=SUB_BODY,
             responses={202: {"model": SubmissionOut, "description": "已受理，自动审查排队中 / accepted, scan queued"},
                        **errors(400, 401, 403, 408, 413, 415, 422, 429, 503, 507)},
             description="作者提交草稿及申请材料（信息名称、发布目的、拟发布渠道、拟公开范围）。文件先加密落盘并提交数据库后才应答；"
                         "可带 Idempotency-Key 重试。\n\nAn author submits a draft with the 申请 fields. The upload is "
                         "encrypted and durable before the answer; retry with Idempotency-Key.")
async def create_submission(request: Request, p: CurrentPrincipal, st: State):
    require(p, roles=("author", "admin"), scope="submit")
    await run_in_threadpool(check_queue, st, p)
    idem = request.headers.get("idempotency-key")
    if idem is not None and (len(idem) > 128 or not idem.isprintable()):
        raise err(400, "bad_idempotency_key", "Idempotency-Key 格式不正确。")
    d = await read_draft(request, text_fields=FIELDS)
    if not d.fields.get("title"):
        raise err(422, "validation_error", "缺少信息名称（title）。", fields=[{"loc": ["body", "title"], "type": "missing"}])
    sub_id, replay = await run_in_threadpool(_store_version, st, p, d, None, d.fields, idem)
    url = str(request.url_for("get_submission", sub_id=sub_id))
    with st.db.read() as s:
        body = submission_summary(s, s.get(Submission, sub_id))
        ver = _current_version(s, s.get(Submission, sub_id))
        body["job_id"], body["url"] = ver.job_id, url
    return JSONResponse(body, status_code=202, headers={"Location": url, **({"Idempotent-Replay": "true"} if replay else {})})


@router.get("/submissions", summary="申请列表 / list submissions",
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
    with st.db.read() as s:
        q = select(Submission)
        if not p.is_staff:
            q = q.where(Submission.owner_id == p.user_id)
        if status:
            q = q.where(Submission.status.in_([x.strip() for x in status.split(",")]))
        if owner:
            q = q.join(User, User.id == Submission.owner_id).where(User.username == owner)
        q = q.order_by(Submission.created_at.desc() if newest_first else Submission.created_at)
        items = [submission_summary(s, sub) for sub in s.execute(q).scalars()]
        if decision:
            items = [i for i in items if i["decision"] == decision]
        if category:
            items = [i for i in items if any(c.startswith(category) for c in i["categories"])]
        counts: dict[str, int] = {}
        for i in items:
            counts[i["status"]] = counts.get(i["status"], 0) + 1
        return {"total": len(items), "counts": counts, "items": items[offset: offset + limit]}


@router.get("/submissions/{sub_id}", name="get_submission", summary="申请详情 / show a submission",
            responses={200: {"model": SubmissionDetailOut}, **errors(401, 403, 404)},
            description="申请材料、版本、当前报告（每条发现带 id 与审查结论）、与上一版本的差异、决定记录。"
                        "`segments=true` 附带文本段用于高亮。\n\nFields, versions, the current report (findings with ids "
                        "and verdicts), the diff against the previous version, decisions. `segments=true` adds the text.")
def get_submission(sub_id: str, p: CurrentPrincipal, st: State, segments: bool = False,
                   version: int | None = Query(None, ge=1, description="版本号，默认当前 / version, default current")):
    with st.db.read() as s:
        sub = _get_sub(s, p, sub_id)
        out = submission_summary(s, sub)
        vers = s.execute(select(Version).where(Version.submission_id == sub.id).order_by(Version.number)).scalars().all()
        jobs = {j.id: j for j in s.execute(select(Job).where(Job.id.in_([v.job_id for v in vers if v.job_id]))).scalars()}
        out["versions"] = [{"number": v.number, "filename": v.filename, "media_type": v.media_type,
                            "size": v.size, "sha256": v.sha256, "created_at": v.created_at,
                            "report_id": v.report_id, "purged": v.purged_at is not None,
                            "job": {"id": v.job_id, "status": jobs[v.job_id].status,
                                    "progress": jobs[v.job_id].progress,
                                    "error_code": jobs[v.job_id].error_code or None} if v.job_id in jobs else None}
                           for v in vers]
        n = version or sub.current_version
        ver = next((v for v in vers if v.number == n), None)
        if ver is None:
            raise err(404, "version_not_found", "版本不存在。")
        out["report"], _ = _finding_dicts(s, st, ver, segments)
        out["diff"] = _diff(s, sub, n)
        out["decisions"] = [{"level": d.level, "decision": d.decision, "label": DECISION_ZH.get(d.decision, d.decision),
                             "reason": d.reason, "version": d.version_number, "user_id": d.user_id,
                             "created_at": d.created_at}
                            for d in s.execute(select(Decision).where(Decision.submission_id == sub.id)
                                               .order_by(Decision.id)).scalars()]
    if segments:      # who read the draft text is on record
        with st.db.write() as s:
            audit.append(s, p.actor, "submission.text_viewed", "submission", sub_id, after={"version": n})
    return out


@router.post("/submissions/{sub_id}/versions", status_code=202, summary="提交新版本 / new version",
             responses={202: {"model": SubmissionOut}, **errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503, 507)},
             openapi_extra=UPLOAD_BODY,
             description="修改后重新提交（仅申请人，状态为待审查或退回修改时）。旧版本保留，发现按指纹比较差异。\n\n"
                         "Resubmit after changes (owner; pending_review or changes_requested). Versions are kept; findings "
                         "are diffed by fingerprint.")
async def new_version(sub_id: str, request: Request, p: CurrentPrincipal, st: State):
    require(p, roles=("author", "admin"), scope="submit")
    await run_in_threadpool(check_queue, st, p)
    d = await read_draft(request, text_fields=("note",))
    await run_in_threadpool(_store_version, st, p, d, sub_id, d.fields, None)
    with st.db.read() as s:
        sub = s.get(Submission, sub_id)
        body = submission_summary(s, sub)
        body["job_id"] = _current_version(s, sub).job_id
    return JSONResponse(body, status_code=202)


class ReasonIn(BaseModel):
    reason: str = Field("", max_length=2000, description="理由 / reason")


def _transition(st: ServiceState, p: Principal, sub_id: str, *, allowed: tuple[str, ...], new_status: str,
                level: str, decision: str, reason: str, owner_only: bool = False, extra=None) -> dict:
    with st.db.write() as s:
        sub = _get_sub(s, p, sub_id)
        if owner_only and sub.owner_id != p.user_id and p.role != "admin":
            raise err(403, "not_owner", "只有申请人可以执行此操作。")
        if sub.status not in allowed:
            raise err(409, "invalid_state", f"当前状态（{STATUS_ZH.get(sub.status, sub.status)}）不能执行此操作。",
                      status=sub.status)
        before = _state(sub)
        if extra:
            extra(s, sub)
        sub.status, sub.updated_at = new_status, now()
        s.add(Decision(submission_id=sub.id, version_number=sub.current_version, level=level,
                       decision=decision, reason=reason, user_id=p.user_id))
        audit.append(s, p.actor, f"{level}.{decision}", "submission", sub.id, before=before,
                     after={**_state(sub), "reason_len": len(reason)})
        return submission_summary(s, sub)


@router.post("/submissions/{sub_id}/withdraw", summary="撤回申请 / withdraw",
             responses={200: {"model": SubmissionOut}, **errors(401, 403, 404, 409)},
             description="申请人撤回尚未发布的申请。\n\nThe owner withdraws a submission not yet published.")
def withdraw(sub_id: str, body: ReasonIn, p: CurrentPrincipal, st: State):
    require(p, scope="submit")
    return _transition(st, p, sub_id, allowed=OPEN, new_status="withdrawn", level="submission",
                       decision="withdrawn", reason=body.reason, owner_only=True)


class VerdictIn(BaseModel):
    verdict: Literal["confirmed", "false_positive", "accepted_risk"] = Field(
        description="confirmed 确认风险 / false_positive 误报 / accepted_risk 接受风险")
    reason: str = Field("", max_length=2000, description="理由（误报与接受风险必填）/ reason (required unless confirmed)")


@router.put("/submissions/{sub_id}/findings/{finding_id}/verdict", summary="逐条审查结论 / per-finding verdict",
            responses={200: {"model": VerdictOut}, **errors(401, 403, 404, 409, 422)},
            description="审查人对当前版本的一条发现给出结论。\n\nA reviewer's verdict on one finding of the current version.")
def put_verdict(sub_id: str, finding_id: int, body: VerdictIn, p: CurrentPrincipal, st: State):
    require(p, roles=("reviewer", "approver", "admin"), scope="review")
    if body.verdict != "confirmed" and len(body.reason.strip()) < 2:
        raise err(422, "reason_required", "判定为误报或接受风险时必须填写理由。")
    with st.db.write() as s:
        sub = _get_sub(s, p, sub_id)
        if sub.status not in ("pending_review", "escalated"):
            raise err(409, "invalid_state", f"当前状态（{STATUS_ZH.get(sub.status, sub.status)}）不能填写审查结论。")
        ver = _current_version(s, sub)
        f = s.get(FindingRow, finding_id)
        if f is None or f.report_id != ver.report_id:
            raise err(404, "finding_not_found", "该发现不属于本申请的当前版本。")
        v = s.execute(select(Verdict).where(Verdict.finding_id == f.id)).scalar_one_or_none()
        before = {"verdict": v.verdict} if v else None
        if v is None:
            v = Verdict(submission_id=sub.id, finding_id=f.id, verdict=body.verdict, reason=body.reason,
                        user_id=p.user_id)
            s.add(v)
        else:
            v.verdict, v.reason, v.user_id, v.created_at = body.verdict, body.reason, p.user_id, now()
        audit.append(s, p.actor, "review.verdict", "submission", sub.id, before=before,
                     after={"finding": f.id, "fingerprint": f.fingerprint, "category": f.category,
                            "verdict": body.verdict})
        return {"finding_id": f.id, "verdict": body.verdict, "reason": body.reason}


class ReviewIn(BaseModel):
    decision: Literal["approve", "request_changes", "reject", "escalate"] = Field(
        description="approve 同意发布（提交审批）/ request_changes 退回修改 / reject 不予发布 / escalate 提交上级或保密办")
    reason: str = Field("", max_length=4000, description="意见 / reason")


@router.post("/submissions/{sub_id}/review", summary="保密审查决定 / review decision",
             responses={200: {"model": SubmissionOut}, **errors(401, 403, 404, 409, 422)},
             description="同意须先对当前版本每条发现给出结论；退回、驳回、上报须写明理由。\n\n"
                         "approve needs a verdict on every finding of the current version; the others need a reason.")
def review(sub_id: str, body: ReviewIn, p: CurrentPrincipal, st: State):
    require(p, roles=("reviewer", "approver", "admin"), scope="review")
    if body.decision != "approve" and len(body.reason.strip()) < 2:
        raise err(422, "reason_required", "请填写理由。")
    target = {"approve": "pending_approval", "request_changes": "changes_requested",
              "reject": "rejected", "escalate": "escalated"}[body.decision]

    def check(s, sub):
        ver = _current_version(s, sub)
        if body.decision == "approve":
            if not ver.report_id:
                raise err(409, "scan_pending", "自动审查尚未完成。")
            missing = s.execute(select(func.count()).select_from(FindingRow)
                                .outerjoin(Verdict, Verdict.finding_id == FindingRow.id)
                                .where(FindingRow.report_id == ver.report_id, Verdict.id.is_(None))).scalar_one()
            if missing:
                raise err(409, "verdicts_missing", f"还有 {missing} 条发现未给出审查结论。", missing=int(missing))
            confirmed = s.execute(select(func.count()).select_from(Verdict).join(
                FindingRow, FindingRow.id == Verdict.finding_id).where(
                FindingRow.report_id == ver.report_id, Verdict.verdict == "confirmed")).scalar_one()
            if confirmed:
                raise err(409, "confirmed_risk_open", "存在已确认的风险，不能同意发布，请退回修改。")
            sub.reviewer_id = p.user_id
    return _transition(st, p, sub_id, allowed=("pending_review", "escalated"), new_status=target,
                       level="review", decision=body.decision, reason=body.reason, extra=check)


class SignIn(BaseModel):
    decision: Literal["approve", "request_changes", "reject"] = Field(
        description="approve 批准发布 / request_changes 退回修改 / reject 不予发布")
    reason: str = Field("", max_length=4000)


@router.post("/submissions/{sub_id}/approval", summary="审批签发 / approver sign-off",
             responses={200: {"model": SubmissionOut}, **errors(401, 403, 404, 409, 422)},
             description="第二级审批：审批人不能是同一申请的审查人（职责分离）。\n\n"
                         "Second level; the approver must not be the reviewer of the same submission.")
def approval(sub_id: str, body: SignIn, p: CurrentPrincipal, st: State):
    require(p, roles=("approver", "admin"), scope="approve")
    if body.decision != "approve" and len(body.reason.strip()) < 2:
        raise err(422, "reason_required", "请填写理由。")
    target = {"approve": "approved", "request_changes": "changes_requested", "reject": "rejected"}[body.decision]

    def check(s, sub):
        if sub.reviewer_id == p.user_id:
            raise err(403, "separation_of_duties", "审批人不能与审查人为同一人。")
        if body.decision == "approve":
            sub.approver_id = p.user_id
    return _transition(st, p, sub_id, allowed=("pending_approval",), new_status=target,
                       level="approval", decision=body.decision, reason=body.reason, extra=check)


class PublishIn(BaseModel):
    url: str = Field("", max_length=1000, description="发布地址 / where it was published")


@router.post("/submissions/{sub_id}/publish", summary="标记已发布 / mark published",
             responses={200: {"model": SubmissionOut}, **errors(401, 403, 404, 409)},
             description="批准后由申请人或管理员标记已发布。\n\nThe owner or an admin marks an approved submission published.")
def publish(sub_id: str, body: PublishIn, p: CurrentPrincipal, st: State):
    def mark(s, sub):
        sub.published_at, sub.published_url = now(), body.url
    return _transition(st, p, sub_id, allowed=("approved",), new_status="published", level="publication",
                       decision="published", reason=body.url, owner_only=True, extra=mark)


@router.get("/submissions/{sub_id}/audit", summary="审计记录 / audit trail",
            responses={200: {"model": list[AuditEntryOut]}, **errors(401, 403, 404)},
            description="本申请的全部审计记录（不含正文与匹配内容）。\n\nAudit entries of this submission (no draft text).")
def submission_audit(sub_id: str, p: CurrentPrincipal, st: State):
    from ..models import AuditEntry
    with st.db.read() as s:
        _get_sub(s, p, sub_id)
        rows = s.execute(select(AuditEntry).where(AuditEntry.object_type == "submission",
                                                  AuditEntry.object_id == sub_id).order_by(AuditEntry.seq)).scalars()
        return [{"seq": e.seq, "ts": e.ts, "actor": e.actor, "role": e.role, "action": e.action,
                 "ip": e.ip, "before": json.loads(e.before) if e.before else None,
                 "after": json.loads(e.after) if e.after else None, "hash": e.hash} for e in rows]
