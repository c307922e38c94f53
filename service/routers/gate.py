"""POST /gate: the CMS asks before it publishes. Fast, idempotent, fail-closed."""
from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from scanner.model import Report

from .. import audit, remembered, workflow
from ..deps import CurrentPrincipal, Principal, Requires, State
from ..errors import err
from ..intake import Draft, read_draft
from ..reports import insert_report, load_report, prepare_report, scan_draft, text_mac
from ..models import AllowEntry, GateRequest, ReportRow, Submission, Version
from ..schemas import errors
from ..state import ServiceState
from .scan import UPLOAD_BODY

router = APIRouter(prefix="/api/v1", tags=["gate 发布前闸门"])

# each category's reason says what that category itself decided (the policy's decision_reasons
# "category:decision"), not the overall decision: a phone number beside a marking is not 禁止发布
REASON_TEXT = {"block": "禁止发布", "review": "需人工审查", "low": "提示（不影响结论）"}


def category_reasons(cats: list[str], decision_reasons: list[str]) -> list[str]:
    """One reason per category, labelled with that category's own decision, most severe first."""
    rank = {"block": 0, "review": 1, "low": 2}
    judged = {}
    for c in cats:
        judged[c] = ("block" if f"{c}:block" in decision_reasons else
                     "review" if f"{c}:review" in decision_reasons else "low")
    return [f"{REASON_TEXT[d]}：{c}" for c, d in sorted(judged.items(), key=lambda x: (rank[x[1]], x[0]))]


class GateOut(BaseModel):
    allow: bool = Field(description="是否允许发布 / may the CMS publish")
    decision: str = Field(description="扫描结论 pass/review/block / scanner decision")
    reasons: list[str] = Field(description="原因（类别与说明）/ reasons")
    report_id: str
    approved_submission_id: str | None = None
    cached: bool = Field(False, description="按内容哈希复用了已有报告 / reused a report by content hash")


def _approved_submission(s, sha: str, tmac: str | None = None) -> str | None:
    """An approved/published submission whose current version is this content (the same bytes,
    or the same published text: a CMS sends as JSON what was uploaded as a file) and whose
    sign-offs obey separation of duties (workflow.approval_stands)."""
    same = Version.sha256 == sha if tmac is None else or_(Version.sha256 == sha, Version.text_mac == tmac)
    q = (select(Submission).join(Version, Version.submission_id == Submission.id)
         .where(same, Version.number == Submission.current_version,
                Submission.status.in_(("approved", "published"))))
    for sub in s.execute(q).scalars():
        if workflow.approval_stands(sub):
            return sub.id
    return None


