"""档案保密审查 in the service: an archive batch (a ZIP of items + an optional catalogue) scanned as
a job, then moved through the three steps of the archive review rules, each by a different person:

    scanning ──job done──▶ initial (初审) ──complete──▶ recheck (复核) ──complete──▶ final (审核) ──complete──▶ done
                              ▲                          │  return                   │ return
                              └──────────────────────────┘◀──────────────────────────┘

- Who may act is the permissions table of service.workflow (`archive.*` rows, the same
  Permission/check machinery): 初审 by a reviewer, 复核 and 审核 by approvers (admins may act at any
  step). Separation of duties: a person who decided anything at one step of a batch may not act at
  another step of the same batch (`separation_of_duties`).
- Each step decides per item (保密属性 涉密 with the level / 非涉密, 开放建议, reason) or in bulk (adopt
  the machine's suggestion at 初审, the previous step's decision at 复核 and 审核, or one value for the
  selected items); an item the scanner could not read is never adopted in bulk (fail closed). Every
  decision is an ArchiveDecision row and an audit entry (per item, or one entry per bulk decision
  listing its items); completing or returning a step is a batch-level ArchiveDecision and audit entry.
- The job (service.jobs hands a batch's job here) scans each item with the service's own scanner
  (scan_draft: isolation, the admins' rule edits), derives the suggestion with scanner.archive
  (same rules as `baomi archive scan`), commits item by item (a retried job skips what is stored)
  and keeps no item text: the ZIP stays an encrypted blob, members are read in memory.
- After 审核: the final list of 涉密 items with their 编号 and 标记 instruction (lexicons/archive.toml).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid

from fastapi import Request
from sqlalchemy import select

from scanner.archive import Catalog, assess, load_rules, text_facts, zip_items
from scanner.archive.assess import Assessment
from scanner.archive.catalog import Entry
from scanner.archive.register import Row
from scanner.archive.rules import ACCESS, ArchiveRules

from . import audit, workflow
from .errors import err
from .intake import sanitize_filename
from .models import ArchiveBatch, ArchiveDecision, ArchiveItem, Job, User, now
from .principal import Principal
from .queue import ACTIVE, new_job, queue_guard
from .reports import scan_draft
from .state import ServiceState

log = logging.getLogger("baomi.service")

STATES = ("scanning", "initial", "recheck", "final", "done", "failed")
STATUS_ZH = {"scanning": "自动扫描中", "initial": "待初审", "recheck": "待复核", "final": "待审核", "done": "已审核完成",
             "failed": "扫描失败"}
STEPS = ("initial", "recheck", "final")
STEP_ZH = {"initial": "初审", "recheck": "复核", "final": "审核"}
STEP_ACTION = {"initial": "archive.initial", "recheck": "archive.recheck", "final": "archive.final"}
NEXT = {"initial": "recheck", "recheck": "final", "final": "done"}
PREV = {"recheck": "initial", "final": "recheck"}
ATTRIBUTES = ("secret", "non_secret")
ATTRIBUTE_ZH = {"secret": "涉密", "non_secret": "非涉密"}
LEVELS = ("绝密", "机密", "秘密")
BATCH_DECISION_ZH = {"complete": "本环节完成", "return": "退回上一环节"}
MAX_REASON = 500
SEPARATION_ZH = "同一人不能在同一批档案中承担两个审查环节（初审、复核、审核须由不同人员完成）。"


def rules_for(st: ServiceState) -> ArchiveRules:
    return load_rules(st.get_scanner().lexicon_dir)


# -- creating a batch ---------------------------------------------------------------------------
def check_zip(data: bytes) -> int:
    """The ZIP's pre-flight (scanner.extract.zipsafe: bombs, traversal); the number of files."""
    from scanner.extract.errors import ExtractionFailed
    from scanner.extract.zipsafe import open_zip
    try:
        zf = open_zip(data)
    except ExtractionFailed:
        raise err(415, "archive_zip_invalid", "档案包不是可读取的 ZIP 文件（或包含不安全的成员），已拒绝。")
    n = len(zip_items(zf))
    if n == 0:
        raise err(400, "archive_zip_empty", "档案包中没有文件。")
    return n


