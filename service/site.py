"""保密检查 in the service: inspections of the published site as jobs (issue 14).

A target is a start URL with crawl options and a schedule (off / daily at HH:MM / weekly on a
weekday at HH:MM, 北京时间 UTC+8 as the pages show times; `next_run_at` says when). A run is queued by hand or
by the schedule and executed by the site runner thread (one run at a time per process; a run is
claimed with a conditional UPDATE, so several processes never run the same one): it crawls with
scanner.site (polite, bounded, within the target's hosts), scans every new or changed page and
attachment through the service's own scan path (its rules and overrides, its isolation setting:
service.reports.scan_draft) and compares with the target's previous finished run (`--since`
semantics: only new or changed URLs are reported, unchanged ones are not rescanned). The run keeps
its run file (URLs, hashes, decisions, categories: no text) in a plain column and its report
(titles, findings, matched text) encrypted. Progress is written as it goes; a run cut short by a
shutdown goes back to the queue and starts again at the next start.

Who may: `site.view`, `site.run`, `site.edit` in workflow.PERMISSIONS (保密检查员 `inspector` or
admin, scope `inspect`). Audit entries carry counts and codes, never page text."""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select, update

from scanner.site.crawl import CrawlOptions, inspect
from scanner.site.fetch import normalise
from scanner.site.report import build
from scanner.site.state import run_state

from . import audit
from .clock import BEIJING
from .errors import err
from .models import SiteRun, SiteTarget, User, now
from .principal import Principal
from .reports import scan_draft
from .state import ServiceState
from .workflow import check

SCHEDULES = ("off", "daily", "weekly")
SCHEDULE_ZH = {"off": "不定期（手动）", "daily": "每天", "weekly": "每周"}
WEEKDAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
RUN_STATUS_ZH = {"queued": "排队中", "running": "检查中", "done": "已完成", "failed": "失败"}
STAGE_ZH = {"crawl": "抓取网页和附件", "scan": "扫描内容"}
# the options a target may set, with their bounds (the rest of CrawlOptions is the service's)
OPTION_BOUNDS = {"max_pages": (1, None), "max_depth": (0, 10), "delay_s": (0.0, 60.0)}
LEASE_S = 600.0          # a run whose lease runs out (its process died) is queued again; renewed as it goes


# -- schedule ---------------------------------------------------------------------------------------
# schedules are in 北京时间 (service.clock.BEIJING), as every page shows times


def next_run(schedule: str, at_time: str, weekday: int = 0, after: float | None = None) -> float | None:
    """The next time (epoch seconds) a schedule fires after `after` (now), HH:MM in UTC+8."""
    if schedule not in ("daily", "weekly"):
        return None
    hh, mm = (int(x) for x in at_time.split(":"))
    base = dt.datetime.fromtimestamp(after if after is not None else time.time(), BEIJING)
    t = base.replace(hour=hh, minute=mm, second=0, microsecond=0)
    if schedule == "daily":
        if t <= base:
            t += dt.timedelta(days=1)
    else:
        t += dt.timedelta(days=(weekday - t.weekday()) % 7)
        if t <= base:
            t += dt.timedelta(days=7)
    return t.timestamp()


def _check_schedule(schedule: str, at_time: str, weekday: int) -> None:
    if schedule not in SCHEDULES:
        raise err(422, "invalid_schedule", "检查计划只能是 off、daily 或 weekly。")
    try:
        hh, mm = (int(x) for x in at_time.split(":"))
        ok = 0 <= hh < 24 and 0 <= mm < 60 and len(at_time) == 5
    except ValueError:
        ok = False
    if not ok:
        raise err(422, "invalid_schedule", "时间格式应为 HH:MM（如 02:00）。")
    if not 0 <= weekday <= 6:
        raise err(422, "invalid_schedule", "星期应为 0（周一）到 6（周日）。")


