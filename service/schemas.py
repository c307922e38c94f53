"""Response schemas for the OpenAPI document (documented with `responses=`, so they describe the
contract without filtering what the handlers return)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="稳定的错误代码 / stable machine code, e.g. not_owner, queue_full")
    message: str = Field(description="中文说明 / message for people (Chinese)")


class ErrorOut(BaseModel):
    error: ErrorBody


class FindingOut(BaseModel):
    category: str = Field(description="类别（如 marking.level、pii.id_card）/ dotted category")
    rule_id: str
    text: str = Field(description="匹配的原文（仅本报告可见，不进日志与审计）/ matched text")
    start: int = Field(description="段内码点偏移 / code-point offset into the segment text")
    end: int
    layer: str = Field(description="body/table/header/footer/revision/comment/hidden/metadata/...")
    segment_id: int
    location: dict[str, Any]
    severity: str = Field(description="info/low/medium/high/critical")
    confidence: float
    explanation: str = Field(description="为什么是风险 / why")
    suggestion: str = Field(description="修改建议 / suggested fix")
    evidence: list[str] = []
    fingerprint: str = Field(description="规则+匹配文本的指纹（不含明文）/ fingerprint, no plaintext")
    group: str = Field("", description="相同规则与原文的发现同组，作为一项审查 / same rule and text: one reviewable item")
    needs_verdict: bool = Field(False, description="影响结论、需要审查结论 / changes the decision, needs a verdict")
    allowlisted: dict[str, Any] | None = Field(None, description="白名单条目 {reason, entry, scope, who, label, expires} "
                                                                 "/ the allowlist entry that covers it")
    id: int | None = Field(None, description="发现编号（申请详情中），用于逐条审查 / finding id in a submission")
    verdict: dict[str, Any] | None = Field(None, description="审查结论（verdict, reason, user_id, created_at, "
                                                             "carried_from_version 沿用自第几版, batch 批量）/ reviewer verdict")
    state: str | None = Field(None, description="open 待审 / judged / carried 沿用 / not_needed 提示 / allowlisted 白名单")
    state_label: str | None = Field(None, description="审查状态中文名（沿用的结论注明第几版）/ the state in Chinese")


class ScanErrorOut(BaseModel):
    code: str
    message: str
    detail: str = ""


class SegmentOut(BaseModel):
    id: int
    layer: str
    text: str
    locator: dict[str, Any]


class ReportOut(BaseModel):
    """The report contract (DESIGN.md)."""
    report_id: str
    source: str
    sha256: str
    media_type: str = ""
    decision: str = Field(description="pass / review / block")
    risk_score: float
    decision_reasons: list[str] = []
    findings: list[FindingOut]
    errors: list[ScanErrorOut] = Field(description="无法读取的部分；有错误时结论不会是 pass / unreadable parts (fail closed)")
    scanner_version: str
    ruleset_hash: str
    model_version: str = ""
    timings_ms: dict[str, float] = {}
    segments: list[SegmentOut] | None = Field(None, description="segments=true 时 / with segments=true")
    purged: bool | None = Field(None, description="保留期已过，仅余摘要 / past retention: summary only")


class JobOut(BaseModel):
    job_id: str
    status: str = Field(description="queued / running / done / failed")
    progress: float = Field(description="0–1")
    pages_done: int | None = Field(None, description="多页扫描件已识别页数 / pages of a multi-page scan OCR'd so far")
    pages_total: int | None = Field(None, description="需识别的页数 / pages to OCR")
    attempts: int
    error_code: str | None = Field(None, description="failed:poison, failed:blob_missing, ...")
    status_url: str
    report_id: str | None
    report_url: str | None
    queue_position: int | None = None


class OwnerOut(BaseModel):
    id: int
    username: str
    display_name: str


class SubmissionOut(BaseModel):
    id: str
    record_no: str = Field(description="一事一审编号，如 保审〔2026〕17号（创建时确定，不再改变）/ record number")
    title: str = Field(description="信息名称 / title")
    purpose: str = Field(description="发布目的 / purpose")
    channel: str = Field(description="拟发布渠道 / intended channel")
    scope: str = Field(description="拟公开范围 / intended publication scope")
    summary: str = Field(description="内容摘要 / summary")
    status: str = Field(description="scanning / pending_review / changes_requested / escalated / pending_approval / approved / published / rejected / withdrawn")
    status_label: str = Field(description="状态中文名 / status in Chinese")
    current_version: int
    owner: OwnerOut
    decision: str | None
    risk_score: float | None
    finding_count: int | None
    categories: list[str]
    created_at: float
    updated_at: float
    published_at: float | None
    job_id: str | None = None
    url: str | None = None


class VersionOut(BaseModel):
    number: int
    filename: str
    media_type: str
    size: int
    sha256: str
    created_at: float
    report_id: str | None
    purged: bool
    job: dict[str, Any] | None


class DiffItem(BaseModel):
    fingerprint: str
    category: str


class DiffOut(BaseModel):
    from_version: int
    to_version: int
    resolved: list[DiffItem] = Field(description="上一版有、本版已消除 / fixed since the previous version")
    added: list[DiffItem]
    unchanged: list[DiffItem]


class DecisionOut(BaseModel):
    level: str = Field(description="review / approval / publication / submission")
    decision: str
    label: str
    reason: str
    version: int
    user_id: int
    created_at: float


class SubmissionDetailOut(SubmissionOut):
    versions: list[VersionOut]
    report: ReportOut | None
    diff: DiffOut | None
    decisions: list[DecisionOut]


class SubmissionListOut(BaseModel):
    total: int
    counts: dict[str, int] = Field(description="按状态计数 / counts by status")
    items: list[SubmissionOut]


class VerdictOut(BaseModel):
    finding_id: int
    verdict: str
    reason: str
    occurrences: int = Field(1, description="同组发现数（结论适用于全部）/ findings of the group that got it")


class AuditEntryOut(BaseModel):
    seq: int
    ts: str
    actor: str
    role: str
    action: str
    ip: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    count: int
    broken_at: int | None
    reason: str


class HealthOut(BaseModel):
    status: str
    db: str
    workers: int
    queued: int
    running: int
    isolated_extraction: bool


def errors(*codes: int) -> dict:
    desc = {400: "请求错误 / bad request", 401: "未认证 / not authenticated", 403: "无权限（带代码）/ forbidden (with a code)",
            404: "不存在 / not found", 408: "请求体超时 / body timeout", 409: "状态冲突 / invalid state",
            413: "过大 / too large", 415: "类型不支持 / unsupported type", 422: "参数错误（不回显输入）/ invalid (input not echoed)",
            429: "个人队列已满 / too many jobs", 503: "队列已满 / queue full", 507: "存储已满 / storage full"}
    return {c: {"model": ErrorOut, "description": desc[c]} for c in codes}