def create_batch(st: ServiceState, p: Principal, data: bytes, filename: str, title: str,
                 catalog: bytes | None = None, catalog_name: str = "", as_of: str = "") -> str:
    workflow.check(p, "archive.create")
    n = check_zip(data)
    if catalog:
        try:
            Catalog.from_bytes(catalog, catalog_name or "目录.xlsx")
        except ValueError as exc:
            raise err(422, "archive_catalog_invalid", f"目录文件无法使用：{exc}")
        except Exception:
            raise err(422, "archive_catalog_invalid", "目录文件无法读取（应为含 档号、题名 列的 xlsx 或 csv）。")
    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        raise err(422, "validation_error", "审查基准日应为 YYYY-MM-DD。")
    blob = st.blobs.put(data)
    cat_blob = st.blobs.put(catalog) if catalog else None
    sha = hashlib.sha256(data).hexdigest()
    try:
        with st.db.write() as s:
            queue_guard(s, st)
            job = new_job(s, blob_id=blob, filename=filename, sha256=sha, size=len(data), principal=p.tag,
                          user_id=p.user_id)
            b = ArchiveBatch(id=str(uuid.uuid4()), title=title or filename, owner_id=p.user_id, status="scanning",
                             job_id=job.id, filename=filename, catalog_blob_id=cat_blob, catalog_name=catalog_name,
                             as_of=day.isoformat(), item_count=n)
            s.add(b)
            audit.append(s, p.actor, "archive.created", "archive_batch", b.id,
                         after={"job": job.id, "sha256": sha, "files": n, "catalogue": bool(catalog),
                                "as_of": b.as_of})
            batch_id = b.id
    except BaseException:
        st.blobs.delete(blob)
        if cat_blob:
            st.blobs.delete(cat_blob)
        raise
    st.wake.set()
    return batch_id


async def read_upload(request: Request) -> dict:
    """multipart: `file` (the ZIP), optional `catalog` (xlsx/csv), `title`, `as_of` (YYYY-MM-DD)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
        raise err(415, "unsupported_media_type", "请求类型须为 multipart/form-data（file = 档案 ZIP，catalog = 目录）。")
    form = await request.form(max_files=2, max_fields=8, max_part_size=64 * 1024)
    try:
        up, cat = form.get("file"), form.get("catalog")
        if up is None or isinstance(up, str):
            raise err(422, "validation_error", "缺少 file（档案 ZIP）。", fields=[{"loc": ["body", "file"], "type": "missing"}])
        out = {"data": await up.read(), "filename": sanitize_filename(up.filename), "catalog": None, "catalog_name": ""}
        if cat is not None and not isinstance(cat, str):
            data = await cat.read()
            if data:
                out["catalog"], out["catalog_name"] = data, sanitize_filename(cat.filename)
        for k in ("title", "as_of", "csrf_token"):
            v = form.get(k, "")
            out[k] = v.strip()[:200] if isinstance(v, str) else ""
    finally:
        await form.close()
    return out


# -- the scan job -------------------------------------------------------------------------------
def purge_catalogues(st: ServiceState, s, cutoff: float) -> int:
    """The retention purge of catalogue blobs (the uploaded 目录 xlsx/csv): those of batches created
    before `cutoff` whose scan job has ended, as the batch's ZIP blob goes with its job. The
    catalogue's file name and the rows linked to items (in the database) stay. -> blobs deleted."""
    n = 0
    for b in s.execute(select(ArchiveBatch).where(ArchiveBatch.created_at < cutoff,
                                                  ArchiveBatch.catalog_blob_id.is_not(None))).scalars():
        job = s.get(Job, b.job_id) if b.job_id else None
        if job is not None and job.status in ACTIVE:
            continue
        st.blobs.delete(b.catalog_blob_id)
        b.catalog_blob_id = None
        n += 1
    return n


def batch_of_job(s, job_id: str) -> str | None:
    return s.execute(select(ArchiveBatch.id).where(ArchiveBatch.job_id == job_id)).scalar_one_or_none()


