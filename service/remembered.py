"""Remembered verdicts (issue 16): the fingerprint allowlist in the database, applied at scan time.

A reviewer promotes an accepted-risk (接受风险) or false-alarm (误报) verdict to an entry: the
finding's keyed fingerprint (scanner.fingerprint: HMAC of rule + normalised text under this
install's key), its rule, a scope (this submitter / this site (the submission's 拟发布渠道) /
everywhere), a reason, an expiry and who. Entries hold fingerprints and labels only, never matched
text. Every scan the service makes (submissions, the scan API, the CMS gate) applies the active
entries through `scanner.allowlist.apply`, so a covered finding keeps its place in the report with
`allowlisted` = {reason, entry, scope, who, label, expires}, needs no verdict and does not decide.

A finding whose own decision is `block` (a 国家秘密标志, a credential…) is never promoted: a
remembered verdict may spare a reviewer the same false alarm, it must not open the gate to a mark.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select

from scanner.allowlist import Allowlist, Entry, Scope

from . import audit
from .errors import err
from .models import FindingAllow, Submission, User, now
from .state import ServiceState

SCOPE_KINDS = ("submitter", "site", "everywhere")
SCOPE_ZH = {"submitter": "本申请人", "site": "本网站/渠道", "everywhere": "全部"}
# verdict -> allowlist label (scanner.allowlist.LABELS)
LABEL_OF = {"false_positive": "false_alarm", "accepted_risk": "accepted"}
LABEL_ZH = {"false_alarm": "误报", "accepted": "接受风险"}
MAX_DAYS = 3 * 366          # an entry expires at the latest after about three years


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def active(e: FindingAllow, at: float | None = None) -> bool:
    t = now() if at is None else at
    return e.revoked_at is None and (e.expires_at is None or e.expires_at > t)


def status(e: FindingAllow, at: float | None = None) -> str:
    """active | expired | revoked"""
    if e.revoked_at is not None:
        return "revoked"
    return "active" if active(e, at) else "expired"


def load_allowlist(s, at: float | None = None) -> Allowlist:
    """The active entries as the scanner's Allowlist (entry ids are the rows' ids)."""
    t = now() if at is None else at
    rows = s.execute(select(FindingAllow, User.username).join(User, User.id == FindingAllow.created_by)
                     .where(FindingAllow.revoked_at.is_(None))).all()
    return Allowlist([Entry(fingerprint=e.fingerprint, rule_id=e.rule_id or None, scope=e.scope, reason=e.reason,
                            who=name, created=_iso(e.created_at) or "", expires=_iso(e.expires_at),
                            label=e.label, id=str(e.id))
                      for e, name in rows if active(e, t)])


def scope_of(s, sub: Submission) -> Scope:
    """Where a submission's scan happens: its 拟发布渠道 as the site, its owner as the submitter."""
    owner = s.get(User, sub.owner_id)
    return Scope(site=(sub.channel or "").strip() or None, submitter=owner.username if owner else None)


_ANY_UNREVOKED = select(FindingAllow.id).where(FindingAllow.revoked_at.is_(None)).limit(1)


def apply_entries(st: ServiceState, report, scope: Scope, scanner=None):
    """Apply the active entries to `report` (findings marked before are cleared first, so a
    revoked or expired entry stops applying) and recompute needs_verdict and the decision with the
    scanner's policy. Returns the report."""
    sc = scanner or st.get_scanner()
    marked = any(f.allowlisted for f in report.findings)
    if not marked:
        # most installs have few entries and most scans meet none: one Core query on a pooled
        # connection says whether there is any to load (no ORM session, join and row objects)
        with st.db.read_engine.connect() as conn:
            if conn.execute(_ANY_UNREVOKED).first() is None:
                return report          # nothing to apply or to undo: the scanner's own judgement stands
    with st.db.read() as s:
        al = load_allowlist(s)
    if not al.entries and not marked:
        return report
    report.findings = [replace(f, allowlisted=None) if f.allowlisted else f for f in report.findings]
    from scanner.allowlist import apply
    if al.entries:
        apply(report, al, scope, policy=sc.policy)
    else:
        sc.policy.finalize(report)
    return report


