"""The job workers, the start-up sweep and retention.

A job row is committed (with its encrypted blob already fsynced) before an upload is
acknowledged (service.queue). Workers claim jobs with a lease (FOR UPDATE SKIP LOCKED on
PostgreSQL; BEGIN IMMEDIATE serialises claims on SQLite), scan, and write the report, findings,
job state, the submission's next state and the audit entry in one transaction. A job whose worker died is taken again after its lease expires
(or at start-up, when its claiming process is gone); after job_max_attempts it fails closed:
the submission goes to a human with a `service.job_failed` error in its report.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time

from sqlalchemy import and_, or_, select, update

from . import archive, audit, remembered, workflow
from .faults import fault
from .models import FindingRow, Job, ReportRow, Submission, User, Version, now
from .queue import ACTIVE
from .reports import (failed_report, report_audit_summary, scan_draft, seal_plain_details, store_report,
                      text_mac)
from .state import ServiceState
from .storage import disk_full, free_bytes

log = logging.getLogger("baomi.service")
HOST = socket.gethostname()
TERMINAL_JOB = ("done", "failed")


def worker_tag() -> str:
    return f"{HOST}:{os.getpid()}:{threading.get_ident()}"


# -- workers ------------------------------------------------------------------------------------
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
        blob_id, filename = job.blob_id, job.filename
        batch = archive.batch_of_job(s, job_id)
    if batch is not None:          # an archive batch (档案保密审查): each of its items, service.archive
        archive.run_job(st, job_id, tag)
        return
    try:
        data = st.blobs.get(blob_id)
        report = scan_draft(st, data, filename, progress=_page_progress(st, job_id, tag))
        del data
        report = remembered.apply_entries(st, report, job_scope(st, job_id))
    except Exception as exc:       # the scanner maps parser failures itself; this is a bug/IO
        if disk_full(exc):
            defer(st, job_id, tag)
            return
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
    try:
        with st.db.write() as s:
            job = s.get(Job, job_id)
            if job.status != "running" or job.claimed_by != tag:
                return               # lease lost to another worker; its result wins
            _finish(s, st, job, report, "done", "")
    except Exception as exc:
        if not disk_full(exc):
            raise
        defer(st, job_id, tag)
        return
    fault("in_worker_after_result")
    st.metrics.inc("baomi_scans_total", decision=report.decision, path="job")
    st.metrics.observe("baomi_job_seconds", time.perf_counter() - t0)
    log.info("job %s done decision=%s findings=%d", job_id, report.decision, len(report.findings))


def job_scope(st: ServiceState, job_id: str) -> remembered.Scope:
    """Where a job's scan happens, for the allowlist: a version's submission (its channel and
    owner), else the job's user as the submitter."""
    with st.db.read() as s:
        job = s.get(Job, job_id)
        ver = s.get(Version, job.version_id) if job.version_id else None
        sub = s.get(Submission, ver.submission_id) if ver else None
        if sub is not None:
            return remembered.scope_of(s, sub)
        u = s.get(User, job.user_id) if job.user_id else None
        return remembered.Scope(submitter=u.username if u else None)


PROGRESS_EVERY_S = 1.0       # at most one progress write a second per job (the last page always)


def _page_progress(st: ServiceState, job_id: str, tag: str):
    """The job's OCR progress sink: pages done/total of a multi-page scan into the job row (progress
    0.1 → 0.9 with them) while this worker still holds the job; each write renews the lease."""
    last = [0.0]

    def sink(done: int, total: int) -> None:
        t = time.monotonic()
        if done < total and t - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = t
        try:
            with st.db.write() as s:
                job = s.get(Job, job_id)
                if job is not None and job.status == "running" and job.claimed_by == tag:
                    job.pages_done, job.pages_total = done, total
                    job.progress = round(0.1 + 0.8 * done / max(1, total), 3)
                    job.updated_at = now()
                    job.lease_until = job.updated_at + st.settings.job_lease_s   # alive: a long scan keeps its job
        except Exception as exc:        # progress is a courtesy: never fail the scan for it
            log.warning("job %s progress not written type=%s", job_id, type(exc).__name__)
    return sink


