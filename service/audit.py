"""Append-only, keyed hash chain of audit entries, with signed checkpoints.

Each entry: who (user id, name, role), what (action, object), when (UTC ISO), from where (IP),
before/after state (small JSON of status fields, counts and fingerprints — never draft text or
matched values). hash = HMAC-SHA256(audit key, prev_hash || canonical JSON of the entry); the key
lives outside the database (service.crypto.AuditKey, keys/audit.key, 0600), so whoever can
rewrite the database but not read the key cannot re-chain an edit. Entries older than the key
(a database from before issue 13: seq < keyed_from) are plain SHA-256. Appends take the
audit_head row's lock (BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE on PostgreSQL), so the
chain is strictly sequential; verify recomputes it and compares the head.

Checkpoints: the head (seq, hash, time) signed with the key, appended to an append-only file
(audit-checkpoints.jsonl in the data directory) at start-up, hourly and by `baomi audit
checkpoint`, which also prints it for the 保密办 to keep elsewhere. verify given checkpoints fails
when the chain no longer has that hash at that seq: a chain rewritten even with the key is caught
by a checkpoint kept where the key's holder cannot reach.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from .models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _canon(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(prev_hash: str, fields: dict, key: bytes | None = None) -> str:
    data = (prev_hash + "\n" + _canon(fields)).encode("utf-8")
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _key_for(s: Session, seq: int) -> bytes | None:
    """The HMAC key of entry `seq` (the session carries the service's AuditKey: service.db)."""
    k = s.info.get("audit_key")
    return k.key if k is not None and seq >= k.keyed_from else None


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
    # Core statements (no ORM unit of work: the entry and the head are written at once, ~0.8 ms
    # less a scan); the head row is never held as an ORM object in a writing session
    seq, prev = s.execute(_HEAD_FOR_UPDATE).one()
    e = AuditEntry(seq=seq + 1,
                   ts=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                   actor_id=actor.user_id, actor=_clean(actor.name), role=actor.role,
                   action=action, object_type=object_type, object_id=str(object_id),
                   ip=(actor.ip or "")[:64],
                   before=_canon(before) if before is not None else "",
                   after=_canon(after) if after is not None else "",
                   prev_hash=prev, hash="")
    fields = _fields(e)
    e.hash = entry_hash(prev, fields, _key_for(s, e.seq))
    s.execute(insert(AuditEntry.__table__), {**fields, "prev_hash": prev, "hash": e.hash})
    s.execute(update(AuditHead.__table__).where(AuditHead.__table__.c.id == 1).values(seq=e.seq, hash=e.hash))
    return e


_HEAD_FOR_UPDATE = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()


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


def verify(s: Session, checkpoints: list[dict] | None = None) -> VerifyResult:
    """Recompute the chain (keyed from keyed_from on) and compare the head; then every
    checkpoint: its signature, and the entry at its seq must still have its hash."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    rows = s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    for e in rows:
        if e.seq != expected_seq:
            return VerifyResult(False, count, expected_seq, "missing_entry")
        if e.prev_hash != prev:
            return VerifyResult(False, count, e.seq, "chain_broken")
        if entry_hash(prev, _fields(e), _key_for(s, e.seq)) != e.hash:
            return VerifyResult(False, count, e.seq, "entry_modified")
        prev = e.hash
        expected_seq += 1
        count += 1
    head = s.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    if head is None:
        return VerifyResult(False, count, None, "head_missing")
    if head.seq != count or head.hash != prev:
        return VerifyResult(False, count, count + 1 if head.seq > count else head.seq, "head_mismatch")
    for cp in checkpoints or ():
        if not checkpoint_signed(s, cp):
            return VerifyResult(False, count, cp.get("seq"), "checkpoint_signature")
        if cp["seq"] > count:
            return VerifyResult(False, count, count + 1, "checkpoint_ahead")
        row = s.get(AuditEntry, cp["seq"]) if cp["seq"] > 0 else None
        if (row.hash if row is not None else GENESIS if cp["seq"] == 0 else None) != cp["hash"]:
            return VerifyResult(False, count, cp["seq"], "checkpoint_mismatch")
    return VerifyResult(True, count)


# -- checkpoints ----------------------------------------------------------------------------------
def _cp_payload(cp: dict) -> str:
    return _canon({k: cp[k] for k in ("seq", "hash", "ts")})


def checkpoint(s: Session) -> dict:
    """The head now, signed with the audit key: {seq, hash, ts, sig}."""
    head = s.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    cp = {"seq": head.seq, "hash": head.hash,
          "ts": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    k = s.info.get("audit_key")
    cp["sig"] = k.mac("checkpoint", _cp_payload(cp)) if k is not None else ""
    return cp


def checkpoint_signed(s: Session, cp: dict) -> bool:
    k = s.info.get("audit_key")
    try:
        return k is not None and hmac.compare_digest(k.mac("checkpoint", _cp_payload(cp)), str(cp.get("sig", "")))
    except (KeyError, TypeError):
        return False


def append_checkpoint(path: Path, cp: dict) -> None:
    """Append one checkpoint line to the append-only file (0600), durably."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (json.dumps(cp, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_checkpoints(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line:
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"seq": -1, "hash": "", "ts": "", "sig": ""})   # fails its signature
    return out