# -- targets ----------------------------------------------------------------------------------------
def _hosts_allowed(st: ServiceState, hosts: list[str]) -> None:
    allowed = {h.strip().lower() for h in st.settings.site_hosts.split(",") if h.strip()}
    if allowed and not set(hosts) <= allowed:
        raise err(422, "site_host_forbidden", "该网站不在本服务允许检查的范围内（BAOMI_SITE_HOSTS）。",
                  hosts=sorted(set(hosts) - allowed))


def _clean_options(st: ServiceState, raw: dict) -> dict:
    out: dict = {}
    for k, (lo, hi) in OPTION_BOUNDS.items():
        if raw.get(k) is None:
            continue
        try:
            v = type(lo)(raw[k])
        except (TypeError, ValueError):
            raise err(422, "invalid_option", f"参数 {k} 无效。")
        if v < lo or (hi is not None and v > hi):
            raise err(422, "invalid_option", f"参数 {k} 超出范围。")
        out[k] = v
    out["max_pages"] = min(out.get("max_pages", 200), st.settings.site_max_pages)
    out["delay_s"] = max(out.get("delay_s", 1.0), st.settings.site_min_delay_s)
    out["same_host"] = bool(raw.get("same_host", False))
    out["ignore_robots"] = bool(raw.get("ignore_robots", False))
    hosts = raw.get("allow_hosts") or []
    if isinstance(hosts, str):
        hosts = hosts.replace("，", ",").replace(" ", ",").split(",")
    out["allow_hosts"] = sorted({h.strip().lower() for h in hosts if h and h.strip()})[:20]
    return out


def target_dict(s, t: SiteTarget) -> dict:
    last = s.execute(select(SiteRun).where(SiteRun.target_id == t.id).order_by(SiteRun.created_at.desc())
                     .limit(1)).scalar_one_or_none()
    return {"id": t.id, "name": t.name, "url": t.url, "options": json.loads(t.options or "{}"),
            "schedule": t.schedule, "schedule_zh": SCHEDULE_ZH[t.schedule], "at_time": t.at_time,
            "weekday": t.weekday, "next_run_at": t.next_run_at, "created_at": t.created_at,
            "last_run": run_dict(last) if last else None}


def create_target(st: ServiceState, p: Principal, url: str, name: str = "", options: dict | None = None,
                  schedule: str = "off", at_time: str = "02:00", weekday: int = 0) -> dict:
    check(p, "site.edit")
    start = normalise(url or "")
    if start is None:
        raise err(422, "invalid_url", "起始网址必须以 http:// 或 https:// 开头。")
    _check_schedule(schedule, at_time, weekday)
    opts = _clean_options(st, options or {})
    _hosts_allowed(st, [urlsplit(start).hostname or "", *opts["allow_hosts"]])
    with st.db.write() as s:
        t = SiteTarget(id=str(uuid.uuid4()), name=(name or urlsplit(start).hostname or "")[:200], url=start,
                       options=json.dumps(opts), schedule=schedule, at_time=at_time, weekday=weekday,
                       next_run_at=next_run(schedule, at_time, weekday), created_by=p.user_id)
        s.add(t)
        s.flush()
        audit.append(s, p.actor, "site.target_created", "site_target", t.id,
                     after={"host": urlsplit(start).hostname, "schedule": schedule, **opts})
        return target_dict(s, t)


def set_schedule(st: ServiceState, p: Principal, target_id: str, schedule: str, at_time: str = "02:00",
                 weekday: int = 0) -> dict:
    check(p, "site.edit")
    _check_schedule(schedule, at_time, weekday)
    with st.db.write() as s:
        t = _target(s, target_id)
        before = {"schedule": t.schedule, "at_time": t.at_time, "weekday": t.weekday}
        t.schedule, t.at_time, t.weekday, t.updated_at = schedule, at_time, weekday, now()
        t.next_run_at = next_run(schedule, at_time, weekday)
        audit.append(s, p.actor, "site.schedule_set", "site_target", t.id, before=before,
                     after={"schedule": schedule, "at_time": at_time, "weekday": weekday})
        return target_dict(s, t)


