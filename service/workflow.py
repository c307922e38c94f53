"""The submission workflow (申请 → 保密审查 → 修改 → 审批 → 发布) as a state machine, and the one
table that answers "may this principal do this" for the API and the pages.

    scanning ──scan done──▶ pending_review ──review.approve──▶ pending_approval ──approval.approve──▶ approved ──publish──▶ published
        ▲                      │  ▲   review.escalate ⇄ escalated        │                                    │
        └──resubmit────────────┤  └────────────────────────────┘        │ approval.request_changes           │
                               ▼ review.request_changes                 ▼                                    │
                        changes_requested ◀──────────────────────────────┘                                    │
    review.reject / approval.reject ──▶ rejected;   withdraw (any open state, owner or admin) ──▶ withdrawn ◀──┘ (not after publish)

`PERMISSIONS` says, per action, which roles may act, which scope the credential must carry (a
session carries its role's scopes, an API key its own), how the principal must relate to the
submission (anyone who may see it, its submitter, its submitter or an admin) and which of the
submission's own people may not act (the approver must not be its reviewer). `TRANSITIONS` says
from which states an action (with its decision) leads to which state. `can()` / `check()` read
both; `apply()` performs a transition: one write transaction with the Decision row and an audit
entry holding before/after state (never draft text). The pages and the API call the same
functions, so they cannot drift on who may do what.

The read side (summary, detail with findings and verdicts, the diff between versions, the list,
the audit trail) lives here too: it is what the pages and the API show of the same state.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from scanner.model import Finding

from . import audit, recordno
from .errors import APIError, err
from .faults import fault
from .intake import Draft
from .models import (AuditEntry, Decision, FindingRow, Job, ReportRow, Submission, User, Verdict,
                     Version, now)
from .principal import Principal
from .queue import new_job, queue_guard
from .reports import finding_detail, load_report
from .security import STAFF
from .state import ServiceState

# -- states -------------------------------------------------------------------------------------
STATES = ("scanning", "pending_review", "changes_requested", "escalated", "pending_approval", "approved",
          "published", "rejected", "withdrawn")
OPEN = ("scanning", "pending_review", "changes_requested", "escalated", "pending_approval", "approved")
FINAL = ("published", "rejected", "withdrawn")
STATUS_ZH = {"scanning": "自动审查中", "pending_review": "待保密审查", "changes_requested": "退回修改",
             "escalated": "已提交上级/保密办", "pending_approval": "待审批", "approved": "已批准发布",
             "published": "已发布", "rejected": "不予发布", "withdrawn": "已撤回"}
# the steps a submission page shows, and which states belong to each
STEPS = (("申请", ("scanning",)), ("保密审查", ("pending_review", "escalated")), ("修改", ("changes_requested",)),
         ("审批", ("pending_approval",)), ("发布", ("approved", "published")))

# the 申请 fields an author fills in
FIELDS = ("title", "purpose", "channel", "scope", "summary")

# per-finding verdicts of a reviewer
VERDICTS = ("confirmed", "false_positive", "accepted_risk")
VERDICT_ZH = {"confirmed": "确认风险", "false_positive": "误报", "accepted_risk": "接受风险"}
# decisions recorded on a submission (Decision.decision), by step (Decision.level)
OPINION_ZH = {"approve": "同意发布", "request_changes": "退回修改", "reject": "不予发布",
              "escalate": "提交上级/保密办", "published": "已发布", "withdrawn": "撤回"}
LEVEL_ZH = {"review": "保密审查", "approval": "审批", "publication": "发布", "submission": "申请人"}

# -- who may do what ------------------------------------------------------------------------------
AUTHORS = ("author", "admin")
REVIEWERS = ("reviewer", "admin")     # the 保密审查 (verdicts and the review decision): not the approver
APPROVERS = ("approver", "admin")
ADMINS = ("admin",)
INSPECTORS = ("inspector", "admin")   # 保密检查 of the published site (service.site)

ANY, OWNER, OWNER_OR_ADMIN = "any", "owner", "owner_or_admin"


@dataclass(frozen=True)
class Permission:
    roles: tuple[str, ...] = ()       # empty: any role
    scope: str | tuple[str, ...] | None = None   # the credential must carry it (or one of them);
                                      # sessions carry their role's scopes, API keys their own
    who: str = ANY                    # relation to the submission: ANY (who may see it), OWNER, OWNER_OR_ADMIN
    excludes: tuple[str, ...] = ()    # the submission's own people who may not act (see `involved`):
                                      # "submitter" (its owner, anyone who authored a version),
                                      # "reviewer" (who judged findings of or decided on the current version)
    zh: str = "执行此操作"              # the act in words, for messages


# what reading a submission (its drafts, report, record, audit trail) needs: `submit` for one's own,
# `review` for staff; a `scan` or `gate` key reads neither
READ = ("submit", "review")
# stored reports and jobs: any working scope (a scan or gate key reads back what it created)
WORK = ("scan", "gate", "submit", "review")

PERMISSIONS: dict[str, Permission] = {
    # the submission workflow (see TRANSITIONS for the states)
    "submission.view": Permission((), READ),            # owner or staff (see `visible`)
    "submission.list": Permission((), READ),            # staff see all, others their own
    "submit": Permission(AUTHORS, "submit"),
    "resubmit": Permission(AUTHORS, "submit", OWNER, zh="提交新版本"),
    "withdraw": Permission((), "submit", OWNER_OR_ADMIN),
    "verdict": Permission(REVIEWERS, "review", excludes=("submitter",), zh="填写审查结论"),
    "review": Permission(REVIEWERS, "review", excludes=("submitter",)),
    "approval": Permission(APPROVERS, "approve", excludes=("submitter", "reviewer")),
    "publish": Permission((), "submit", OWNER_OR_ADMIN),
    # scans, the CMS gate, stored reports and jobs
    "scan": Permission((), "scan"),
    "gate": Permission((), "gate"),
    "report.view": Permission((), WORK),                # its creator or staff
    "job.view": Permission((), WORK),                   # its creator or staff
    # review tools and administration
    "queue.view": Permission(STAFF, "review"),
    "lexicon.view": Permission(STAFF, "review"),
    "allowlist.view": Permission(APPROVERS, "approve"),
    "allowlist.edit": Permission(APPROVERS, "approve"),        # add/remove hashes, revoke/expire entries
    # promote an accepted-risk / false-alarm verdict to a fingerprint allowlist entry (service.remembered)
    "allowlist.promote": Permission(REVIEWERS, "review", excludes=("submitter",), zh="加入白名单"),
    "admin": Permission(ADMINS, "admin"),               # users, API keys, lexicon edits, audit verify
    # 档案保密审查 (service.archive): 初审 by a reviewer, 复核 and 审核 by approvers; one person per step of
    # a batch (service.archive.denial checks the batch's state and its people)
    "archive.view": Permission(STAFF, "review"),
    "archive.create": Permission(REVIEWERS, "review", zh="提交档案批次"),
    "archive.initial": Permission(REVIEWERS, "review", zh="档案初审"),
    "archive.recheck": Permission(APPROVERS, "approve", zh="档案复核"),
    "archive.final": Permission(APPROVERS, "approve", zh="档案审核"),
    # 保密检查: site inspections (service.site): targets, runs, schedules, reports
    "site.view": Permission(INSPECTORS, "inspect", zh="查看网站保密检查"),
    "site.run": Permission(INSPECTORS, "inspect", zh="启动网站保密检查"),
    "site.edit": Permission(INSPECTORS, "inspect", zh="设置检查对象和计划"),
}
SEPARATION_ZH = {"reviewer": "审批人不能与审查人为同一人。",
                 "submitter": "不能审查或审批本人提交的申请。"}


@dataclass(frozen=True)
class Transition:
    action: str                 # a PERMISSIONS key
    decision: str | None        # the decision within the action (review: approve/request_changes/…)
    sources: tuple[str, ...]    # from these states
    to: str | None              # to this state (None: the state stays, e.g. a verdict)
    level: str | None = None    # the Decision row's level (None: no Decision row)
    needs_reason: bool = False


REVIEWABLE = ("pending_review", "escalated")
TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", None, (), "scanning"),
    Transition("resubmit", None, ("pending_review", "changes_requested"), "scanning"),
    Transition("verdict", None, REVIEWABLE, None),
    Transition("review", "approve", REVIEWABLE, "pending_approval", "review"),
    Transition("review", "request_changes", REVIEWABLE, "changes_requested", "review", needs_reason=True),
    Transition("review", "reject", REVIEWABLE, "rejected", "review", needs_reason=True),
    Transition("review", "escalate", REVIEWABLE, "escalated", "review", needs_reason=True),
    Transition("approval", "approve", ("pending_approval",), "approved", "approval"),
    Transition("approval", "request_changes", ("pending_approval",), "changes_requested", "approval",
               needs_reason=True),
    Transition("approval", "reject", ("pending_approval",), "rejected", "approval", needs_reason=True),
    Transition("withdraw", "withdrawn", OPEN, "withdrawn", "submission"),
    Transition("publish", "published", ("approved",), "published", "publication"),
)
# what the scan of the current version does to a submission (the system acts, not a principal)
SCAN_DONE = Transition("system.scan_done", None, ("scanning",), "pending_review")

_BY_KEY = {(t.action, t.decision): t for t in TRANSITIONS}


def decisions(action: str) -> tuple[str, ...]:
    """The decisions an action offers (review: approve, request_changes, reject, escalate)."""
    return tuple(t.decision for t in TRANSITIONS if t.action == action and t.decision is not None)


def transition(action: str, decision: str | None = None) -> Transition:
    try:
        return _BY_KEY[(action, decision)]
    except KeyError:
        raise ValueError(f"no transition {action!r} with decision {decision!r}") from None


def _sources(action: str, decision: str | None) -> tuple[str, ...]:
    """The states an action may start from (any of its decisions when decision is None); empty
    when the action is not a transition of an existing submission."""
    ts = [t for t in TRANSITIONS if t.action == action and (decision is None or t.decision == decision)]
    return tuple(dict.fromkeys(s for t in ts for s in t.sources))


def visible(p: Principal, owner_id: int | None) -> bool:
    """May `p` see a submission, report or job created by `owner_id`: its owner, or staff (a staff
    role on a credential with the `review` scope: Principal.is_staff)."""
    return p.is_staff or owner_id == p.user_id


def denial(p: Principal, action: str, sub: Submission | None = None,
           decision: str | None = None) -> APIError | None:
    """Why `p` may not do `action` (on `sub`, with `decision`), as the APIError the API answers
    with; None when allowed. Without `sub` only the role and the scope are checked.

    The checks run in a fixed order, so a caller learns no more than it may: role, scope, may it
    see the submission, its relation to it, the submission's state, separation of duties."""
    perm = PERMISSIONS[action]
    if perm.roles and p.role not in perm.roles:
        return err(403, "role_forbidden", "当前角色无权执行此操作。", required_roles=list(perm.roles))
    need = (perm.scope,) if isinstance(perm.scope, str) else perm.scope
    if need and not set(need) & p.scopes:
        return err(403, "scope_forbidden", "该凭据没有执行此操作的权限范围。", required_scope=" | ".join(need))
    if sub is None:
        return None
    if not visible(p, sub.owner_id):
        return err(403, "not_owner", "只能查看和操作本人的申请。")
    if perm.who == OWNER and sub.owner_id != p.user_id or \
            perm.who == OWNER_OR_ADMIN and sub.owner_id != p.user_id and p.role != "admin":
        return err(403, "not_owner", f"只有申请人可以{perm.zh}。")
    sources = _sources(action, decision)
    if sources and sub.status not in sources:
        return err(409, "invalid_state", f"当前状态（{STATUS_ZH.get(sub.status, sub.status)}）不能{perm.zh}。",
                   state=sub.status)
    if perm.excludes:
        people = involved(sub)
        for who in perm.excludes:
            if p.user_id in people[who]:
                return err(403, "separation_of_duties", SEPARATION_ZH[who], conflict=who)
    return None


