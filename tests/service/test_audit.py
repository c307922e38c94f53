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
                                                           "password": "long-password-1"}).status_code == 201
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
    """Even a forger who recomputes the edited row's own hash breaks the next link."""
    from service.audit import _fields, entry_hash
    from service.models import AuditEntry
    with svc.st.db.write_engine.begin() as conn:
        _drop_triggers(conn, svc.backend)
    with svc.st.db.write() as s:
        e = s.get(AuditEntry, 3)
        e.actor = "someone-else"
        e.hash = entry_hash(e.prev_hash, _fields(e))
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