def _target(s, target_id: str) -> SiteTarget:
    t = s.get(SiteTarget, target_id)
    if t is None:
        raise err(404, "site_target_not_found", "检查对象不存在。")
    return t


def list_targets(st: ServiceState, p: Principal) -> list[dict]:
    check(p, "site.view")
    with st.db.read() as s:
        return [target_dict(s, t) for t in s.execute(select(SiteTarget).order_by(SiteTarget.created_at)).scalars()]


def get_target(st: ServiceState, p: Principal, target_id: str) -> dict:
    check(p, "site.view")
    with st.db.read() as s:
        out = target_dict(s, _target(s, target_id))
        out["runs"] = [run_dict(r) for r in s.execute(select(SiteRun).where(SiteRun.target_id == target_id)
                                                      .order_by(SiteRun.created_at.desc()).limit(50)).scalars()]
        return out


# -- runs -------------------------------------------------------------------------------------------
def run_dict(r: SiteRun) -> dict:
    return {"id": r.id, "target_id": r.target_id, "status": r.status, "status_zh": RUN_STATUS_ZH.get(r.status, r.status),
            "trigger": r.trigger, "since_run_id": r.since_run_id, "progress": json.loads(r.progress or "{}"),
            "summary": json.loads(r.summary or "{}"), "exit_code": r.exit_code, "error_code": r.error_code or None,
            "created_at": r.created_at, "started_at": r.started_at, "finished_at": r.finished_at}


def _queue_run(s, t: SiteTarget, trigger: str, user_id: int | None) -> SiteRun:
    r = SiteRun(id=str(uuid.uuid4()), target_id=t.id, status="queued", trigger=trigger, requested_by=user_id)
    s.add(r)
    s.flush()
    return r


def start_run(st: ServiceState, p: Principal, target_id: str) -> dict:
    check(p, "site.run")
    with st.db.write() as s:
        t = _target(s, target_id)
        busy = s.execute(select(SiteRun.id).where(SiteRun.target_id == t.id,
                                                  SiteRun.status.in_(("queued", "running")))).first()
        if busy:
            raise err(409, "site_run_busy", "该网站已有一次检查在排队或进行中。", run_id=busy[0])
        r = _queue_run(s, t, "manual", p.user_id)
        audit.append(s, p.actor, "site.run_queued", "site_run", r.id, after={"target": t.id, "trigger": "manual"})
        out = run_dict(r)
    _wake.set()
    return out


def _run(s, run_id: str) -> SiteRun:
    r = s.get(SiteRun, run_id)
    if r is None:
        raise err(404, "site_run_not_found", "检查记录不存在。")
    return r


def get_run(st: ServiceState, p: Principal, run_id: str, with_report: bool = False) -> dict:
    """A run; with_report=True adds the report (decrypted: titles, findings, matched text)."""
    check(p, "site.view")
    with st.db.read() as s:
        r = _run(s, run_id)
        out = run_dict(r)
        t = s.get(SiteTarget, r.target_id)
        out["target"] = {"id": t.id, "name": t.name, "url": t.url}
        if with_report and r.report_enc:
            out["report"] = json.loads(st.cipher.decrypt(r.report_enc, aad=_aad(r.id)))
    if "report" in out:            # the report quotes what was found: who read it goes on record
        with st.db.write() as s:
            audit.append(s, p.actor, "site.report_viewed", "site_run", run_id)
    return out


def purge_reports(st: ServiceState, at: float | None = None) -> int:
    """Drop the encrypted reports of runs older than the retention period (settings.retention_days);
    the run files (no text) stay, so later runs still compare with them. -> reports dropped."""
    cutoff = (at or time.time()) - st.settings.retention_days * 86400
    with st.db.write() as s:
        n = s.execute(update(SiteRun).where(SiteRun.created_at < cutoff, SiteRun.report_enc.is_not(None))
                      .values(report_enc=None)).rowcount or 0
        if n:
            audit.append(s, audit.SYSTEM, "retention.purge", "system", "", after={"site_reports": n, "cutoff": cutoff})
    return n