# the audit actions that create a version (their actor authored it)
AUTHORING = ("submission.created", "submission.version_added")


def involved(sub: Submission) -> dict[str, set[int]]:
    """The submission's own people, whatever their role is now: "submitter" = its owner and every
    user who authored one of its versions (the audit log's actors of AUTHORING entries);
    "reviewer" = who took the review decision to approve, gave a verdict on a finding of the
    current version, or decided on it at the review step. Read through the session `sub` is
    attached to; a detached object (no session) answers from its own columns."""
    submitters = {sub.owner_id}
    reviewers = {sub.reviewer_id} - {None}
    s = object_session(sub)
    if s is not None and sub.id is not None:
        submitters |= {a for (a,) in s.execute(select(AuditEntry.actor_id).where(
            AuditEntry.object_type == "submission", AuditEntry.object_id == sub.id,
            AuditEntry.action.in_(AUTHORING), AuditEntry.actor_id.is_not(None)))}
        reviewers |= {u for (u,) in s.execute(select(Decision.user_id).where(
            Decision.submission_id == sub.id, Decision.level == "review",
            Decision.version_number == sub.current_version))}
        ver = s.execute(select(Version.report_id).where(Version.submission_id == sub.id,
                                                        Version.number == sub.current_version)).scalar()
        if ver:
            reviewers |= {u for (u,) in s.execute(select(Verdict.user_id).join(
                FindingRow, FindingRow.id == Verdict.finding_id).where(FindingRow.report_id == ver))}
    return {"submitter": submitters, "reviewer": reviewers}


