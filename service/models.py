"""ORM tables (SQLAlchemy 2). Timestamps are epoch seconds (float); audit times are ISO strings.

Draft text and matched values never live in plain columns: uploaded files are encrypted blobs on
disk, and the full report (with segments and matched text) is an encrypted column. Plain columns
hold only metadata, categories, positions and fingerprints.
"""
from __future__ import annotations

import time

from sqlalchemy import (Boolean, Float, ForeignKey, Integer, LargeBinary, String, Text,
                        UniqueConstraint, Index)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class SafeText(TypeDecorator):
    """Text that never carries NUL (PostgreSQL rejects it) or lone surrogates."""
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = str(value)
        if "\x00" in value:
            value = value.replace("\x00", "")
        return value.encode("utf-8", "replace").decode("utf-8")


def now() -> float:
    return time.time()


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(SafeText, default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(SafeText, default="")
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[float] = mapped_column(Float, default=now)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class WebSession(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)   # sha256 of the cookie token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float, default=now)
    expires_at: Mapped[float] = mapped_column(Float)                       # absolute expiry
    last_seen_at: Mapped[float | None] = mapped_column(Float, nullable=True)   # idle expiry from here


class LoginThrottle(Base):
    """Failed logins per account ("u:" + keyed hash of the name) and per client address ("ip:…"):
    after the free attempts each failure doubles the wait (locked_until); an admin can lift it."""
    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure: Mapped[float] = mapped_column(Float, default=now)
    last_failure: Mapped[float] = mapped_column(Float, default=now)
    locked_until: Mapped[float] = mapped_column(Float, default=0.0)


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(SafeText)
    purpose: Mapped[str] = mapped_column(SafeText, default="")
    channel: Mapped[str] = mapped_column(SafeText, default="")
    scope: Mapped[str] = mapped_column(SafeText, default="")
    summary: Mapped[str] = mapped_column(SafeText, default="")
    status: Mapped[str] = mapped_column(String(24), index=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    published_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    published_url: Mapped[str] = mapped_column(SafeText, default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # the 一事一审 number printed on the record (service/recordno.py): fixed when the submission is made
    record_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    updated_at: Mapped[float] = mapped_column(Float, default=now)
    __table_args__ = (UniqueConstraint("owner_id", "idempotency_key", name="uq_submission_idem"),
                      UniqueConstraint("record_no", name="uq_submissions_record_no"))


class RecordCounter(Base):
    """The last 一事一审 sequence number given out in a year (service/recordno.py)."""
    __tablename__ = "record_counters"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Version(Base):
    __tablename__ = "versions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(SafeText)
    media_type: Mapped[str] = mapped_column(String(128), default="")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    blob_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    purged_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    report_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    note: Mapped[str] = mapped_column(SafeText, default="")
    # keyed fingerprint (HMAC) of the version's visible text, whitespace-insensitive: the gate
    # matches an approved upload when a CMS sends the same text as JSON (service.textmac)
    text_mac: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    __table_args__ = (UniqueConstraint("submission_id", "number", name="uq_version_number"),)


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)   # queued running done failed
    error_code: Mapped[str] = mapped_column(String(64), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    claimed_by: Mapped[str] = mapped_column(String(128), default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    pages_done: Mapped[int | None] = mapped_column(Integer, nullable=True)     # OCR of a multi-page scan
    pages_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    principal: Mapped[str] = mapped_column(String(64), default="")   # "u:<id>" or "k:<id>"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    blob_id: Mapped[str] = mapped_column(String(36))
    filename: Mapped[str] = mapped_column(SafeText)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    report_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    updated_at: Mapped[float] = mapped_column(Float, default=now)


class ReportRow(Base):
    __tablename__ = "reports"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(SafeText)
    media_type: Mapped[str] = mapped_column(String(128), default="")
    decision: Mapped[str] = mapped_column(String(8))
    risk_score: Mapped[float] = mapped_column(Float, default=0.0)
    finding_count: Mapped[int] = mapped_column(Integer, default=0)
    categories: Mapped[str] = mapped_column(SafeText, default="")
    error_codes: Mapped[str] = mapped_column(SafeText, default="")
    ruleset_hash: Mapped[str] = mapped_column(String(64), default="")
    scanner_version: Mapped[str] = mapped_column(String(32), default="")
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    purged_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)


class FindingRow(Base):
    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    layer: Mapped[str] = mapped_column(String(32))
    segment_id: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    # explanation, suggestion and location can quote the matched text: they live encrypted in
    # detail_enc (AES-GCM, the finding's report id as associated data), removed by the retention
    # purge; the plain columns stay empty ("" / "{}") for rows written since issue 13
    explanation: Mapped[str] = mapped_column(SafeText, default="")
    suggestion: Mapped[str] = mapped_column(SafeText, default="")
    location: Mapped[str] = mapped_column(SafeText, default="{}")
    detail_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # issue 16: the group (same rule and normalised text: one reviewable item), whether the finding
    # changes the decision (only those need a verdict; rows from before count as needing one) and
    # the allowlist entry that covered it at scan time (it then needs no verdict)
    group_id: Mapped[str] = mapped_column(String(24), default="")
    needs_verdict: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Verdict(Base):
    __tablename__ = "verdicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), unique=True)
    verdict: Mapped[str] = mapped_column(String(16))   # confirmed false_positive accepted_risk
    reason: Mapped[str] = mapped_column(SafeText, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[float] = mapped_column(Float, default=now)
    # a verdict carried over from the previous version (same fingerprint): the verdict it copies
    # and that version's number; user_id/created_at are the original reviewer's. None: given here
    carried_from_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    carried_from_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    batch: Mapped[bool] = mapped_column(Boolean, default=False)     # given by a batch verdict


class FindingAllow(Base):
    """A remembered verdict (issue 16): a reviewer promoted an accepted-risk / false-alarm verdict
    to an entry that later scans and the gate apply (scanner.allowlist). Fingerprints only (the
    keyed HMAC of rule + text), never the matched text."""
    __tablename__ = "finding_allowlist"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    rule_id: Mapped[str] = mapped_column(String(128), default="")
    category: Mapped[str] = mapped_column(String(64), default="")
    scope: Mapped[str] = mapped_column(SafeText, default="everywhere")     # everywhere | site:<id> | submitter:<name>
    label: Mapped[str] = mapped_column(String(16), default="false_alarm")  # false_alarm | accepted
    reason: Mapped[str] = mapped_column(SafeText, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[float] = mapped_column(Float, default=now)
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    revoked_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submission_id: Mapped[str | None] = mapped_column(String(36), nullable=True)   # where it was promoted


class Decision(Base):
    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16))     # review approval publication withdrawal
    decision: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(SafeText, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[float] = mapped_column(Float, default=now)


class AllowEntry(Base):
    __tablename__ = "allowlist"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(SafeText, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[float] = mapped_column(Float, default=now)


class GateRequest(Base):
    __tablename__ = "gate_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal: Mapped[str] = mapped_column(String(64))
    idem_key: Mapped[str] = mapped_column(String(128))
    request_sha: Mapped[str] = mapped_column(String(64))
    response: Mapped[str] = mapped_column(SafeText)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    __table_args__ = (UniqueConstraint("principal", "idem_key", name="uq_gate_idem"),)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(SafeText, default="")
    role: Mapped[str] = mapped_column(String(16), default="")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    before: Mapped[str] = mapped_column(SafeText, default="")
    after: Mapped[str] = mapped_column(SafeText, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)


class AuditHead(Base):
    """One row: the last seq and hash. Appends lock it (serialises the chain); verify compares it
    with the last row, so deleting the newest entries is detected too."""
    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class SiteTarget(Base):
    """A site under 保密检查 (service.site): its start URL, crawl options and schedule."""
    __tablename__ = "site_targets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(SafeText, default="")
    url: Mapped[str] = mapped_column(SafeText)
    options: Mapped[str] = mapped_column(Text, default="{}")          # JSON: max_pages, max_depth, …
    schedule: Mapped[str] = mapped_column(String(16), default="off")  # off daily weekly
    at_time: Mapped[str] = mapped_column(String(5), default="02:00")  # HH:MM, 北京时间 (UTC+8)
    weekday: Mapped[int] = mapped_column(Integer, default=0)          # weekly: 0 = Monday
    next_run_at: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    updated_at: Mapped[float] = mapped_column(Float, default=now)


class SiteRun(Base):
    """One inspection run of a target. `state` is the run file (URLs, hashes, decisions, categories:
    no text); the report (page titles, matched text) is stored encrypted in report_enc."""
    __tablename__ = "site_runs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("site_targets.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)      # queued running done failed
    trigger: Mapped[str] = mapped_column(String(16), default="manual")   # manual schedule
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    since_run_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    progress: Mapped[str] = mapped_column(Text, default="{}")       # JSON: stage, fetched, scanned, total
    summary: Mapped[str] = mapped_column(Text, default="{}")        # JSON: counts only
    state: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON run file (scanner.site.state)
    report_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_code: Mapped[str] = mapped_column(String(64), default="")
    lease_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


# -- 档案保密审查 (service.archive): a batch of archive items, 初审 → 复核 → 审核 ----------------------------
class ArchiveBatch(Base):
    __tablename__ = "archive_batches"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(SafeText, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)     # service.archive.STATES
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    filename: Mapped[str] = mapped_column(SafeText, default="")
    catalog_blob_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    catalog_name: Mapped[str] = mapped_column(SafeText, default="")
    as_of: Mapped[str] = mapped_column(String(10), default="")      # the review date (ISO), for 保密期限 and 25 years
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    unmatched: Mapped[str] = mapped_column(SafeText, default="[]")  # catalogue rows no item linked to (JSON)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    updated_at: Mapped[float] = mapped_column(Float, default=now)


class ArchiveItem(Base):
    __tablename__ = "archive_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("archive_batches.id"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(SafeText)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    # the machine's suggestion (scanner.archive.Assessment + the catalogue row and how it was linked),
    # JSON without any matched text
    suggestion: Mapped[str] = mapped_column(SafeText, default="{}")
    # the current decision of each step (JSON: attribute, level, access, reason; "" = none yet)
    initial: Mapped[str] = mapped_column(SafeText, default="")
    recheck: Mapped[str] = mapped_column(SafeText, default="")
    final: Mapped[str] = mapped_column(SafeText, default="")
    __table_args__ = (UniqueConstraint("batch_id", "path", name="uq_archive_item_path"),)


class ArchiveDecision(Base):
    """Every decision of a step, per item (item_id) or on the batch (item_id NULL: the step
    completed or returned), in order: the record of who decided what."""
    __tablename__ = "archive_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("archive_batches.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("archive_items.id"), nullable=True)
    step: Mapped[str] = mapped_column(String(16))            # initial recheck final
    decision: Mapped[str] = mapped_column(String(24))        # secret non_secret (items); complete return (batch)
    level: Mapped[str] = mapped_column(String(8), default="")
    access: Mapped[str] = mapped_column(String(8), default="")
    reason: Mapped[str] = mapped_column(SafeText, default="")
    bulk: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[float] = mapped_column(Float, default=now)
