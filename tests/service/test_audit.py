"""Audit log: append-only triggers, hash chain, `baomi audit verify` catching edits and deletions
made directly in the database, on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from support.service_helpers import BACKENDS, running_service


@pytest.fixture(params=BACKENDS)
def svc(request, tmp_path):
    with running_service(tmp_path, request.param, workers=0) as s:
        s.backend = request.param
        s.user("root", "admin")
        admin = s.login("root")
        for i in range(8):   # enough entries: users created, keys created
            assert admin.post("/api/v1/admin/users", json={"username": f"u{i}", "role": "author",
                                                           "password": "Qe7-audit-trail-Zk9"}).status_code == 201
        s.admin = admin
        yield s


def _cli_verify(svc) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "scanner.cli", "audit", "verify", "--json",
            "--data-dir", str(svc.settings.data_dir)]
    if svc.settings.db_url:
        args += ["--db-url", svc.settings.db_url]
    env = {**os.environ, "BAOMI_LIGHT_SCANNER": "1"}
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)


def _drop_triggers(conn, backend):
    if backend == "sqlite":
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("DROP TRIGGER audit_log_no_delete"))
    else:
        conn.execute(text("DROP TRIGGER audit_log_no_update ON audit_log"))


def test_chain_intact_and_cli_ok(svc):
    assert svc.admin.get("/api/v1/admin/audit/verify").json() == {"ok": True, "count": 9, "broken_at": None, "reason": ""}
    r = _cli_verify(svc)
    assert r.returncode == 0, r.stderr
    assert '"ok": true' in r.stdout


def test_triggers_abort_update_and_delete(svc):
    eng = svc.st.db.write_engine
    for stmt in ("UPDATE audit_log SET action='x' WHERE seq=5", "DELETE FROM audit_log WHERE seq=5"):
        with pytest.raises(Exception) as ei:
            with eng.begin() as conn:
                conn.execute(text(stmt))
        assert "append-only" in str(ei.value)
    assert svc.admin.get("/api/v1/admin/audit/verify").json()["ok"] is True


def test_edited_row_detected(svc):
    with svc.st.db.write_engine.begin() as conn:      # a DBA disables the guard and edits
        _drop_triggers(conn, svc.backend)
        conn.execute(text("UPDATE audit_log SET action='user.deleted' WHERE seq=5"))
    res = svc.admin.get("/api/v1/admin/audit/verify").json()
    assert res["ok"] is False and res["broken_at"] == 5 and res["reason"] == "entry_modified"
    r = _cli_verify(svc)
    assert r.returncode == 1 and '"broken_at": 5' in r.stdout


def test_edit_with_recomputed_hash_detected(svc):
    """Even a forger who holds the audit key and recomputes the edited row's own hash breaks the next link."""
    from service.audit import _fields, entry_hash
    from service.models import AuditEntry
    with svc.st.db.write_engine.begin() as conn:
        _drop_triggers(conn, svc.backend)
    with svc.st.db.write() as s:
        e = s.get(AuditEntry, 3)
        e.actor = "someone-else"
        e.hash = entry_hash(e.prev_hash, _fields(e), svc.st.db.audit_key.key)
    res = svc.admin.get("/api/v1/admin/audit/verify").json()
    assert res["ok"] is False and res["broken_at"] == 4 and res["reason"] == "chain_broken"


def test_deleted_rows_detected(svc):
    with svc.st.db.write_engine.begin() as conn:
        _drop_triggers(conn, svc.backend)
        conn.execute(text("DELETE FROM audit_log WHERE seq=4"))
    res = svc.admin.get("/api/v1/admin/audit/verify").json()
    assert res == {"ok": False, "count": 3, "broken_at": 4, "reason": "missing_entry"}
    assert _cli_verify(svc).returncode == 1


def test_deleted_tail_detected(svc):
    with svc.st.db.write_engine.begin() as conn:
        _drop_triggers(conn, svc.backend)
        conn.execute(text("DELETE FROM audit_log WHERE seq >= 8"))
    res = svc.admin.get("/api/v1/admin/audit/verify").json()
    assert res["ok"] is False and res["reason"] == "head_mismatch"