def approval_stands(sub: Submission) -> bool:
    """An approved/published submission whose sign-offs obey separation of duties (what the gate
    relies on): a reviewer and an approver on record, different people, neither a submitter.
    Rows written before these rules (or by hand) do not count."""
    if sub.status not in ("approved", "published") or sub.reviewer_id is None or sub.approver_id is None:
        return False
    people = involved(sub)
    return (sub.approver_id != sub.reviewer_id and sub.approver_id not in people["reviewer"]
            and not ({sub.approver_id, sub.reviewer_id} & people["submitter"]))


def can(p: Principal, action: str, sub: Submission | None = None, decision: str | None = None) -> bool:
    return denial(p, action, sub, decision) is None


def check(p: Principal, action: str, sub: Submission | None = None, decision: str | None = None) -> None:
    """Raise the APIError of `denial` (403/409), or return when allowed."""
    e = denial(p, action, sub, decision)
    if e is not None:
        raise e


def allowed(p: Principal, sub: Submission, actions: Iterable[str] = ("verdict", "review", "approval", "resubmit",
                                                                    "withdraw", "publish")) -> set[str]:
    """The actions `p` may take on `sub` now (what a page offers)."""
    return {a for a in actions if can(p, a, sub)}


def _reason_ok(reason: str) -> bool:
    return len(reason.strip()) >= 2