def _aad(run_id: str) -> bytes:
    return f"site-report:{run_id}".encode()


# -- the runner ---------------------------------------------------------------------------------------
_wake = threading.Event()


def _due_schedules(st: ServiceState) -> None:
    """Queue a run for each target whose next_run_at has come (at most one open run per target)."""
    t_now = time.time()
    with st.db.read() as s:          # the common case (nothing due) takes no write lock
        if s.execute(select(SiteTarget.id).where(SiteTarget.next_run_at.is_not(None),
                                                 SiteTarget.next_run_at <= t_now).limit(1)).first() is None:
            return
    with st.db.write() as s:
        due = s.execute(select(SiteTarget).where(SiteTarget.next_run_at.is_not(None),
                                                 SiteTarget.next_run_at <= t_now)).scalars().all()
        for t in due:
            was = t.next_run_at
            nxt = next_run(t.schedule, t.at_time, t.weekday, after=t_now)
            won = s.execute(update(SiteTarget).where(SiteTarget.id == t.id, SiteTarget.next_run_at == was)
                            .values(next_run_at=nxt)).rowcount
            if not won:
                continue
            busy = s.execute(select(SiteRun.id).where(SiteRun.target_id == t.id,
                                                      SiteRun.status.in_(("queued", "running")))).first()
            if busy:
                continue
            r = _queue_run(s, t, "schedule", None)
            audit.append(s, audit.SYSTEM, "site.run_queued", "site_run", r.id,
                         after={"target": t.id, "trigger": "schedule"})


def _claim(st: ServiceState) -> str | None:
    t_now = time.time()
    with st.db.read() as s:          # the common case (nothing to run) takes no write lock
        if s.execute(select(SiteRun.id).where((SiteRun.status == "queued") | (
                (SiteRun.status == "running") & (SiteRun.lease_until < t_now))).limit(1)).first() is None:
            return None
    with st.db.write() as s:
        # a run whose process died while running (its lease ran out) is queued again
        s.execute(update(SiteRun).where(SiteRun.status == "running", SiteRun.lease_until < t_now)
                  .values(status="queued", lease_until=None))
        r = s.execute(select(SiteRun).where(SiteRun.status == "queued").order_by(SiteRun.created_at)
                      .limit(1)).scalar_one_or_none()
        if r is None:
            return None
        won = s.execute(update(SiteRun).where(SiteRun.id == r.id, SiteRun.status == "queued").values(
            status="running", started_at=t_now, lease_until=t_now + LEASE_S,
            progress=json.dumps({"stage": "crawl", "fetched": 0}))).rowcount
        return r.id if won else None


def _options(st: ServiceState, t: SiteTarget) -> CrawlOptions:
    o = json.loads(t.options or "{}")
    return CrawlOptions(max_pages=min(int(o.get("max_pages", 200)), st.settings.site_max_pages),
                        max_depth=int(o.get("max_depth", 3)), same_host=bool(o.get("same_host")),
                        allow_hosts=tuple(o.get("allow_hosts") or ()),
                        delay_s=max(float(o.get("delay_s", 1.0)), st.settings.site_min_delay_s),
                        ignore_robots=bool(o.get("ignore_robots")), loopback_only=st.settings.site_loopback_only,
                        light=st.settings.light_scanner)