def gate_decide(st: ServiceState, p: Principal, d: Draft, idem_key: str | None,
                scope: remembered.Scope | None = None) -> tuple[dict, bool]:
    """`scope`: the site (and author, when the CMS names one) the content is published on, for
    the fingerprint allowlist (service.remembered)."""
    scope = scope or remembered.Scope()
    req_sha = hashlib.sha256(d.sha256.encode() + b"|" + d.filename.encode() + b"|"
                             + f"{scope.site}|{scope.submitter}".encode()).hexdigest()
    sc = st.get_gate_scanner()
    if idem_key:
        with st.db.read() as s:
            prev = s.execute(select(GateRequest).where(GateRequest.principal == p.tag,
                                                       GateRequest.idem_key == idem_key)).scalar_one_or_none()
            if prev is not None:
                if prev.request_sha != req_sha:
                    raise err(409, "idempotency_key_reused", "同一 Idempotency-Key 已用于不同内容。")
                return json.loads(prev.response), True
    # content-hash idempotency: same bytes under the same rules -> same report, no re-scan
    with st.db.read() as s:
        cached = s.execute(select(ReportRow).where(ReportRow.sha256 == d.sha256,
                                                   ReportRow.ruleset_hash == sc.ruleset_hash,
                                                   ReportRow.scanner_version == _scanner_version())
                           .order_by(ReportRow.created_at.desc()).limit(1)).scalar_one_or_none()
        full = load_report(st, cached, with_segments=True) if cached else {}
        if full.get("purged"):          # only the plain columns left: scan again (never judge from nothing)
            cached, full = None, {}
        cached_info = (cached.id, cached.decision, cached.categories, cached.error_codes,
                       full.get("decision_reasons") or [], text_mac(st, full.get("segments") or [])) if cached else None
    report = None
    if cached_info is None:
        report = scan_draft(st, d.data, d.filename, text_input=d.from_json, scanner=sc, sync=True)
        report = remembered.apply_entries(st, report, scope, scanner=sc)
        judged_report = report
        tmac = text_mac(st, report.segments)
    else:
        # the stored report again, with the allowlist as it is now and for this site
        judged_report = remembered.apply_entries(st, Report.from_dict(full), scope, scanner=sc)
        tmac = cached_info[5]
    decision = judged_report.decision
    cats = sorted({f.category for f in judged_report.findings if not f.allowlisted})
    errs = sorted({e.code for e in judged_report.errors})
    judged = list(judged_report.decision_reasons)
    spared = {(f.allowlisted or {}).get("entry"): (f.rule_id, (f.allowlisted or {}).get("reason", ""))
              for f in judged_report.findings if f.allowlisted}
    prep = prepare_report(st, report, p.user_id) if report is not None else None

    def keep(s) -> dict:
        rid = insert_report(s, prep).id if prep is not None else cached_info[0]
        approved = allow_entry = None
        reasons = category_reasons(cats, judged) if decision != "pass" else []
        reasons += [f"无法完整读取：{e}" for e in errs]
        reasons += [f"白名单：{rule}（{why}）" for rule, why in sorted(spared.values())]
        allow = decision == "pass"
        if decision == "review":
            allow_entry = s.execute(select(AllowEntry).where(AllowEntry.sha256 == d.sha256)).scalar_one_or_none()
            approved = _approved_submission(s, d.sha256, tmac)
            if allow_entry is not None:
                allow = True
                reasons.append("内容在白名单中（已人工确认可发布）")
            elif approved:
                allow = True
                reasons.append(f"同一内容已通过保密审查与审批（申请 {approved}）")
        out = {"allow": allow, "decision": decision, "reasons": reasons, "report_id": rid,
               "approved_submission_id": approved, "cached": report is None}
        if idem_key:
            s.add(GateRequest(principal=p.tag, idem_key=idem_key, request_sha=req_sha,
                              response=json.dumps(out, ensure_ascii=False)))
        audit.append(s, p.actor, "gate.checked", "report", rid,
                     after={"allow": allow, "decision": decision, "sha256": d.sha256,
                            "categories": cats, "approved_submission": approved,
                            "allowlisted": allow_entry is not None,
                            "allowlist_entries": sorted(str(k) for k in spared)})
        return out
    # concurrent requests' rows share one commit (service.db.write_grouped); answered once committed
    out = st.db.write_grouped(keep)
    allow = out["allow"]
    st.metrics.inc("baomi_gate_total", allow=str(allow).lower(), decision=decision)
    return out, False


def _scanner_version() -> str:
    from scanner import __version__
    return __version__