def test_concurrent_appends_keep_one_chain(svc):
    from concurrent.futures import ThreadPoolExecutor
    from service import audit

    def one(i):
        with svc.st.db.write() as s:
            audit.append(s, audit.SYSTEM, "test.concurrent", "test", str(i))
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(one, range(80)))
    res = svc.admin.get("/api/v1/admin/audit/verify").json()
    assert res["ok"] is True and res["count"] == 89


# -- issue 13 (red-team R6): a keyed chain and checkpoints ----------------------------------------------
def _rechain(svc, from_seq: int, key: bytes | None) -> None:
    """What the red team did: with the triggers dropped, edit the actor of entry `from_seq`, then
    recompute prev_hash/hash of every entry from there and the head (with `key`, or plain SHA-256
    as service.audit.entry_hash computed before the chain was keyed)."""
    from sqlalchemy import select
    from service.audit import _fields, entry_hash
    from service.models import AuditEntry, AuditHead
    with svc.st.db.write_engine.begin() as conn:
        _drop_triggers(conn, svc.backend)
    with svc.st.db.write() as s:
        rows = s.execute(select(AuditEntry).where(AuditEntry.seq >= from_seq).order_by(AuditEntry.seq)).scalars().all()
        prev = rows[0].prev_hash
        rows[0].actor = "someone-else"
        for e in rows:
            e.prev_hash = prev
            e.hash = entry_hash(prev, _fields(e), key)
            prev = e.hash
        s.flush()
        s.execute(select(AuditHead)).scalar_one().hash = prev


def test_r6_key_file_made_at_first_start_outside_the_db(svc):
    path = svc.settings.data_dir / "keys" / "audit.key"
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    assert svc.st.db.audit_key.keyed_from == 1


def test_r6_rechained_without_the_key_is_detected(svc):
    _rechain(svc, 3, key=None)
    res = svc.admin.get("/api/v1/admin/audit/verify").json()
    assert res["ok"] is False and res["broken_at"] == 3 and res["reason"] == "entry_modified"
    r = _cli_verify(svc)
    assert r.returncode == 1 and '"entry_modified"' in r.stdout


def test_r6_rechained_with_the_key_is_caught_by_a_checkpoint_kept_elsewhere(svc, tmp_path):
    args = [sys.executable, "-m", "scanner.cli", "audit", "checkpoint", "--json",
            "--data-dir", str(svc.settings.data_dir)] + (["--db-url", svc.settings.db_url] if svc.settings.db_url else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, env={**os.environ, "BAOMI_LIGHT_SCANNER": "1"})
    assert r.returncode == 0, r.stderr
    kept = tmp_path / "kept-by-the-office.jsonl"           # the 保密办's copy
    kept.write_text(r.stdout)
    assert '"sig"' in r.stdout and (svc.settings.data_dir / "audit-checkpoints.jsonl").exists()
    # the forger holds the key: rewrites the chain and also empties the checkpoint file beside the db
    _rechain(svc, 3, key=svc.st.db.audit_key.key)
    (svc.settings.data_dir / "audit-checkpoints.jsonl").write_text("")
    assert _cli_verify(svc).returncode == 0                # without a kept checkpoint nothing can tell
    r = subprocess.run([*_cli_args(svc), "--checkpoint", str(kept)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "BAOMI_LIGHT_SCANNER": "1"})
    assert r.returncode == 1 and '"checkpoint_mismatch"' in r.stdout, r.stdout
    # a checkpoint with a forged signature is refused too
    forged = tmp_path / "forged.jsonl"
    forged.write_text(r'{"seq": 2, "hash": "00", "ts": "x", "sig": "bad"}' + "\n")
    r = subprocess.run([*_cli_args(svc), "--checkpoint", str(forged)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "BAOMI_LIGHT_SCANNER": "1"})
    assert r.returncode == 1 and '"checkpoint_signature"' in r.stdout


def _cli_args(svc) -> list[str]:
    return [sys.executable, "-m", "scanner.cli", "audit", "verify", "--json", "--data-dir", str(svc.settings.data_dir)] + (
        ["--db-url", svc.settings.db_url] if svc.settings.db_url else [])