# -- reading --------------------------------------------------------------------------------------
def load(s, p: Principal, sub_id: str) -> Submission:
    """The submission, if `p` may see it: 404 when there is none, 403 when it is someone else's."""
    sub = s.get(Submission, sub_id)
    if sub is None:
        raise err(404, "submission_not_found", "申请不存在。")
    if not visible(p, sub.owner_id):
        raise err(403, "not_owner", "只能查看和操作本人的申请。")
    return sub


def _state(sub: Submission) -> dict:
    return {"status": sub.status, "version": sub.current_version}


def current_version(s, sub: Submission) -> Version:
    return s.execute(select(Version).where(Version.submission_id == sub.id,
                                           Version.number == sub.current_version)).scalar_one()


def submission_summary(s, sub: Submission) -> dict:
    ver = current_version(s, sub)
    rep = s.get(ReportRow, ver.report_id) if ver.report_id else None
    owner = s.get(User, sub.owner_id)
    return {"id": sub.id, "record_no": recordno.record_number(sub), "title": sub.title, "purpose": sub.purpose, "channel": sub.channel,
            "scope": sub.scope, "summary": sub.summary, "status": sub.status,
            "status_label": STATUS_ZH.get(sub.status, sub.status), "current_version": sub.current_version,
            "owner": {"id": owner.id, "username": owner.username, "display_name": owner.display_name},
            "decision": rep.decision if rep else None, "risk_score": rep.risk_score if rep else None,
            "finding_count": rep.finding_count if rep else None,
            "categories": [c for c in rep.categories.split(",") if c] if rep else [],
            "created_at": sub.created_at, "updated_at": sub.updated_at, "published_at": sub.published_at}


def _finding_dicts(s, st: ServiceState, ver: Version, with_segments: bool) -> tuple[dict | None, list[dict]]:
    """The version's report with each finding's row id and verdict."""
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
            **finding_detail(s, r)}
        v = verdicts.get(r.id)
        f["id"] = r.id
        f["group"] = r.group_id or f.get("group") or f"f{r.id}"
        f["needs_verdict"] = bool(r.needs_verdict)
        f.setdefault("allowlisted", None)
        f["verdict"] = ({"verdict": v.verdict, "reason": v.reason, "user_id": v.user_id,
                         "created_at": v.created_at, "carried_from_version": v.carried_from_version,
                         "batch": bool(v.batch)} if v else None)
        f["state"] = finding_state(f)
        f["state_label"] = state_label(f)
        out.append(f)
    rep["findings"] = out
    return rep, out


def _diff(s, sub: Submission, number: int) -> dict | None:
    """Findings of version `number` against the version before, by fingerprint."""
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


def submission_detail(st: ServiceState, p: Principal, sub_id: str, segments: bool = False,
                      version: int | None = None) -> dict:
    """Fields, versions, the report of `version` (default: the current one) with finding ids and
    verdicts, the diff against the previous version, decisions. `segments=True` adds the draft
    text, and who read it goes on record."""
    with st.db.read() as s:
        sub = load(s, p, sub_id)
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
        out["decisions"] = [{"level": d.level, "decision": d.decision, "label": OPINION_ZH.get(d.decision, d.decision),
                             "reason": d.reason, "version": d.version_number, "user_id": d.user_id,
                             "created_at": d.created_at}
                            for d in s.execute(select(Decision).where(Decision.submission_id == sub.id)
                                               .order_by(Decision.id)).scalars()]
    if segments:
        with st.db.write() as s:
            audit.append(s, p.actor, "submission.text_viewed", "submission", sub_id, after={"version": n})
    return out


def list_submissions(st: ServiceState, p: Principal, *, status: str | None = None, decision: str | None = None,
                     owner: str | None = None, category: str | None = None, newest_first: bool = False,
                     limit: int = 50, offset: int = 0) -> dict:
    """Submissions `p` may see (staff: all; others: their own), filtered; counts per status."""
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


def audit_trail(st: ServiceState, p: Principal, sub_id: str) -> list[dict]:
    """The audit entries of one submission (no draft text is ever in them)."""
    with st.db.read() as s:
        load(s, p, sub_id)
        rows = s.execute(select(AuditEntry).where(AuditEntry.object_type == "submission",
                                                  AuditEntry.object_id == sub_id).order_by(AuditEntry.seq)).scalars()
        return [{"seq": e.seq, "ts": e.ts, "actor": e.actor, "role": e.role, "action": e.action,
                 "ip": e.ip, "before": json.loads(e.before) if e.before else None,
                 "after": json.loads(e.after) if e.after else None, "hash": e.hash} for e in rows]