def _members(data: bytes) -> list[tuple[str, bytes]]:
    """The items of the ZIP, read in memory (never unpacked to disk: the blob stays encrypted)."""
    from scanner.extract.zipsafe import open_zip, read_member
    zf = open_zip(data)
    return [(name, read_member(zf, info)) for name, info in zip_items(zf)]


def run_job(st: ServiceState, job_id: str, tag: str) -> None:
    """Scan every item of the batch whose job this is (service.jobs calls this for archive jobs)."""
    with st.db.read() as s:
        job = s.get(Job, job_id)
        b = s.execute(select(ArchiveBatch).where(ArchiveBatch.job_id == job_id)).scalar_one()
        batch_id, blob_id, cat_blob, cat_name, as_of = b.id, job.blob_id, b.catalog_blob_id, b.catalog_name, b.as_of
        done = set(s.execute(select(ArchiveItem.path).where(ArchiveItem.batch_id == batch_id)).scalars())
    rules = rules_for(st)
    day = dt.date.fromisoformat(as_of)
    try:
        members = _members(st.blobs.get(blob_id))
        catalog = Catalog.from_bytes(st.blobs.get(cat_blob), cat_name or "目录.xlsx") if cat_blob else None
    except Exception as exc:
        _fail(st, job_id, batch_id, type(exc).__name__)
        return
    by_row = {e.row: e for e in catalog.entries} if catalog else {}
    used: set[int] = set()
    for i, (name, data) in enumerate(members):
        if name in done:
            continue
        try:
            rec = scan_draft(st, data, name).to_dict(with_segments=True)
        except Exception as exc:        # fail closed: the item goes to a person
            log.error("archive item scan failed type=%s", type(exc).__name__)
            rec = {"decision": "review", "findings": [], "errors": [{"code": "scan.failed"}], "segments": []}
        rec["batch"] = {"path": name}
        facts = text_facts(rules, rec, catalog)
        rec.pop("segments", None)
        rec["archive"] = facts
        entry, how = catalog.match(name) if catalog else (None, "")
        if entry is None and facts.get("title_row") in by_row:
            entry, how = by_row[facts["title_row"]], "title_text"
        a = assess(rules, rec, day, entry.date if entry else None)
        sugg = {"assessment": a.to_dict(), "entry": {"row": entry.row, "values": entry.values} if entry else None,
                "match": how}
        with st.db.write() as s:
            job = s.get(Job, job_id)
            if job.status != "running" or job.claimed_by != tag:
                return                     # the lease went to another worker
            s.add(ArchiveItem(batch_id=batch_id, idx=i, path=name, sha256=hashlib.sha256(data).hexdigest(),
                              suggestion=json.dumps(sugg, ensure_ascii=False)))
            job.progress = 0.1 + 0.9 * (i + 1) / max(1, len(members))
            job.lease_until, job.updated_at = now() + st.settings.job_lease_s, now()
    with st.db.write() as s:
        job = s.get(Job, job_id)
        if job.status != "running" or job.claimed_by != tag:
            return
        b = s.get(ArchiveBatch, batch_id)
        items = s.execute(select(ArchiveItem).where(ArchiveItem.batch_id == batch_id)).scalars().all()
        for it in items:
            e = json.loads(it.suggestion).get("entry")
            if e:
                used.add(e["row"])
        unmatched = [{"row": e.row, "values": e.values} for e in (catalog.entries if catalog else []) if e.row not in used]
        b.unmatched = json.dumps(unmatched, ensure_ascii=False)
        b.item_count, b.status, b.updated_at = len(items), "initial", now()
        job.status, job.progress, job.lease_until, job.updated_at = "done", 1.0, None, now()
        audit.append(s, audit.SYSTEM, "archive.scanned", "archive_batch", batch_id,
                     before={"status": "scanning"}, after={"status": "initial", "items": len(items),
                                                           "unmatched_catalogue": len(unmatched), "job": job_id})
    st.metrics.inc("baomi_jobs_total", status="done", code="archive")