def defer(st: ServiceState, job_id: str, tag: str) -> None:
    """The storage is full (temporary): the job goes back to wait, its attempt not counted, and is
    taken again after storage_retry_s (as a lapsed lease). If even that cannot be written, the job
    keeps its lease and the workers pause while space is short (worker_loop), so no attempt burns."""
    log.warning("job %s deferred: storage full", job_id)
    try:
        with st.db.write() as s:
            job = s.get(Job, job_id)
            if job.status == "running" and job.claimed_by == tag:
                job.attempts = max(0, job.attempts - 1)
                job.claimed_by, job.lease_until = "wait:storage_full", now() + st.settings.storage_retry_s
    except Exception as exc:
        if not disk_full(exc):
            raise


def _finish_failed(s, st: ServiceState, job: Job, code: str) -> None:
    _finish(s, st, job, failed_report(job.filename, job.sha256, code), "failed", code)
    archive.job_failed(s, job.id, code)      # an archive batch on it goes to 扫描失败, not left scanning


def _finish(s, st: ServiceState, job: Job, report, status: str, code: str) -> None:
    row = store_report(s, st, report, job.user_id)
    job.status, job.error_code, job.report_id = status, code, row.id
    job.progress, job.lease_until, job.updated_at = 1.0, None, now()
    after = report_audit_summary(report)
    if job.version_id:
        ver = s.get(Version, job.version_id)
        ver.report_id = row.id
        ver.text_mac = text_mac(st, report.segments)     # the gate matches the same text sent as JSON
        workflow.scan_finished(s, ver, {**after, "version": ver.number, "report_id": row.id, "job": job.id})
    else:
        audit.append(s, audit.SYSTEM, "scan.completed", "job", job.id,
                     after={**after, "report_id": row.id})
    st.metrics.inc("baomi_jobs_total", status=status, code=code or "ok")


# -- start-up sweep, retention, worker threads ----------------------------------------------------------
def startup_sweep(st: ServiceState) -> dict:
    """Requeue jobs whose claiming process on this host is gone (or whose lease ran out); delete
    stale temporary files; fail closed the queued jobs whose blob is missing (an integrity alarm)."""
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
        pending = {b for (b,) in s.execute(select(Job.blob_id).where(Job.status.in_(ACTIVE)))}
    on_disk = st.blobs.list_ids()
    missing = sorted(b for b in pending if b not in on_disk)
    out = {"requeued": requeued, "part_files_removed": parts, "rows_without_blob": len(missing)}
    if missing:
        log.error("integrity: %d queued jobs without blob", len(missing))
        with st.db.write() as s:
            for job in s.execute(select(Job).where(Job.blob_id.in_(missing))).scalars():
                _finish_failed(s, st, job, "failed:blob_missing")
    with st.db.write() as s:
        out["finding_details_sealed"] = seal_plain_details(s, st.cipher)
    write_checkpoint(st)
    log.info("startup sweep %s", out)
    return out


def write_checkpoint(st: ServiceState) -> dict:
    """A signed checkpoint of the audit chain's head, appended to the checkpoint file."""
    with st.db.read() as s:
        cp = audit.checkpoint(s)
    audit.append_checkpoint(st.settings.checkpoint_path, cp)
    return cp


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
        blobs += archive.purge_catalogues(st, s, cutoff)        # an archive batch's catalogue goes with its ZIP
        expired = select(ReportRow.id).where(ReportRow.created_at < cutoff, ReportRow.body_enc.is_not(None))
        # the findings' explanations and locations (they can quote the matched text) go with the body
        s.execute(update(FindingRow).where(FindingRow.report_id.in_(expired))
                  .values(detail_enc=None, explanation="", suggestion="", location="{}"))
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
                if last_purge - st.last_checkpoint > 3000:     # one per hour, whichever worker comes first
                    st.last_checkpoint = last_purge
                    write_checkpoint(st)
            if free_bytes(st.settings.data_dir) < st.settings.storage_min_free_bytes:
                st.stop.wait(st.settings.storage_retry_s)     # the disk is (nearly) full: claim nothing
                continue
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