# -- acting ---------------------------------------------------------------------------------------
def store_version(st: ServiceState, p: Principal, d: Draft, sub_id: str | None, meta: dict,
                  idem_key: str | None) -> tuple[str, bool]:
    """A new submission (sub_id None) or a new version of one: the encrypted blob is made durable
    first, then the submission/version/job/audit rows in one transaction. -> (id, replay)."""
    check(p, "submit" if sub_id is None else "resubmit")
    if idem_key and sub_id is None:
        with st.db.read() as s:
            prev = s.execute(select(Submission.id).where(Submission.owner_id == p.user_id,
                                                         Submission.idempotency_key == idem_key)).first()
            if prev:
                return prev[0], True
    blob_id = st.blobs.put(d.data)
    try:
        with st.db.write() as s:
            # the queue bound again, exact, under a lock (the early check ran before the body was read)
            queue_guard(s, st)
            if sub_id is None:
                sub = Submission(id=str(uuid.uuid4()), owner_id=p.user_id, status=transition("submit").to,
                                 current_version=1, idempotency_key=idem_key,
                                 **{k: meta.get(k, "") for k in FIELDS})
                sub.created_at = now()
                recordno.assign(s, sub, st.settings.record_prefix)
                s.add(sub)
                s.flush()
                before, number, action = None, 1, "submission.created"
            else:
                sub = load(s, p, sub_id)
                check(p, "resubmit", sub)
                before = _state(sub)
                number, action = sub.current_version + 1, "submission.version_added"
                sub.current_version, sub.status, sub.updated_at = number, transition("resubmit").to, now()
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


def scan_finished(s, ver: Version, after: dict) -> None:
    """The scan of a version has its report (inside the job's write transaction): a submission
    waiting for the scan of its current version goes to review; the audit entry says so."""
    sub = s.get(Submission, ver.submission_id)
    if sub.status in SCAN_DONE.sources and sub.current_version == ver.number:
        sub.status, sub.updated_at = SCAN_DONE.to, now()
    audit.append(s, audit.SYSTEM, "scan.completed", "submission", sub.id, before={"status": "scanning"},
                 after={**after, "status": sub.status})
    carried = carry_verdicts(s, sub, ver)
    if carried:
        audit.append(s, audit.SYSTEM, "review.verdicts_carried", "submission", sub.id,
                     after={"version": ver.number, "from_version": ver.number - 1, "count": carried})


def carry_verdicts(s, sub: Submission, ver: Version) -> int:
    """Verdicts remembered across versions: each finding of `ver` whose fingerprint (and rule) had a
    verdict in the version before gets that verdict, marked carried over, with the original
    reviewer and time (the reviewer can change it). -> how many were carried."""
    if ver.number <= 1 or not ver.report_id:
        return 0
    s.flush()
    prev = s.execute(select(Version).where(Version.submission_id == sub.id,
                                           Version.number == ver.number - 1)).scalar_one_or_none()
    if prev is None or not prev.report_id:
        return 0
    old = {(r.fingerprint, r.rule_id): v for r, v in s.execute(
        select(FindingRow, Verdict).join(Verdict, Verdict.finding_id == FindingRow.id)
        .where(FindingRow.report_id == prev.report_id))}
    n = 0
    for r in s.execute(select(FindingRow).where(FindingRow.report_id == ver.report_id)).scalars():
        v = old.get((r.fingerprint, r.rule_id))
        if v is None:
            continue
        s.add(Verdict(submission_id=sub.id, finding_id=r.id, verdict=v.verdict, reason=v.reason, user_id=v.user_id,
                      created_at=v.created_at, carried_from_id=v.carried_from_id or v.id,
                      carried_from_version=v.carried_from_version or prev.number, batch=v.batch))
        n += 1
    return n


def _current_finding(s, p: Principal, sub_id: str, finding_id: int,
                     action: str) -> tuple[Submission, Version, FindingRow]:
    """The submission (`action` allowed on it), its current version and one finding of that
    version's report; 404 finding_not_found for a finding of another version or submission."""
    sub = load(s, p, sub_id)
    check(p, action, sub)
    ver = current_version(s, sub)
    f = s.get(FindingRow, finding_id)
    if f is None or f.report_id != ver.report_id:
        raise err(404, "finding_not_found", "该发现不属于本申请的当前版本。")
    return sub, ver, f


def put_verdict(st: ServiceState, p: Principal, sub_id: str, finding_id: int, verdict: str, reason: str) -> dict:
    """A reviewer's verdict on one finding of the current version (replaces an earlier one)."""
    check(p, "verdict")
    if verdict not in VERDICTS:
        raise ValueError(verdict)
    if verdict != "confirmed" and not _reason_ok(reason):
        raise err(422, "reason_required", "判定为误报或接受风险时必须填写理由。")
    with st.db.write() as s:
        sub, ver, f = _current_finding(s, p, sub_id, finding_id, "verdict")
        # a verdict is on the reviewable item: every occurrence of the same group (rule + text)
        rows = ([f] if not f.group_id else s.execute(select(FindingRow).where(
            FindingRow.report_id == ver.report_id, FindingRow.group_id == f.group_id)).scalars().all())
        old = _set_verdicts(s, sub, p, rows, verdict, reason)
        before = {"verdict": old[f.id]} if old.get(f.id) else None
        audit.append(s, p.actor, "review.verdict", "submission", sub.id, before=before,
                     after={"finding": f.id, "fingerprint": f.fingerprint, "category": f.category,
                            "verdict": verdict, "occurrences": len(rows)})
        return {"finding_id": f.id, "verdict": verdict, "reason": reason, "occurrences": len(rows)}


