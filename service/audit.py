"""Append-only, hash-chained audit log.

Each entry: who (user id, name, role), what (action, object), when (UTC ISO), from where (IP),
before/after state (small JSON of status fields, counts and fingerprints — never draft text or
matched values). hash = sha256(prev_hash || canonical JSON of the entry). Appends take the
audit_head row's lock (BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE on PostgreSQL), so the
chain is strictly sequential; verify recomputes it and compares the head.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _canon(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(prev_hash: str, fields: dict) -> str:
    return hashlib.sha256((prev_hash + "\n" + _canon(fields)).encode("utf-8")).hexdigest()


def _fields(e: AuditEntry) -> dict:
    return {"seq": e.seq, "ts": e.ts, "actor_id": e.actor_id, "actor": e.actor, "role": e.role,
            "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
            "ip": e.ip, "before": e.before, "after": e.after}


@dataclass
class Actor:
    user_id: int | None = None
    name: str = "system"
    role: str = "system"
    ip: str = ""


SYSTEM = Actor()


def append(s: Session, actor: Actor, action: str, object_type: str = "", object_id: str = "",
           before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """Add one entry inside the caller's write transaction."""
    head = s.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    e = AuditEntry(seq=head.seq + 1,
                   ts=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                   actor_id=actor.user_id, actor=_clean(actor.name), role=actor.role,
                   action=action, object_type=object_type, object_id=str(object_id),
                   ip=(actor.ip or "")[:64],
                   before=_canon(before) if before is not None else "",
                   after=_canon(after) if after is not None else "",
                   prev_hash=head.hash, hash="")
    e.hash = entry_hash(head.hash, _fields(e))
    s.add(e)
    head.seq, head.hash = e.seq, e.hash
    return e


def _clean(text: str) -> str:
    return "".join(ch for ch in (text or "") if ch.isprintable())[:128]


@dataclass
class VerifyResult:
    ok: bool
    count: int
    broken_at: int | None = None
    reason: str = ""

    def to_dict(self) -> dict:
        return {"ok": self.ok, "count": self.count, "broken_at": self.broken_at, "reason": self.reason}


def verify(s: Session) -> VerifyResult:
    prev = GENESIS
    expected_seq = 1
    count = 0
    rows = s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    for e in rows:
        if e.seq != expected_seq:
            return VerifyResult(False, count, expected_seq, "missing_entry")
        if e.prev_hash != prev:
            return VerifyResult(False, count, e.seq, "chain_broken")
        if entry_hash(prev, _fields(e)) != e.hash:
            return VerifyResult(False, count, e.seq, "entry_modified")
        prev = e.hash
        expected_seq += 1
        count += 1
    head = s.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    if head is None:
        return VerifyResult(False, count, None, "head_missing")
    if head.seq != count or head.hash != prev:
        return VerifyResult(False, count, count + 1 if head.seq > count else head.seq, "head_mismatch")
    return VerifyResult(True, count)
