"""The review that scales (issue 16) over HTTP: a version's findings filtered, sorted and grouped;
batch verdicts by filter; promoting a verdict to a fingerprint allowlist entry; the entries
(revoke, expire); the precision of each rule from the reviewers' verdicts. The rules are
service.workflow's and service.remembered's; these handlers parse, call them and answer."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from .. import remembered, workflow
from ..deps import CurrentPrincipal, Requires, State
from ..schemas import errors

router = APIRouter(prefix="/api/v1", tags=["review 审查结论与白名单"])

Verdict = Literal["confirmed", "false_positive", "accepted_risk"]


class FilterIn(BaseModel):
    category: str = Field("", max_length=200, description="类别前缀，逗号分隔 / category prefixes, comma separated")
    severity: str = Field("", max_length=100, description="info/low/medium/high/critical，逗号分隔")
    layer: str = Field("", max_length=200, description="body/table/comment/metadata/…，逗号分隔")
    state: str = Field("", max_length=100, description="open/judged/carried/not_needed/allowlisted，逗号分隔")
    text: str = Field("", max_length=200, description="匹配原文包含 / matched text contains (never logged)")

    def flt(self) -> workflow.FindingFilter:
        return workflow.FindingFilter(**self.model_dump())


@router.get("/submissions/{sub_id}/findings", summary="发现列表（筛选、排序、分组）/ findings, filtered and grouped",
            dependencies=[Requires("submission.view")], responses=errors(401, 403, 404),
            description="当前版本（或 `version`）的发现：按类别、严重程度、内容层、审查状态、原文筛选并排序；相同规则与原文的发现"
                        "合并为一项（`occurrences`）；附每类计数与待审数。\n\nFindings of a version filtered, sorted and "
                        "grouped (same rule and text once, with its occurrences), counts per category and state.")
def list_findings(sub_id: str, p: CurrentPrincipal, st: State,
                  category: str = Query("", max_length=200), severity: str = Query("", max_length=100),
                  layer: str = Query("", max_length=200), state: str = Query("", max_length=100),
                  text: str = Query("", max_length=200),
                  sort: Literal["position", "category", "severity", "layer", "state"] = "position",
                  version: int | None = Query(None, ge=1)):
    flt = workflow.FindingFilter(category=category, severity=severity, layer=layer, state=state, text=text)
    return workflow.findings_view(st, p, sub_id, flt, sort, version)


class BatchIn(BaseModel):
    filter: FilterIn
    verdict: Verdict
    reason: str = Field(min_length=2, max_length=2000, description="一个理由用于全部 / one reason for all")
    only_open: bool = Field(True, description="只给尚无结论的发现 / only findings without a verdict")


@router.post("/submissions/{sub_id}/verdicts", summary="批量审查结论 / batch verdict by filter",
             dependencies=[Requires("verdict")], responses=errors(401, 403, 404, 409, 422),
             description="按筛选条件（类别、严重程度、内容层、状态、原文）一次给出同一结论与理由；审计记录一条，含数量。\n\n"
                         "One verdict and reason for every finding the filter selects; one audit entry with the count.")
def batch(sub_id: str, body: BatchIn, p: CurrentPrincipal, st: State):
    return workflow.batch_verdict(st, p, sub_id, body.filter.flt(), body.verdict, body.reason, body.only_open)


class PromoteIn(BaseModel):
    scope: Literal["submitter", "site", "everywhere"] = Field(
        description="submitter 本申请人 / site 本网站（拟发布渠道）/ everywhere 全部")
    reason: str = Field(min_length=2, max_length=500)
    expires: str | None = Field(None, max_length=40, description="有效期（YYYY-MM-DD），空为长期 / expiry date")


@router.post("/submissions/{sub_id}/findings/{finding_id}/allowlist", status_code=201,
             summary="结论加入白名单 / promote a verdict to the allowlist", dependencies=[Requires("allowlist.promote")],
             responses=errors(401, 403, 404, 409, 422),
             description="把误报或接受风险的结论记为白名单条目（仅指纹，不含原文）：之后的扫描与发布闸门按范围自动套用并显示理由。"
                         "禁止发布级别的发现不能加入。\n\nAn accepted-risk / false-alarm verdict becomes an allowlist entry "
                         "(fingerprint only) that later scans and the gate apply with the reason shown.")
def promote(sub_id: str, finding_id: int, body: PromoteIn, p: CurrentPrincipal, st: State):
    return workflow.promote(st, p, sub_id, finding_id, body.scope, body.reason, body.expires)


@router.get("/admin/allowlist/entries", summary="指纹白名单条目 / fingerprint allowlist entries",
            dependencies=[Requires("allowlist.view")], responses=errors(401, 403),
            description="全部条目（生效、已过期、已撤销），含范围、理由、有效期、创建人；不含原文。\n\n"
                        "Every entry with its scope, reason, expiry, who and status; no matched text.")
def entries(st: State, active_only: bool = False):
    return remembered.list_entries(st, include_inactive=not active_only)


def _end_route(how: Literal["revoke", "expire"], summary: str, description: str) -> None:
    """POST /admin/allowlist/entries/{entry_id}/<how>: approver/admin ends an entry (audited)."""
    @router.post(f"/admin/allowlist/entries/{{entry_id}}/{how}", summary=summary, name=how,
                 dependencies=[Requires("allowlist.edit")], responses=errors(401, 403, 404, 409), description=description)
    def end(entry_id: int, p: CurrentPrincipal, st: State):
        return remembered.end_entry(st, p.actor, p.user_id, entry_id, how)


_end_route("revoke", "撤销白名单条目 / revoke an entry",
           "审批人或管理员撤销一条生效的白名单条目，之后的扫描与闸门不再套用（记入审计）。\n\n"
           "Approver/admin revokes an active entry; later scans and the gate stop applying it (audited).")
_end_route("expire", "令白名单条目立即到期 / expire an entry now",
           "审批人或管理员令一条白名单条目立即到期（记入审计）。\n\n"
           "Approver/admin lets an active entry expire now (audited).")


@router.get("/admin/precision", summary="各规则精确率 / precision per rule from verdicts",
            dependencies=[Requires("admin")], responses=errors(401, 403),
            description="最近 `days` 天审查人对每条规则的结论：确认（确认风险、接受风险）与排除（误报），精确率最低的在前。\n\n"
                        "Per rule, confirmed vs dismissed verdicts in the last `days` days, worst precision first.")
def precision(st: State, days: int = Query(30, ge=1, le=3660)):
    return {"days": days, "rules": workflow.precision(st, days)}