@router.post("/gate", response_model=GateOut, summary="发布前闸门 / publication gate", dependencies=[Requires("gate")],
             responses=errors(400, 401, 403, 409, 413, 415, 422),
             openapi_extra={**UPLOAD_BODY, "parameters": [{
                 "name": "Idempotency-Key", "in": "header", "required": False,
                 "schema": {"type": "string", "maxLength": 128},
                 "description": "重试时复用同一结果 / replay the same answer on retries"},
                 {"name": "site", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 200},
                  "description": "发布网站/渠道（与申请的拟发布渠道相同），用于按网站生效的白名单 / the site, for "
                                 "site-scoped allowlist entries"},
                 {"name": "submitter", "in": "query", "required": False,
                  "schema": {"type": "string", "maxLength": 200},
                  "description": "作者用户名，用于按申请人生效的白名单 / the author, for submitter-scoped entries"}]},
             description="CMS 发布前调用：正文（JSON）或文件，返回 `{allow, decision, reasons, report_id}`。"
                         "block 一律不放行；review 仅当内容在白名单中、或同一内容（SHA-256）的申请已审批通过时放行；"
                         "无法读取的内容按 review 处理（失败即关闭）。按 Idempotency-Key 和内容哈希幂等。\n\n"
                         "For a CMS before publishing. block never passes; review passes only for an allowlisted hash or "
                         "content identical to an approved submission; unreadable content is review (fail closed). "
                         "Idempotent on Idempotency-Key and on content hash. Needs scope `gate`.")
async def gate(request: Request, p: CurrentPrincipal, st: State):
    idem = request.headers.get("idempotency-key")
    if idem is not None and (len(idem) > 128 or not idem.isprintable()):
        raise err(400, "bad_idempotency_key", "Idempotency-Key 格式不正确。")
    site = request.query_params.get("site") or request.headers.get("x-baomi-site") or None
    submitter = request.query_params.get("submitter") or None
    for v in (site, submitter):
        if v is not None and (len(v) > 200 or not v.isprintable()):
            raise err(400, "bad_scope", "site / submitter 参数格式不正确。")
    d = await read_draft(request)
    out, replay = await run_in_threadpool(gate_decide, st, p, d, idem,
                                          remembered.Scope(site=site, submitter=submitter))
    return JSONResponse(out, headers={"Idempotent-Replay": "true"} if replay else None)


class AllowIn(BaseModel):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="内容 SHA-256 / content hash")
    reason: str = Field(min_length=2, max_length=500, description="放行理由 / reason")


@router.post("/admin/allowlist", status_code=201, summary="添加白名单 / add allowlist entry",
             dependencies=[Requires("allowlist.edit")],
             description="经人工确认可发布的内容哈希，闸门对其 review 结论放行（仅审批人或管理员）。\n\n"
                         "A content hash confirmed publishable; the gate turns review into allow (approver/admin).")
def add_allow(body: AllowIn, p: CurrentPrincipal, st: State):
    with st.db.write() as s:
        if s.execute(select(AllowEntry).where(AllowEntry.sha256 == body.sha256)).first():
            raise err(409, "already_allowlisted", "该内容已在白名单中。")
        e = AllowEntry(sha256=body.sha256, reason=body.reason, created_by=p.user_id)
        s.add(e)
        s.flush()
        audit.append(s, p.actor, "allowlist.added", "allowlist", str(e.id), after={"sha256": body.sha256})
        return {"id": e.id, "sha256": e.sha256, "reason": e.reason}


@router.get("/admin/allowlist", summary="白名单 / allowlist", description="审批人或管理员。\n\nApprover/admin.",
            dependencies=[Requires("allowlist.view")])
def list_allow(st: State):
    with st.db.read() as s:
        return [{"id": e.id, "sha256": e.sha256, "reason": e.reason, "created_by": e.created_by,
                 "created_at": e.created_at} for e in s.execute(select(AllowEntry)).scalars()]


@router.delete("/admin/allowlist/{entry_id}", status_code=204, summary="移除白名单 / remove allowlist entry",
               description="审批人或管理员。\n\nApprover/admin.", dependencies=[Requires("allowlist.edit")])
def del_allow(entry_id: int, p: CurrentPrincipal, st: State):
    with st.db.write() as s:
        e = s.get(AllowEntry, entry_id)
        if e is None:
            raise err(404, "not_found", "条目不存在。")
        audit.append(s, p.actor, "allowlist.removed", "allowlist", str(e.id), before={"sha256": e.sha256})
        s.delete(e)
    return Response(status_code=204)