def execute(st: ServiceState, run_id: str) -> None:
    """Run one claimed inspection to its end (done / failed / back to the queue on shutdown)."""
    with st.db.read() as s:
        r = _run(s, run_id)
        t = s.get(SiteTarget, r.target_id)
        url, opts = t.url, _options(st, t)
        prev = s.execute(select(SiteRun).where(SiteRun.target_id == t.id, SiteRun.status == "done",
                                               SiteRun.id != run_id).order_by(SiteRun.finished_at.desc())
                         .limit(1)).scalar_one_or_none()
        since = json.loads(prev.state) if prev is not None and prev.state else None
        since_id = prev.id if prev is not None else None
    last = [0.0]

    def progress(ev: dict) -> None:
        if time.monotonic() - last[0] < 1.0:
            return
        last[0] = time.monotonic()
        ev = {k: v for k, v in ev.items() if k != "url"}          # counts only
        with st.db.write() as s:
            s.execute(update(SiteRun).where(SiteRun.id == run_id).values(
                progress=json.dumps(ev), lease_until=time.time() + LEASE_S))

    def scan_file(path: str, rurl: str) -> dict:
        if st.stop.is_set():
            raise RuntimeError("shutting down")
        name = urlsplit(rurl).path.rsplit("/", 1)[-1] or "index.html"
        return scan_draft(st, Path(path).read_bytes(), name).to_dict()

    try:
        res = inspect(url, opts, since=since, progress=progress, cancel=st.stop, scan_file=scan_file,
                      workdir=str(st.blobs.tmp))
    except Exception as exc:
        with st.db.write() as s:
            s.execute(update(SiteRun).where(SiteRun.id == run_id).values(
                status="failed", error_code="site.failed", finished_at=time.time(), lease_until=None,
                summary=json.dumps({"error": type(exc).__name__})))
            audit.append(s, audit.SYSTEM, "site.run_failed", "site_run", run_id, after={"error": type(exc).__name__})
        return
    if st.stop.is_set():            # cut short by a shutdown: again from the start next time
        with st.db.write() as s:
            s.execute(update(SiteRun).where(SiteRun.id == run_id).values(status="queued", lease_until=None))
        return
    doc = build(res, st.taxonomy)
    state = run_state(res, since)
    summary = {"stats": doc["stats"], "skipped_total": doc["skipped_total"], "removed": len(doc["removed"]),
               "since_started_at": (doc.get("since") or {}).get("started_at")}
    with st.db.write() as s:
        s.execute(update(SiteRun).where(SiteRun.id == run_id).values(
            status="done", finished_at=time.time(), lease_until=None, since_run_id=since_id,
            state=json.dumps(state, ensure_ascii=False), summary=json.dumps(summary),
            exit_code=doc["exit_code"], progress=json.dumps({"stage": "done"}),
            report_enc=st.cipher.encrypt(json.dumps(doc, ensure_ascii=False).encode("utf-8"), aad=_aad(run_id))))
        audit.append(s, audit.SYSTEM, "site.run_finished", "site_run", run_id,
                     after={"fetched": doc["stats"]["fetched"], "reported": doc["stats"]["reported"],
                            "actions": doc["stats"]["actions"], "exit_code": doc["exit_code"]})


def runner_loop(st: ServiceState) -> None:
    last_purge = 0.0
    while not st.stop.is_set():
        try:
            if time.time() - last_purge > 3600:
                last_purge = time.time()
                purge_reports(st)
            _due_schedules(st)
            run_id = _claim(st)
            if run_id is not None:
                execute(st, run_id)
                continue
        except Exception:           # the runner must outlive a database hiccup; the run's lease brings it back
            pass
        _wake.wait(st.settings.site_poll_s)
        _wake.clear()


def stop_site_runner() -> None:
    """Wake the runner so that it sees st.stop (service.jobs.stop_workers joins it)."""
    _wake.set()


def start_site_runner(st: ServiceState) -> None:
    if not st.settings.site_runner:
        return
    t = threading.Thread(target=runner_loop, args=(st,), name="baomi-site-runner", daemon=True)
    t.start()
    st.workers.append(t)


def user_name(s, uid: int | None) -> str:
    u = s.get(User, uid) if uid else None
    return (u.display_name or u.username) if u else "系统"
