"""The durable job queue: its bound, back-pressure, and putting a draft on it.

Queued and running jobs count against a global bound (503 with Retry-After beyond it) and a
per-principal bound (429). The bound is checked twice: cheaply before the request body is read,
and exactly inside the enqueuing write transaction, where enqueuers are serialised (SQLite holds
the writer lock; PostgreSQL takes a transaction advisory lock). A job row is committed, with its
encrypted blob already fsynced, before the upload is acknowledged; service.jobs runs them."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select, text

from . import audit
from .errors import err
from .intake import Draft
from .models import Job
from .principal import Principal
from .state import ServiceState

ACTIVE = ("queued", "running")


def queue_depth(s, principal: str | None = None) -> int:
    q = select(func.count()).select_from(Job).where(Job.status.in_(ACTIVE))
    if principal:
        q = q.where(Job.principal == principal)
    return int(s.execute(q).scalar_one())


def check_queue(st: ServiceState, p: Principal) -> None:
    """Back-pressure before the body is read: 503 when the global queue is full, 429 when this
    principal has too many jobs in flight; both with Retry-After."""
    with st.db.read() as s:
        if queue_depth(s) >= st.settings.queue_max:
            raise err(503, "queue_full", "审查队列已满，请稍后重试。", headers={"Retry-After": "10"})
        if queue_depth(s, p.tag) >= st.settings.queue_max_per_principal:
            raise err(429, "too_many_jobs", "您提交的待处理任务过多，请稍后重试。", headers={"Retry-After": "10"})


def queue_guard(s, st: ServiceState) -> None:
    """Inside an enqueuing write transaction: serialise enqueuers and enforce the bound exactly."""
    if not st.db.is_sqlite:
        s.execute(text("SELECT pg_advisory_xact_lock(724201)"))
    if queue_depth(s) >= st.settings.queue_max:
        raise err(503, "queue_full", "审查队列已满，请稍后重试。", headers={"Retry-After": "10"})


def new_job(s, *, blob_id: str, filename: str, sha256: str, size: int, principal: str,
            user_id: int | None, version_id: str | None = None) -> Job:
    job = Job(id=str(uuid.uuid4()), status="queued", blob_id=blob_id, filename=filename,
              sha256=sha256, size=size, principal=principal, user_id=user_id,
              version_id=version_id)
    s.add(job)
    return job


def enqueue_draft(st: ServiceState, p: Principal, d: Draft) -> str:
    """A scan job for a draft that is not a submission (POST /scan beyond the synchronous size)."""
    blob_id = st.blobs.put(d.data)
    try:
        with st.db.write() as s:
            queue_guard(s, st)
            job = new_job(s, blob_id=blob_id, filename=d.filename, sha256=d.sha256, size=len(d.data),
                          principal=p.tag, user_id=p.user_id)
            audit.append(s, p.actor, "scan.queued", "job", job.id,
                         after={"sha256": d.sha256, "size": len(d.data), "media_type": d.media_type})
            job_id = job.id
    except BaseException:
        st.blobs.delete(blob_id)
        raise
    st.wake.set()
    return job_id
