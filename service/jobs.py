"""Reports, the durable job queue and the workers.

A job row is committed (with its encrypted blob already fsynced) before an upload is
acknowledged. Workers claim jobs with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL; BEGIN
IMMEDIATE serialises claims on SQLite), scan, and write the report, findings, job state and
audit entry in one transaction. A job whose worker died is taken again after its lease expires
(or at start-up, when its claiming process is gone); after job_max_attempts it fails closed:
the submission goes to a human with a `service.job_failed` error in its report.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid

from sqlalchemy import and_, func, or_, select, text, update

from . import audit
from .faults import fault
from .models import FindingRow, Job, ReportRow, Submission, Version, now
from .state import ServiceState

log = logging.getLogger("baomi.service")
HOST = socket.gethostname()
TERMINAL_JOB = ("done", "failed")


def worker_tag() -> str:
    return f"{HOST}:{os.getpid()}:{threading.get_ident()}"


# -- reports ------------------------------------------------------------------------------------
def store_report(s, st: ServiceState, report, created_by: int | None) -> ReportRow:
    rid = str(uuid.uuid4())
    full = report.to_dict(with_segments=True)
    row = ReportRow(id=rid, sha256=report.sha256 or "", source=report.source[:255],
                    media_type=report.media_type or "", decision=report.decision,
                    risk_score=float(report.risk_score), finding_count=len(report.findings),
                    categories=",".join(sorted({f.category for f in report.findings})),
                    error_codes=",".join(sorted({e.code for e in report.errors})),
                    ruleset_hash=report.ruleset_hash, scanner_version=report.scanner_version,
                    body_enc=st.cipher.encrypt(json.dumps(full, ensure_ascii=False).encode("utf-8"),
                                               aad=rid.encode()),
                    created_by=created_by)
    s.add(row)
    s.flush()
    for i, f in enumerate(report.findings):
        s.add(FindingRow(report_id=rid, idx=i, category=f.category, rule_id=f.rule_id,
                         severity=f.severity, confidence=float(f.confidence), layer=f.layer,
                         segment_id=f.segment_id, start=f.start, end=f.end,
                         fingerprint=f.fingerprint, explanation=f.explanation,
                         suggestion=f.suggestion,
                         location=json.dumps(f.location, ensure_ascii=False, default=str)))
    return row


def load_report(st: ServiceState, row: ReportRow, with_segments: bool = False) -> dict:
    """The report contract. After the retention purge only the plain columns remain."""
    if row.body_enc is None:
        d = {"source": row.source, "sha256": row.sha256, "media_type": row.media_type,
             "decision": row.decision, "risk_score": row.risk_score, "findings": [], "errors": [],
             "purged": True, "scanner_version": row.scanner_version, "ruleset_hash": row.ruleset_hash}
    else:
        d = json.loads(st.cipher.decrypt(row.body_enc, aad=row.id.encode()))
        if not with_segments:
            d.pop("segments", None)
    d["report_id"] = row.id
    return d


def failed_report(source: str, sha256: str, code: str):
    from scanner import __version__
    from scanner.model import Report, ScanError
    return Report(source=source, sha256=sha256, decision="review", risk_score=1.0, findings=[],
                  errors=[ScanError("service.job_failed",
                                    "自动审查未能完成（解析失败或超出资源限制），需人工审查。", code)],
                  scanner_version=__version__, ruleset_hash="", model_version="", timings_ms={})


def report_audit_summary(report) -> dict:
    return {"decision": report.decision, "findings": len(report.findings),
            "fingerprints": [f.fingerprint for f in report.findings][:200],
            "errors": sorted({e.code for e in report.errors})}


def scan_draft(st: ServiceState, data: bytes, filename: str, text_input: bool = False, scanner=None):
    """Scan a draft. Plain text from JSON is scanned in process (no parser involved); files go
    through the isolated extractor (a child process with rlimits) when available: the bytes are
    written to data/tmp/<uuid>.work (0600) for the child and removed right after."""
    sc = scanner or st.get_scanner()
    if text_input:
        return sc.scan_text(data.decode("utf-8", "replace"), source=filename)
    if not st.isolated:
        return sc.scan_bytes(data, source=filename, isolated=False)
    work = st.blobs.tmp / f"{uuid.uuid4()}.work"
    fd = os.open(work, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return sc.scan_file(work, source=filename, isolated=True)
    finally:
        work.unlink(missing_ok=True)


# -- queue ----------------------------------------------------------------------------------------
def queue_depth(s, principal: str | None = None) -> int:
    q = select(func.count()).select_from(Job).where(Job.status.in_(("queued", "running")))
    if principal:
        q = q.where(Job.principal == principal)
    return int(s.execute(q).scalar_one())


def queue_guard(s, st: ServiceState) -> None:
    """Inside an enqueuing write transaction: serialise enqueuers (SQLite already holds the
    writer lock; PostgreSQL takes a transaction advisory lock) and enforce the bound exactly."""
    if not st.db.is_sqlite:
        s.execute(text("SELECT pg_advisory_xact_lock(724201)"))
    if queue_depth(s) >= st.settings.queue_max:
        from .errors import err
        raise err(503, "queue_full", "审查队列已满，请稍后重试。", headers={"Retry-After": "10"})


def new_job(s, *, blob_id: str, filename: str, sha256: str, size: int, principal: str,
            user_id: int | None, version_id: str | None = None) -> Job:
    job = Job(id=str(uuid.uuid4()), status="queued", blob_id=blob_id, filename=filename,
              sha256=sha256, size=size, principal=principal, user_id=user_id,
              version_id=version_id)
    s.add(job)
    return job


def claim(st: ServiceState, tag: str) -> str | None:
    t = now()
    ready = or_(Job.status == "queued", and_(Job.status == "running", Job.lease_until < t))
    with st.db.read() as s:      # cheap check without taking the writer lock
        if s.execute(select(Job.id).where(ready).limit(1)).first() is None:
            return None
    with st.db.write() as s:
        q = select(Job).where(ready).order_by(Job.created_at).limit(1)
        if not st.db.is_sqlite:
            q = q.with_for_update(skip_locked=True)
        job = s.execute(q).scalar_one_or_none()
        if job is None:
            return None
        if job.attempts >= st.settings.job_max_attempts:
            _finish_failed(s, st, job, "failed:poison")
            return None
        job.status, job.attempts, job.claimed_by = "running", job.attempts + 1, tag
        job.lease_until, job.progress, job.updated_at = t + st.settings.job_lease_s, 0.1, t
        return job.id


def run_job(st: ServiceState, job_id: str, tag: str) -> None:
    t0 = time.perf_counter()
    with st.db.read() as s:
        job = s.get(Job, job_id)
        blob_id, filename, sha = job.blob_id, job.filename, job.sha256
    try:
        data = st.blobs.get(blob_id)
        report = scan_draft(st, data, filename)
        del data
    except Exception as exc:       # the scanner maps parser failures itself; this is a bug/IO
        log.error("job %s failed type=%s", job_id, type(exc).__name__)
        with st.db.write() as s:
            job = s.get(Job, job_id)
            if job.status == "running" and job.claimed_by == tag:
                if job.attempts >= st.settings.job_max_attempts:
                    _finish_failed(s, st, job, "failed:" + type(exc).__name__[:40])
                else:
                    job.status, job.lease_until = "queued", None
        return
    fault("in_worker_before_result")
    with st.db.write() as s:
        job = s.get(Job, job_id)
        if job.status != "running" or job.claimed_by != tag:
            return               # lease lost to another worker; its result wins
        _finish(s, st, job, report, "done", "")
    fault("in_worker_after_result")
    st.metrics.inc("baomi_scans_total", decision=report.decision, path="job")
    st.metrics.observe("baomi_job_seconds", time.perf_counter() - t0)
    log.info("job %s done decision=%s findings=%d", job_id, report.decision, len(report.findings))


def _finish_failed(s, st: ServiceState, job: Job, code: str) -> None:
    _finish(s, st, job, failed_report(job.filename, job.sha256, code), "failed", code)


def _finish(s, st: ServiceState, job: Job, report, status: str, code: str) -> None:
    row = store_report(s, st, report, job.user_id)
    job.status, job.error_code, job.report_id = status, code, row.id
    job.progress, job.lease_until, job.updated_at = 1.0, None, now()
    after = report_audit_summary(report)
    if job.version_id:
        ver = s.get(Version, job.version_id)
        ver.report_id = row.id
        sub = s.get(Submission, ver.submission_id)
        if sub.status == "scanning" and sub.current_version == ver.number:
            sub.status, sub.updated_at = "pending_review", now()
        audit.append(s, audit.SYSTEM, "scan.completed", "submission", sub.id,
                     before={"status": "scanning"},
                     after={**after, "version": ver.number, "report_id": row.id, "job": job.id,
                            "status": sub.status})
    else:
        audit.append(s, audit.SYSTEM, "scan.completed", "job", job.id,
                     after={**after, "report_id": row.id})
    st.metrics.inc("baomi_jobs_total", status=status, code=code or "ok")


# -- start-up sweep, retention, workers ---------------------------------------------------------------
def startup_sweep(st: ServiceState) -> dict:
    """Requeue jobs whose claiming process on this host is gone; delete stale .part files;
    report blobs without rows and rows without blobs (integrity alarms)."""
    requeued = 0
    with st.db.write() as s:
        for job in s.execute(select(Job).where(Job.status == "running")).scalars():
            host, _, rest = job.claimed_by.partition(":")
            pid = int(rest.split(":")[0]) if rest.split(":")[0].isdigit() else -1
            if host == HOST and not _alive(pid) or (job.lease_until or 0) < now():
                job.status, job.lease_until = "queued", None
                requeued += 1
    parts = st.blobs.sweep_tmp(older_than_s=0)
    with st.db.read() as s:
        referenced = {b for (b,) in s.execute(select(Version.blob_id).where(Version.blob_id.is_not(None)))}
        referenced |= {b for (b,) in s.execute(select(Job.blob_id).where(Job.status.in_(("queued", "running"))))}
        pending = {b for (b,) in s.execute(select(Job.blob_id).where(Job.status.in_(("queued", "running"))))}
    on_disk = st.blobs.list_ids()
    missing = sorted(b for b in pending if b not in on_disk)
    out = {"requeued": requeued, "part_files_removed": parts, "rows_without_blob": len(missing)}
    if missing:
        log.error("integrity: %d queued jobs without blob", len(missing))
        with st.db.write() as s:
            for job in s.execute(select(Job).where(Job.blob_id.in_(missing))).scalars():
                _finish_failed(s, st, job, "failed:blob_missing")
    log.info("startup sweep %s", out)
    return out


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
        return pid != os.getpid()
    except OSError:
        return False


def purge_expired(st: ServiceState, at: float | None = None) -> dict:
    """Delete draft blobs and full report bodies older than the retention period. Submissions,
    versions, findings (positions, categories, fingerprints), verdicts, decisions and the audit
    log stay: the record (审查单) can always be printed."""
    cutoff = (at or now()) - st.settings.retention_days * 86400
    blobs = bodies = 0
    with st.db.write() as s:
        for ver in s.execute(select(Version).where(Version.created_at < cutoff,
                                                   Version.purged_at.is_(None))).scalars():
            job = s.get(Job, ver.job_id) if ver.job_id else None
            if job is not None and job.status not in TERMINAL_JOB:
                continue
            if ver.blob_id:
                st.blobs.delete(ver.blob_id)
                blobs += 1
            ver.blob_id, ver.purged_at = None, now()
        for job in s.execute(select(Job).where(Job.created_at < cutoff, Job.version_id.is_(None),
                                               Job.status.in_(TERMINAL_JOB))).scalars():
            if st.blobs.exists(job.blob_id):
                st.blobs.delete(job.blob_id)
                blobs += 1
        res = s.execute(update(ReportRow).where(ReportRow.created_at < cutoff,
                                                ReportRow.body_enc.is_not(None))
                        .values(body_enc=None, purged_at=now()))
        bodies = res.rowcount or 0
        if blobs or bodies:
            audit.append(s, audit.SYSTEM, "retention.purge", "system", "",
                         after={"blobs": blobs, "report_bodies": bodies, "cutoff": cutoff})
    return {"blobs": blobs, "report_bodies": bodies}


def worker_loop(st: ServiceState) -> None:
    tag = worker_tag()
    last_purge = 0.0
    while not st.stop.is_set():
        try:
            if time.time() - last_purge > 3600:
                last_purge = time.time()
                purge_expired(st)
            job_id = claim(st, tag)
            if job_id is None:
                st.wake.wait(0.5)
                st.wake.clear()
                continue
            run_job(st, job_id, tag)
        except Exception as exc:
            log.error("worker error type=%s", type(exc).__name__)
            time.sleep(1.0)


def start_workers(st: ServiceState, n: int) -> None:
    for i in range(n):
        t = threading.Thread(target=worker_loop, args=(st,), name=f"baomi-worker-{i}", daemon=True)
        t.start()
        st.workers.append(t)


def stop_workers(st: ServiceState, timeout: float = 10.0) -> None:
    st.stop.set()
    st.wake.set()
    for t in st.workers:
        t.join(timeout)
    st.workers.clear()