def _set_verdicts(s, sub: Submission, p: Principal, rows, verdict: str, reason: str,
                  batch: bool = False) -> dict[int, str | None]:
    """Give `verdict` to the finding rows (replacing earlier or carried ones) -> their old verdicts."""
    have = {v.finding_id: v for v in s.execute(select(Verdict).where(
        Verdict.finding_id.in_([r.id for r in rows]))).scalars()} if rows else {}
    old: dict[int, str | None] = {}
    t = now()
    for r in rows:
        v = have.get(r.id)
        old[r.id] = v.verdict if v else None
        if v is None:
            s.add(Verdict(submission_id=sub.id, finding_id=r.id, verdict=verdict, reason=reason, user_id=p.user_id,
                          batch=batch, created_at=t))
        else:
            v.verdict, v.reason, v.user_id, v.created_at = verdict, reason, p.user_id, t
            v.carried_from_id = v.carried_from_version = None
            v.batch = batch
    return old


# the verdict states a finding can be in (the review page's filter, the API's `state`)
FINDING_STATES = ("open", "judged", "carried", "not_needed", "allowlisted")


def carried_zh(version: int | None = None) -> str:
    """The label of a verdict carried over from an earlier version, one wording for the review
    page, the record and the API: 沿用第 N 版的结论 (沿用上一版的结论 where N is not known)."""
    return f"沿用第 {version} 版的结论" if version else "沿用上一版的结论"


FINDING_STATE_ZH = {"open": "待审查", "judged": "已审查", "carried": carried_zh(),
                    "not_needed": "无需结论（提示）", "allowlisted": "白名单"}
SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
SORTS = ("position", "category", "severity", "layer", "state")


def finding_state(f: dict) -> str:
    v = f.get("verdict")
    if v:
        return "carried" if v.get("carried_from_version") else "judged"
    if f.get("allowlisted"):
        return "allowlisted"
    return "open" if f.get("needs_verdict", True) else "not_needed"


def state_label(f: dict) -> str:
    """A finding's verdict state in Chinese; a carried verdict names the version it came from."""
    state = f.get("state") or finding_state(f)
    if state == "carried":
        return carried_zh((f.get("verdict") or {}).get("carried_from_version"))
    return FINDING_STATE_ZH.get(state, "其他")


@dataclass(frozen=True)
class FindingFilter:
    """Which findings of a report: category (prefix, comma separated), severity and layer (comma
    separated), verdict state (FINDING_STATES, comma separated), text (the matched text contains it)."""
    category: str = ""
    severity: str = ""
    layer: str = ""
    state: str = ""
    text: str = ""

    def __bool__(self) -> bool:
        return any((self.category, self.severity, self.layer, self.state, self.text))

    def match(self, f: dict) -> bool:
        def many(v: str) -> list[str]:
            return [x.strip() for x in v.split(",") if x.strip()]
        if self.category and not any(f["category"] == c or f["category"].startswith(c + ".") or
                                     f["category"].startswith(c) and c.endswith(".") for c in many(self.category)):
            return False
        if self.severity and f.get("severity") not in many(self.severity):
            return False
        if self.layer and f.get("layer") not in many(self.layer):
            return False
        if self.state and (f.get("state") or finding_state(f)) not in many(self.state):
            return False
        if self.text and self.text.strip().casefold() not in (f.get("text") or "").casefold():
            return False
        return True


def select_findings(findings: list[dict], flt: FindingFilter, sort: str = "position") -> list[dict]:
    out = [f for f in findings if flt.match(f)]
    state_rank = {k: i for i, k in enumerate(FINDING_STATES)}
    keys = {"category": lambda f: (f["category"], -SEVERITY_RANK.get(f.get("severity", ""), 0)),
            "severity": lambda f: (-SEVERITY_RANK.get(f.get("severity", ""), 0), f["category"]),
            "layer": lambda f: (f.get("layer", ""), f["category"]),
            "state": lambda f: (state_rank.get(f.get("state") or finding_state(f), 9),
                                -SEVERITY_RANK.get(f.get("severity", ""), 0))}
    if sort in keys:
        out = sorted(out, key=keys[sort])      # stable: position order within equal keys
    return out


def group_findings(findings: list[dict]) -> list[dict]:
    """Findings of one group (same rule and normalised text) as one reviewable item, in the order
    of their first occurrence: the first finding with `occurrences` (all of the group's findings)."""
    out: dict[str, dict] = {}
    for f in findings:
        g = out.get(f["group"])
        if g is None:
            out[f["group"]] = g = {**f, "occurrences": []}
        g["occurrences"].append(f)
        if SEVERITY_RANK.get(f.get("severity", ""), 0) > SEVERITY_RANK.get(g.get("severity", ""), 0):
            g["severity"] = f["severity"]
    return list(out.values())