def entry_dict(e: FindingAllow, names: dict[int, str] | None = None) -> dict:
    names = names or {}
    kind, _, value = e.scope.partition(":")
    return {"id": e.id, "fingerprint": e.fingerprint, "rule_id": e.rule_id, "category": e.category,
            "scope": e.scope, "scope_kind": kind, "scope_value": value, "label": e.label, "reason": e.reason,
            "created_by": e.created_by, "created_by_name": names.get(e.created_by, ""), "created_at": e.created_at,
            "expires_at": e.expires_at, "revoked_at": e.revoked_at, "revoked_by": e.revoked_by,
            "submission_id": e.submission_id, "status": status(e)}


def parse_expiry(value: str | float | None) -> float | None:
    """An expiry date (YYYY-MM-DD, valid through that day, UTC) or epoch seconds -> epoch seconds;
    422 expiry_invalid when it is not a date, lies in the past or beyond MAX_DAYS."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, int | float):
            ts = float(value)
        else:
            v = str(value).strip()
            dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
            if len(v) == 10:
                dt = dt.replace(hour=23, minute=59, second=59)
            ts = dt.timestamp()
    except (ValueError, TypeError):
        raise err(422, "expiry_invalid", "有效期须为日期（YYYY-MM-DD）。")
    if ts <= now() or ts > now() + MAX_DAYS * 86400:
        raise err(422, "expiry_invalid", "有效期须晚于今天，且不超过三年。")
    return ts


def make_scope(kind: str, sub: Submission, s) -> str:
    if kind not in SCOPE_KINDS:
        raise err(422, "scope_invalid", "适用范围须为 submitter（本申请人）、site（本网站/渠道）或 everywhere（全部）。")
    sc = scope_of(s, sub)
    if kind == "everywhere":
        return "everywhere"
    if kind == "site":
        if not sc.site:
            raise err(422, "scope_invalid", "该申请未填写拟发布渠道，不能按网站/渠道加入白名单。")
        return f"site:{sc.site}"
    return f"submitter:{sc.submitter}"


def add_entry(s, actor: dict, *, fingerprint: str, rule_id: str, category: str, scope: str, label: str,
              reason: str, user_id: int, expires_at: float | None, submission_id: str | None) -> FindingAllow:
    """A new entry (inside the caller's write transaction) with its audit entry: fingerprint, rule,
    scope, label, expiry (the reason's length, never matched text)."""
    dup = s.execute(select(FindingAllow).where(FindingAllow.fingerprint == fingerprint, FindingAllow.rule_id == rule_id,
                                               FindingAllow.scope == scope, FindingAllow.revoked_at.is_(None))).scalars()
    if any(active(d) for d in dup):
        raise err(409, "already_allowlisted", "该发现在此范围内已有生效的白名单条目。")
    e = FindingAllow(fingerprint=fingerprint, rule_id=rule_id, category=category, scope=scope, label=label,
                     reason=reason, created_by=user_id, expires_at=expires_at, submission_id=submission_id)
    s.add(e)
    s.flush()
    audit.append(s, actor, "allowlist.entry_created", "allowlist", str(e.id),
                 after={"fingerprint": fingerprint, "rule_id": rule_id, "category": category, "scope_kind":
                        scope.partition(":")[0], "label": label, "expires_at": expires_at,
                        "submission": submission_id, "reason_len": len(reason)})
    return e


def list_entries(st: ServiceState, include_inactive: bool = True) -> list[dict]:
    with st.db.read() as s:
        names = {u.id: (u.display_name or u.username) for u in s.execute(select(User)).scalars()}
        rows = s.execute(select(FindingAllow).order_by(FindingAllow.created_at.desc())).scalars().all()
        out = [entry_dict(e, names) for e in rows]
    return out if include_inactive else [e for e in out if e["status"] == "active"]


def end_entry(st: ServiceState, actor: dict, user_id: int, entry_id: int, how: str) -> dict:
    """Revoke an entry, or let it expire now (`how` = "revoke" | "expire"), with an audit entry."""
    with st.db.write() as s:
        e = s.get(FindingAllow, entry_id)
        if e is None:
            raise err(404, "entry_not_found", "白名单条目不存在。")
        if not active(e):
            raise err(409, "entry_inactive", "该条目已失效（已撤销或已过期）。")
        t = now()
        if how == "revoke":
            e.revoked_at, e.revoked_by = t, user_id
        else:
            e.expires_at = t
        audit.append(s, actor, f"allowlist.entry_{'revoked' if how == 'revoke' else 'expired'}", "allowlist",
                     str(e.id), before={"status": "active"},
                     after={"status": "revoked" if how == "revoke" else "expired", "fingerprint": e.fingerprint,
                            "rule_id": e.rule_id})
        return entry_dict(e)
