"""The API-key check is remembered (service.deps._from_api_key) under the data directory's
credential epoch: a revoked key, a disabled account or a changed role takes effect on the very
next request, whether the change came over HTTP or from `baomi apikey revoke` in another process.
On PostgreSQL (instances on several hosts, each with its own data directory: no shared epoch) every
request reads the database; the same changes, made on another instance or host, are checked there
against a real server (BAOMI_TEST_PG_DSN), and on SQLite between two instances of one data directory."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.main import create_app
from service.models import ApiKey, AuditEntry
from service.security import sha256_hex
from support.service_helpers import BACKENDS, Svc, db_url_for, make_settings, running_service

TEXT = {"text": "关于举办读书分享会的通知。"}


def _service(tmp_path):
    return running_service(tmp_path, "sqlite", workers=0)


def test_revoked_key_and_disabled_account_fail_at_once(tmp_path):
    with _service(tmp_path) as svc:
        uid = svc.user("cms", "approver")
        svc.user("root", "admin")
        admin = svc.login("root")
        key = svc.api_key("cms")
        c = svc.key_client(key)
        assert c.post("/api/v1/scan", json=TEXT).status_code == 200
        assert c.post("/api/v1/scan", json=TEXT).status_code == 200
        assert sha256_hex(key) in svc.st.key_cache               # the second answer came from the cache
        # a role change is seen at once: the next scan is on record under the new role
        assert admin.patch(f"/api/v1/admin/users/{uid}", json={"role": "author"}).status_code == 200
        rid = c.post("/api/v1/scan", json=TEXT).json()["report_id"]
        with svc.st.db.read() as s:
            assert s.execute(select(AuditEntry.role).where(AuditEntry.object_id == rid)).scalar_one() == "author"
        # a disabled account: 401 on the next request
        assert admin.patch(f"/api/v1/admin/users/{uid}", json={"active": False}).status_code == 200
        r = c.post("/api/v1/scan", json=TEXT)
        assert r.status_code == 401 and r.json()["error"]["code"] == "account_disabled"
        assert admin.patch(f"/api/v1/admin/users/{uid}", json={"active": True}).status_code == 200
        assert c.post("/api/v1/scan", json=TEXT).status_code == 200
        # revoked over HTTP: 401 on the very next request
        with svc.st.db.read() as s:
            kid = s.execute(select(ApiKey.id).where(ApiKey.user_id == uid)).scalar_one()
        assert admin.delete(f"/api/v1/admin/api-keys/{kid}").status_code == 200
        r = c.post("/api/v1/scan", json=TEXT)
        assert r.status_code == 401 and r.json()["error"]["code"] == "api_key_revoked"


def test_key_revoked_by_the_cli_in_another_process_fails_at_once(tmp_path):
    with _service(tmp_path) as svc:
        uid = svc.user("cms", "approver")
        key = svc.api_key("cms")
        c = svc.key_client(key)
        assert c.post("/api/v1/scan", json=TEXT).status_code == 200
        assert c.post("/api/v1/scan", json=TEXT).status_code == 200
        assert sha256_hex(key) in svc.st.key_cache
        with svc.st.db.read() as s:
            kid = s.execute(select(ApiKey.id).where(ApiKey.user_id == uid)).scalar_one()
        env = {**os.environ, "BAOMI_DATA_DIR": str(svc.settings.data_dir), "BAOMI_DB_URL": ""}
        p = subprocess.run([sys.executable, "-m", "scanner.cli", "apikey", "revoke", "--key-id", str(kid)],
                           env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr[-500:]
        r = c.post("/api/v1/scan", json=TEXT)
        assert r.status_code == 401 and r.json()["error"]["code"] == "api_key_revoked"


@contextlib.contextmanager
def _two_instances(tmp_path, backend: str):
    """Two service instances on one database, each with its own state, engine and connections,
    and its own key cache: on SQLite two processes of one host (one data directory); on
    PostgreSQL two hosts (each its own data directory, so no shared epoch file). -> (a, b, db url,
    the data directory a third process, the CLI, runs with)."""
    with db_url_for(backend, tmp_path) as url:
        passwords: dict = {}
        roots = (tmp_path, tmp_path) if backend == "sqlite" else (tmp_path / "host-a", tmp_path / "host-b")
        with contextlib.ExitStack() as stack:
            svcs = []
            for root in roots:
                settings = make_settings(root, url, workers=0)
                app = create_app(settings)
                svcs.append(Svc(app, stack.enter_context(TestClient(app)), settings, passwords))
            cli_dir = svcs[0].settings.data_dir if backend == "sqlite" else tmp_path / "host-c" / "data"
            yield svcs[0], svcs[1], url, cli_dir


def _me(client, code: str | None = None):
    r = client.get("/api/v1/auth/me")
    if code is None:
        assert r.status_code == 200, r.text
        return r.json()
    assert r.status_code == 401 and r.json()["error"]["code"] == code, r.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_rotation_revocation_and_account_changes_reach_every_instance_at_once(tmp_path, backend):
    """A key is checked by instance A (remembered there on SQLite) while the admin works on
    instance B: a rotated-out key, a lower role, a disabled account and a key revoked by
    `baomi apikey revoke` in a third process (on PostgreSQL: a third host) are all seen by A on
    its very next request, and by B; the new key of the rotation works on both."""
    with _two_instances(tmp_path, backend) as (a, b, url, cli_dir):
        uid = a.user("cms", "approver")
        a.user("root", "admin")
        admin = b.login("root")
        old = a.api_key("cms")
        old_a, old_b = a.key_client(old), b.key_client(old)
        assert _me(old_a)["role"] == _me(old_a)["role"] == _me(old_b)["role"] == "approver"
        if backend == "sqlite":
            assert sha256_hex(old) in a.st.key_cache           # A answered from its cache
        # rotation on B: a new key, then the old one revoked
        r = admin.post("/api/v1/admin/api-keys", json={"user_id": uid, "name": "cms 2", "scopes": ["scan", "gate"]})
        assert r.status_code == 201, r.text
        new = r.json()["key"]
        new_a, new_b = a.key_client(new), b.key_client(new)
        assert _me(new_a)["scopes"] == ["gate", "scan"] and _me(new_a)["via"] == "apikey"
        with a.st.db.read() as s:
            old_id = s.execute(select(ApiKey.id).where(ApiKey.user_id == uid, ApiKey.name == "test")).scalar_one()
        assert admin.delete(f"/api/v1/admin/api-keys/{old_id}").status_code == 200
        _me(old_a, "api_key_revoked")
        _me(old_b, "api_key_revoked")
        assert _me(new_a)["role"] == _me(new_b)["role"] == "approver"
        # a lower role and a disabled account, changed on B
        assert admin.patch(f"/api/v1/admin/users/{uid}", json={"role": "author"}).status_code == 200
        assert _me(new_a)["role"] == "author"
        assert admin.patch(f"/api/v1/admin/users/{uid}", json={"active": False}).status_code == 200
        _me(new_a, "account_disabled")
        _me(new_b, "account_disabled")
        assert admin.patch(f"/api/v1/admin/users/{uid}", json={"active": True}).status_code == 200
        assert _me(new_a)["role"] == _me(new_a)["role"] == "author"
        # revoked by the CLI in another process (PostgreSQL: with a data directory of its own)
        with a.st.db.read() as s:
            new_id = s.execute(select(ApiKey.id).where(ApiKey.user_id == uid, ApiKey.name == "cms 2")).scalar_one()
        env = {**os.environ, "BAOMI_DATA_DIR": str(cli_dir), "BAOMI_DB_URL": url}
        p = subprocess.run([sys.executable, "-m", "scanner.cli", "apikey", "revoke", "--key-id", str(new_id)],
                           env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr[-500:]
        _me(new_a, "api_key_revoked")
        _me(new_b, "api_key_revoked")