def _fail(st: ServiceState, job_id: str, batch_id: str, code: str) -> None:
    with st.db.write() as s:
        job = s.get(Job, job_id)
        b = s.get(ArchiveBatch, batch_id)
        job.status, job.error_code, job.lease_until, job.progress = "failed", "failed:" + code[:40], None, 1.0
        b.status, b.updated_at = "failed", now()
        audit.append(s, audit.SYSTEM, "archive.scan_failed", "archive_batch", batch_id, after={"code": code[:40]})


def job_failed(s, job_id: str, code: str) -> None:
    """Inside service.jobs' write transaction: the job of a batch failed closed (poison, blob missing)."""
    b = s.execute(select(ArchiveBatch).where(ArchiveBatch.job_id == job_id)).scalar_one_or_none()
    if b is not None and b.status == "scanning":
        b.status, b.updated_at = "failed", now()
        audit.append(s, audit.SYSTEM, "archive.scan_failed", "archive_batch", b.id, after={"code": code[:40]})


# -- reading ------------------------------------------------------------------------------------
def load_batch(s, p: Principal, batch_id: str) -> ArchiveBatch:
    workflow.check(p, "archive.view")
    b = s.get(ArchiveBatch, batch_id)
    if b is None:
        raise err(404, "not_found", "档案批次不存在。")
    return b


def people(s, batch_id: str) -> dict[str, set[int]]:
    """Who decided anything at each step of a batch."""
    out: dict[str, set[int]] = {k: set() for k in STEPS}
    for step, uid in s.execute(select(ArchiveDecision.step, ArchiveDecision.user_id)
                               .where(ArchiveDecision.batch_id == batch_id)).all():
        out.setdefault(step, set()).add(uid)
    return out


def denial(s, p: Principal, b: ArchiveBatch, step: str | None = None):
    """Why `p` may not act at the batch's current step (or `step`); None when allowed."""
    step = step or b.status
    if step not in STEPS:
        return err(409, "invalid_state", "当前状态不能执行此操作。", batch_status=b.status)
    why = workflow.denial(p, STEP_ACTION[step])
    if why is not None:
        return why
    if b.status != step:
        return err(409, "invalid_state", "当前状态不能执行此操作。", batch_status=b.status)
    others = set().union(*(v for k, v in people(s, b.id).items() if k != step))
    if p.user_id in others:
        return err(403, "separation_of_duties", SEPARATION_ZH)
    return None


def acting(s, p: Principal, batch_id: str) -> ArchiveBatch:
    """The batch, when `p` may act at its current step (the APIError why not otherwise)."""
    b = load_batch(s, p, batch_id)
    why = denial(s, p, b)
    if why is not None:
        raise why
    return b


def _json(v: str) -> dict:
    return json.loads(v) if v else {}


def item_view(it: ArchiveItem) -> dict:
    sugg = json.loads(it.suggestion)
    a = Assessment(**sugg["assessment"])
    e = sugg.get("entry") or {}
    return {"id": it.id, "idx": it.idx, "path": it.path, "sha256": it.sha256,
            "dh": (e.get("values") or {}).get("档号", ""), "title": (e.get("values") or {}).get("题名", ""),
            "catalogue": e.get("values") or {}, "match": sugg.get("match", ""),
            "suggestion": {"attribute": a.attribute, "attribute_zh": a.attribute_zh, "level": a.level,
                           "access": a.access, "reasons": a.reasons, "notes": a.notes, "period": a.period,
                           "doc_date": a.doc_date, "date_source": a.date_source, "text_date": a.text_date,
                           "expires": a.expires, "expiry": a.expiry, "expiry_zh": a.expiry_zh,
                           "opening_review": a.opening_review, "findings": a.findings,
                           "findings_zh": a.findings_zh(), "errors": a.errors, "decision": a.decision},
            "initial": _json(it.initial), "recheck": _json(it.recheck), "final": _json(it.final)}


def _names(s) -> dict[int, str]:
    return {u.id: (u.display_name or u.username) for u in s.execute(select(User)).scalars()}


