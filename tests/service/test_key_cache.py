"""The API-key check is remembered (service.deps._from_api_key) under the data directory's
credential epoch: a revoked key, a disabled account or a changed role takes effect on the very
next request, whether the change came over HTTP or from `baomi apikey revoke` in another process."""
from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from service.models import ApiKey, AuditEntry
from service.security import sha256_hex
from support.service_helpers import running_service

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
