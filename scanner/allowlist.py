"""Allowlist as data the scanner applies (issue 16): remembered verdicts keyed by fingerprint.

An entry says: this finding (fingerprint, optionally pinned to a rule) is accepted / a false alarm,
within a scope, for a reason, until an expiry, decided by someone. Entries hold fingerprints and
labels only, never matched text. The CLI (`baomi scan --allowlist FILE`, `--baseline FILE`) and
the service's gate use the same `apply`:

    al = Allowlist.load("allowlist.json")             # or Allowlist([Entry(...), ...])
    report = scanner.scan_file(path)
    apply(report, al, Scope(site="portal", submitter="alice"), policy=scanner.policy)

Scopes: "everywhere", "site:<id>" (one publishing site / CMS), "submitter:<id>" (one author).
An allowlisted finding keeps its place in the report with `allowlisted` = {reason, entry, scope,
who, expires}; it no longer needs a verdict and no longer counts for the decision.
File format: JSON {"version": 1, "entries": [{fingerprint, rule_id?, scope, reason, who,
created, expires?, label?}]}; dates ISO 8601 (YYYY-MM-DD or full timestamps, UTC).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, UTC
from pathlib import Path

SCOPE_KINDS = ("everywhere", "site", "submitter")
LABELS = ("false_alarm", "accepted")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    v = value.strip().replace("Z", "+00:00")
    dt = datetime.fromisoformat(v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    if len(value.strip()) == 10:           # a date: valid through the end of that day
        dt = dt.replace(hour=23, minute=59, second=59)
    return dt


def check_scope(scope: str) -> str:
    kind, _, value = scope.partition(":")
    if kind not in SCOPE_KINDS or (kind == "everywhere") != (value == ""):
        raise ValueError(f"allowlist scope must be everywhere, site:<id> or submitter:<id>, not {scope!r}")
    return scope


@dataclass
class Entry:
    fingerprint: str
    reason: str
    scope: str = "everywhere"
    who: str = ""
    created: str = ""
    expires: str | None = None
    rule_id: str | None = None
    label: str = "false_alarm"
    id: str = ""

    def __post_init__(self):
        check_scope(self.scope)
        if self.label not in LABELS:
            raise ValueError(f"allowlist label must be one of {LABELS}")
        if not self.reason.strip():
            raise ValueError("an allowlist entry needs a reason")
        _parse_time(self.expires)
        if not self.id:
            self.id = self.fingerprint[:12] + "@" + self.scope

    def expired(self, now: datetime) -> bool:
        exp = _parse_time(self.expires)
        return exp is not None and now > exp

    def applies(self, scope: Scope) -> bool:
        kind, _, value = self.scope.partition(":")
        if kind == "everywhere":
            return True
        if kind == "site":
            return scope.site is not None and scope.site == value
        return scope.submitter is not None and scope.submitter == value


@dataclass(frozen=True)
class Scope:
    """Where a scan happens: the publishing site and the submitter (either may be unknown)."""
    site: str | None = None
    submitter: str | None = None


@dataclass
class Allowlist:
    entries: list[Entry] = field(default_factory=list)

    @classmethod
    def load(cls, path: str | Path) -> Allowlist:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls([Entry(**e) for e in data.get("entries", [])])

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"version": 1, "entries": [asdict(e) for e in self.entries]},
                                         ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    def match(self, fingerprint: str, rule_id: str, scope: Scope, now: datetime | None = None) -> Entry | None:
        now = now or datetime.now(UTC)
        for e in self.entries:
            if e.fingerprint == fingerprint and (e.rule_id in (None, "", rule_id)) \
                    and e.applies(scope) and not e.expired(now):
                return e
        return None


def apply(report, allowlist: Allowlist, scope: Scope = Scope(), policy=None, now: datetime | None = None,
          drop: bool = False):
    """Mark the report's findings that an entry covers (or drop them, for a CLI baseline), then
    recompute needs_verdict and, with a policy, the decision. Returns the report."""
    kept = []
    for f in report.findings:
        e = allowlist.match(f.fingerprint, f.rule_id, scope, now)
        if e is None:
            kept.append(f)
            continue
        if drop:
            continue
        kept.append(replace(f, allowlisted={"reason": e.reason, "entry": e.id, "scope": e.scope, "who": e.who,
                                            "label": e.label, "expires": e.expires}))
    report.findings = kept
    if policy is not None:
        policy.finalize(report)
    return report