def batch_summary(s, b: ArchiveBatch) -> dict:
    return {"id": b.id, "title": b.title, "status": b.status, "status_zh": STATUS_ZH.get(b.status, b.status),
            "filename": b.filename, "catalogue": b.catalog_name, "as_of": b.as_of, "items": b.item_count,
            "job_id": b.job_id, "owner_id": b.owner_id, "created_at": b.created_at, "updated_at": b.updated_at}


def batch_detail(st: ServiceState, p: Principal, batch_id: str) -> dict:
    with st.db.read() as s:
        b = load_batch(s, p, batch_id)
        items = [item_view(it) for it in s.execute(select(ArchiveItem).where(ArchiveItem.batch_id == b.id)
                                                    .order_by(ArchiveItem.idx)).scalars()]
        names = _names(s)
        decisions = [{"step": d.step, "step_zh": STEP_ZH.get(d.step, d.step), "item_id": d.item_id,
                      "decision": d.decision, "level": d.level, "access": d.access, "reason": d.reason,
                      "bulk": d.bulk, "by": names.get(d.user_id, ""), "user_id": d.user_id, "at": d.created_at}
                     for d in s.execute(select(ArchiveDecision).where(ArchiveDecision.batch_id == b.id)
                                        .order_by(ArchiveDecision.id)).scalars()]
        ppl = {k: sorted(names.get(u, "") for u in v) for k, v in people(s, b.id).items()}
        job = s.get(Job, b.job_id) if b.job_id else None
        why = denial(s, p, b) if b.status in STEPS else None
        out = batch_summary(s, b) | {"items_detail": items, "decisions": decisions, "people": ppl,
                                     "unmatched": json.loads(b.unmatched or "[]"), "scanned": len(items),
                                     "job_status": job.status if job else "",
                                     "can_act": b.status in STEPS and why is None,
                                     "why_not": why.code if why is not None else ""}
    if out["status"] == "done":
        out["final_list"] = final_list(rules_for(st), out["id"], items)
    return out


def list_batches(st: ServiceState, p: Principal) -> list[dict]:
    workflow.check(p, "archive.view")
    with st.db.read() as s:
        return [batch_summary(s, b) for b in s.execute(select(ArchiveBatch).order_by(ArchiveBatch.created_at.desc())
                                                        .limit(200)).scalars()]


# -- deciding -----------------------------------------------------------------------------------
def _basis(step: str, it: ArchiveItem) -> dict | None:
    """What a bulk adoption at `step` takes: the suggestion at 初审 (never for an item the scanner
    could not read: None), the previous step's decision after."""
    if step == "initial":
        a = json.loads(it.suggestion)["assessment"]
        if a["attribute"] == "unknown" or a.get("errors"):
            return None
        attr = "secret" if a["attribute"].startswith("secret") else "non_secret"
        return {"attribute": attr, "level": a["level"] if attr == "secret" else "", "access": a["access"],
                "reason": "采纳系统建议：" + "；".join(a.get("notes") or [])}
    prev = _json(it.initial if step == "recheck" else it.recheck)
    return {**prev, "reason": f"同意{STEP_ZH[PREV[step]]}意见"} if prev else None


def _validate(v: dict) -> dict:
    attr, level, access = v.get("attribute"), v.get("level") or "", v.get("access")
    reason = str(v.get("reason") or "").strip()[:MAX_REASON]
    if attr not in ATTRIBUTES:
        raise err(422, "validation_error", "保密属性应为 涉密 或 非涉密。")
    if attr == "secret" and level not in LEVELS:
        raise err(422, "validation_error", "涉密档案须选择密级（绝密、机密、秘密）。")
    if access not in ACCESS:
        raise err(422, "validation_error", "开放建议应为 开放、控制使用 或 不开放。")
    if attr == "secret" and access == "开放":
        raise err(422, "validation_error", "涉密档案不能开放。")
    return {"attribute": attr, "level": level if attr == "secret" else "", "access": access, "reason": reason}