def category_counts(findings: list[dict]) -> dict[str, dict[str, int]]:
    """Per category: findings, groups, groups that still need a verdict."""
    out: dict[str, dict[str, int]] = {}
    seen: set[str] = set()
    for f in findings:
        c = out.setdefault(f["category"], {"findings": 0, "groups": 0, "open": 0})
        c["findings"] += 1
        if f["group"] not in seen:
            seen.add(f["group"])
            c["groups"] += 1
            c["open"] += (f.get("state") or finding_state(f)) == "open"
    return dict(sorted(out.items()))


def findings_view(st: ServiceState, p: Principal, sub_id: str, flt: FindingFilter | None = None,
                  sort: str = "position", version: int | None = None) -> dict:
    """The findings of a version as the review page and the API list them: filtered and sorted,
    grouped (each group once with its occurrences), with counts per category and per state."""
    with st.db.read() as s:
        sub = load(s, p, sub_id)
        n = version or sub.current_version
        ver = s.execute(select(Version).where(Version.submission_id == sub.id, Version.number == n)).scalar_one_or_none()
        if ver is None:
            raise err(404, "version_not_found", "版本不存在。")
        _, findings = _finding_dicts(s, st, ver, False)
    groups = group_findings(findings)
    shown = group_findings(select_findings(findings, flt or FindingFilter(), sort))
    states: dict[str, int] = {k: 0 for k in FINDING_STATES}
    for g in groups:
        states[g["state"]] += 1
    return {"version": n, "total_findings": len(findings), "total_groups": len(groups),
            "categories": category_counts(findings), "states": states,
            "needs_verdict": sum(1 for g in groups if g["state"] == "open"),
            "groups": shown, "shown_findings": sum(len(g["occurrences"]) for g in shown)}


def batch_verdict(st: ServiceState, p: Principal, sub_id: str, flt: FindingFilter, verdict: str, reason: str,
                  only_open: bool = True) -> dict:
    """One verdict with one reason for every finding of the current version the filter selects
    (only those without a verdict yet unless `only_open` is False); one audit entry with the count
    (the filter's fields, never the text searched for)."""
    check(p, "verdict")
    if verdict not in VERDICTS:
        raise ValueError(verdict)
    if not _reason_ok(reason):
        raise err(422, "reason_required", "批量审查结论必须填写理由。")
    if not flt:
        raise err(422, "filter_required", "批量审查须至少选择一个筛选条件。")
    with st.db.write() as s:
        sub = load(s, p, sub_id)
        check(p, "verdict", sub)
        ver = current_version(s, sub)
        if not ver.report_id:
            raise err(409, "scan_pending", "自动审查尚未完成。")
        _, findings = _finding_dicts(s, st, ver, False)
        chosen = [f for f in findings if flt.match(f) and (not only_open or f["verdict"] is None)]
        groups = {f["group"] for f in chosen}
        # the whole group of each chosen finding gets it (one reviewable item)
        ids = {f["id"] for f in findings if f["group"] in groups and (not only_open or f["verdict"] is None)}
        rows = s.execute(select(FindingRow).where(FindingRow.id.in_(ids))).scalars().all() if ids else []
        _set_verdicts(s, sub, p, rows, verdict, reason, batch=True)
        audit.append(s, p.actor, "review.verdict_batch", "submission", sub.id,
                     after={"verdict": verdict, "count": len(rows), "groups": len(groups),
                            "filter": {"category": flt.category, "severity": flt.severity, "layer": flt.layer,
                                       "state": flt.state, "text": bool(flt.text)},
                            "version": sub.current_version, "reason_len": len(reason)})
        return {"verdict": verdict, "count": len(rows), "groups": len(groups)}


def promote(st: ServiceState, p: Principal, sub_id: str, finding_id: int, scope_kind: str, reason: str,
            expires: str | float | None) -> dict:
    """Promote the accepted-risk / false-alarm verdict of a finding of the current version to a
    fingerprint allowlist entry (service.remembered) for this submitter, this site or everywhere.
    Refused for a finding without such a verdict (409 verdict_not_promotable) and for one that
    blocks on its own (409 allowlist_block_refused)."""
    from . import remembered
    check(p, "allowlist.promote")
    if not _reason_ok(reason):
        raise err(422, "reason_required", "加入白名单必须填写理由。")
    exp = remembered.parse_expiry(expires)
    with st.db.write() as s:
        sub, ver, f = _current_finding(s, p, sub_id, finding_id, "allowlist.promote")
        v = s.execute(select(Verdict).where(Verdict.finding_id == f.id)).scalar_one_or_none()
        if v is None or v.verdict not in remembered.LABEL_OF:
            raise err(409, "verdict_not_promotable", "只有判定为误报或接受风险的发现可以加入白名单。")
        probe = Finding(category=f.category, rule_id=f.rule_id, start=f.start, end=f.end, text="",
                        severity=f.severity)
        if st.get_scanner().policy.finding_decision(probe) == "block":
            raise err(409, "allowlist_block_refused", "禁止发布级别的发现（如密级标志）不能加入白名单。")
        scope = remembered.make_scope(scope_kind, sub, s)
        e = remembered.add_entry(s, p.actor, fingerprint=f.fingerprint, rule_id=f.rule_id, category=f.category,
                                 scope=scope, label=remembered.LABEL_OF[v.verdict], reason=reason.strip(),
                                 user_id=p.user_id, expires_at=exp, submission_id=sub.id)
        audit.append(s, p.actor, "review.allowlist_promoted", "submission", sub.id,
                     after={"finding": f.id, "fingerprint": f.fingerprint, "entry": e.id,
                            "scope_kind": scope_kind})
        return remembered.entry_dict(e)