def decide(st: ServiceState, p: Principal, batch_id: str, item_ids: list[int] | None, value: dict | None,
           adopt: bool = False) -> dict:
    """A decision at the batch's current step: `value` for the given items (one item: a per-item
    decision; several or None = all: bulk), or with adopt=True each item takes its basis (_basis).
    A value that differs from the item's basis needs a reason."""
    with st.db.write() as s:
        b = acting(s, p, batch_id)
        step = b.status
        q = select(ArchiveItem).where(ArchiveItem.batch_id == b.id).order_by(ArchiveItem.idx)
        if item_ids is not None:
            q = q.where(ArchiveItem.id.in_(item_ids))
        items = s.execute(q).scalars().all()
        if item_ids is not None and len(items) != len(set(item_ids)):
            raise err(404, "not_found", "档案条目不存在。")
        v = None if adopt else _validate(value or {})
        bulk = adopt or len(items) != 1
        done, skipped = [], []
        for it in items:
            basis = _basis(step, it)
            if adopt:
                if basis is None:
                    skipped.append(it.id)
                    continue
                d = _validate(basis)
            else:
                d = dict(v)
                same = basis is not None and all(basis.get(k) == d[k] for k in ("attribute", "level", "access"))
                if not same and not d["reason"]:
                    raise err(422, "reason_required", "与系统建议或上一环节意见不同，请填写理由。", item_id=it.id)
                if not d["reason"] and basis is not None:
                    d["reason"] = basis["reason"]
            before = _json(getattr(it, step))
            d = {**d, "by": p.user_id, "at": now()}
            setattr(it, step, json.dumps(d, ensure_ascii=False))
            s.add(ArchiveDecision(batch_id=b.id, item_id=it.id, step=step, decision=d["attribute"], level=d["level"],
                                  access=d["access"], reason=d["reason"], bulk=bulk, user_id=p.user_id))
            if not bulk:
                audit.append(s, p.actor, f"archive.{step}.decision", "archive_item", str(it.id),
                             before={k: before.get(k) for k in ("attribute", "level", "access")} if before else None,
                             after={"batch": b.id, "attribute": d["attribute"], "level": d["level"],
                                    "access": d["access"]})
            done.append(it.id)
        if bulk and done:
            audit.append(s, p.actor, f"archive.{step}.bulk_decision", "archive_batch", b.id,
                         after={"items": done, "skipped": skipped, "adopt": adopt,
                                **({} if adopt else {k: v[k] for k in ("attribute", "level", "access")})})
        b.updated_at = now()
    return {"step": step, "decided": done, "skipped": skipped}


def complete(st: ServiceState, p: Principal, batch_id: str, decision: str = "complete", reason: str = "") -> dict:
    """Finish the current step (every item decided at it) or return the batch to the previous
    step (复核 and 审核; a reason is needed)."""
    reason = (reason or "").strip()[:MAX_REASON]
    with st.db.write() as s:
        b = acting(s, p, batch_id)
        step = b.status
        if decision == "return":
            if step not in PREV:
                raise err(409, "invalid_state", "初审环节不能退回。")
            if not reason:
                raise err(422, "reason_required", "退回须填写理由。")
            to = PREV[step]
        elif decision == "complete":
            items = s.execute(select(ArchiveItem).where(ArchiveItem.batch_id == b.id)).scalars().all()
            open_items = [it.id for it in items if not getattr(it, step)]
            if open_items:
                raise err(409, "decisions_missing", f"还有 {len(open_items)} 件档案未给出{STEP_ZH[step]}意见。",
                          items=open_items[:50])
            to = NEXT[step]
        else:
            raise err(422, "validation_error", "decision 应为 complete 或 return。")
        s.add(ArchiveDecision(batch_id=b.id, item_id=None, step=step, decision=decision, reason=reason,
                              user_id=p.user_id))
        audit.append(s, p.actor, f"archive.{step}.{decision}", "archive_batch", b.id,
                     before={"status": step}, after={"status": to, "reason_given": bool(reason)})
        b.status, b.updated_at = to, now()
    return {"status": to, "status_zh": STATUS_ZH[to]}


# -- the outcome --------------------------------------------------------------------------------
def effective(item: dict) -> dict:
    """An item's latest decision (审核, else 复核, else 初审), or {}."""
    return item.get("final") or item.get("recheck") or item.get("initial") or {}


def final_list(rules: ArchiveRules, batch_id: str, items: list[dict]) -> list[dict]:
    """The 涉密 items confirmed at 审核, with their 编号 and 标记 instruction."""
    out = []
    short = batch_id[:8].upper()
    for it in items:
        f = it.get("final") or {}
        if f.get("attribute") != "secret":
            continue
        period = it["suggestion"]["period"] if it["suggestion"]["level"] == f["level"] else ""
        if not period or period.startswith("未标明"):
            years = rules.default_years.get(f["level"])
            period = f"{years}年" if years else "（按规定确定）"
        number, instruction = rules.marking_instruction(len(out) + 1, short, f["level"], period, it["dh"])
        out.append({"no": len(out) + 1, "number": number, "dh": it["dh"], "title": it["title"], "path": it["path"],
                    "level": f["level"], "period": period, "access": f.get("access", ""), "instruction": instruction})
    return out


EXTRA_COLUMNS = ("初审意见", "复核意见", "审核意见", "审核后保密属性", "编号", "标记说明")


def _opinion(d: dict, names: dict[int, str]) -> str:
    if not d:
        return ""
    attr = ATTRIBUTE_ZH.get(d.get("attribute", ""), "")
    lv = f"（{d['level']}）" if d.get("level") else ""
    return f"{attr}{lv}，{d.get('access', '')}；{d.get('reason', '')}（{names.get(d.get('by'), '')}）"


def register_rows(st: ServiceState, p: Principal, batch_id: str) -> tuple[dict, list[Row], list[Entry]]:
    """The batch's register rows (scanner.archive.register) with each step's opinion beside them."""
    detail = batch_detail(st, p, batch_id)
    with st.db.read() as s:
        names = _names(s)
    numbers = {f["path"]: f for f in detail.get("final_list", [])}
    rows = []
    for it in detail["items_detail"]:
        with st.db.read() as s:
            raw = s.get(ArchiveItem, it["id"])
            sugg = json.loads(raw.suggestion)
        e = sugg.get("entry")
        f = numbers.get(it["path"], {})
        fin = it.get("final") or {}
        rows.append(Row(it["path"], Assessment(**sugg["assessment"]), Entry(e["row"], e["values"]) if e else None,
                        sugg.get("match", ""),
                        extra=[_opinion(it["initial"], names), _opinion(it["recheck"], names),
                               _opinion(it["final"], names),
                               (ATTRIBUTE_ZH.get(fin.get("attribute", ""), "") + (f"（{fin['level']}）" if fin.get("level") else ""))
                               if fin else "", f.get("number", ""), f.get("instruction", "")]))
    unmatched = [Entry(u["row"], u["values"]) for u in detail["unmatched"]]
    return detail, rows, unmatched


def register_xlsx(st: ServiceState, p: Principal, batch_id: str) -> bytes:
    """The register workbook of a batch (scanner.archive.register) with the three steps' opinions."""
    import io

    from scanner.archive.register import write_register
    detail, rows, unmatched = register_rows(st, p, batch_id)
    meta = [("批次", detail["title"]), ("批次编号", detail["id"]), ("档案包", detail["filename"]),
            ("目录", detail["catalogue"] or "（未提供）"), ("审查基准日", detail["as_of"]), ("状态", detail["status_zh"])]
    buf = io.BytesIO()
    write_register(buf, rows, unmatched, meta, extra_columns=EXTRA_COLUMNS)
    return exported(st, p, batch_id, "xlsx", buf.getvalue())


def exported(st: ServiceState, p: Principal, batch_id: str, kind: str, body: bytes) -> bytes:
    """An export of the batch's register or summary goes on the audit trail."""
    with st.db.write() as s:
        audit.append(s, p.actor, "archive.exported", "archive_batch", batch_id, after={"format": kind})
    return body