def precision(st: ServiceState, days: int, at: float | None = None) -> list[dict]:
    """Per rule, the reviewers' verdicts given in the last `days` days (carried-over copies not
    counted again): confirmed (确认风险 + 接受风险: a real finding) vs dismissed (误报), and the
    precision, worst first."""
    t = now() if at is None else at
    per: dict[str, list[int]] = {}
    with st.db.read() as s:
        q = (select(FindingRow.rule_id, FindingRow.category, Verdict.verdict)
             .join(Verdict, Verdict.finding_id == FindingRow.id)
             .where(Verdict.created_at >= t - days * 86400, Verdict.carried_from_id.is_(None)))
        cats: dict[str, str] = {}
        for rule, cat, verdict in s.execute(q):
            c = per.setdefault(rule, [0, 0])
            c[0 if verdict in ("confirmed", "accepted_risk") else 1] += 1
            cats[rule] = cat
    rows = [{"rule_id": r, "category": cats[r], "confirmed": tp, "dismissed": fp, "total": tp + fp,
             "precision": tp / (tp + fp)} for r, (tp, fp) in per.items()]
    return sorted(rows, key=lambda x: (x["precision"], -x["total"], x["rule_id"]))


def _all_verdicts_given(s, sub: Submission) -> None:
    """Before a reviewer approves: the scan is done, every finding that changes the decision has
    a verdict, none is a confirmed risk."""
    ver = current_version(s, sub)
    if not ver.report_id:
        raise err(409, "scan_pending", "自动审查尚未完成。")
    # only findings that change the decision need one (low/info and allowlisted ones never block)
    missing = s.execute(select(func.count()).select_from(FindingRow)
                        .outerjoin(Verdict, Verdict.finding_id == FindingRow.id)
                        .where(FindingRow.report_id == ver.report_id, FindingRow.needs_verdict.is_(True),
                               Verdict.id.is_(None))).scalar_one()
    if missing:
        raise err(409, "verdicts_missing", f"还有 {missing} 条发现未给出审查结论。", missing=int(missing))
    confirmed = s.execute(select(func.count()).select_from(Verdict).join(
        FindingRow, FindingRow.id == Verdict.finding_id).where(
        FindingRow.report_id == ver.report_id, Verdict.verdict == "confirmed")).scalar_one()
    if confirmed:
        raise err(409, "confirmed_risk_open", "存在已确认的风险，不能同意发布，请退回修改。")


def apply(st: ServiceState, p: Principal, sub_id: str, action: str, decision: str | None = None,
          reason: str = "", url: str = "") -> dict:
    """Perform one transition (review, approval, withdraw, publish) -> the submission's summary.

    Checked in order: role and scope, a reason where the decision needs one (422), the submission
    exists and may be seen (404/403), the principal's relation to it (403), its state (409),
    separation of duties (403), the transition's own preconditions (409). Then one write
    transaction: the new state, the Decision row and the audit entry."""
    if action == "withdraw":
        decision = "withdrawn"
    elif action == "publish":
        decision, reason = "published", url
    t = transition(action, decision)
    if t.level is None:
        raise ValueError(f"{action} is not a decision (see store_version, put_verdict)")
    check(p, action)
    if t.needs_reason and not _reason_ok(reason):
        raise err(422, "reason_required", "请填写理由。")
    with st.db.write() as s:
        sub = load(s, p, sub_id)
        check(p, action, sub, decision)
        before = _state(sub)
        if (action, decision) == ("review", "approve"):
            _all_verdicts_given(s, sub)
            sub.reviewer_id = p.user_id
        elif (action, decision) == ("approval", "approve"):
            sub.approver_id = p.user_id
        elif action == "publish":
            sub.published_at, sub.published_url = now(), url
        sub.status, sub.updated_at = t.to, now()
        s.add(Decision(submission_id=sub.id, version_number=sub.current_version, level=t.level,
                       decision=decision, reason=reason, user_id=p.user_id))
        audit.append(s, p.actor, f"{t.level}.{decision}", "submission", sub.id, before=before,
                     after={**_state(sub), "reason_len": len(reason)})
        return submission_summary(s, sub)
