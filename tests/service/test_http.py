"""HTTP layer, auth and leakage: oversize and chunked bodies, multipart abuse, type confusion,
hostile file names, idempotent retries, CSRF, the authorisation matrix, no draft text in errors
or logs, local-only docs, the gate's idempotency and allowlist, health and metrics. (The slow-body
test runs against a real uvicorn in test_process.py; service/README.md maps tests to the checklist.)"""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from support.service_helpers import running_service, valid_id_number, wait_job, wait_submission

HOSTILE = Path(__file__).resolve().parents[3] / "shared" / "hostile" / "make_hostile.py"
MAX = 256 * 1024
CANARY = "CANARY-" + "5f1e2d3c4b5a6978"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile")
    src = HOSTILE if HOSTILE.exists() else Path("../shared/hostile/make_hostile.py")
    subprocess.run([sys.executable, str(src), str(out), "--small"], check=True, capture_output=True, timeout=300)
    return out


@pytest.fixture
def svc(tmp_path):
    with running_service(tmp_path, "sqlite", max_body_bytes=MAX, sync_max_file_bytes=64 * 1024) as s:
        s.users(alice="author", bob="author", rita="reviewer", apollo="approver", root="admin")
        yield s


def _counts(svc):
    from service.models import Job, Submission
    with svc.st.db.read() as s:
        return (s.execute(select(func.count()).select_from(Submission)).scalar_one(),
                s.execute(select(func.count()).select_from(Job)).scalar_one())


def _tmp_files(svc):
    return list((svc.settings.data_dir / "tmp").iterdir())


# -- body limits ---------------------------------------------------------------------------
def test_declared_oversize_413_before_body(svc):
    a = svc.login("alice")
    r = a.post("/api/v1/submissions", content=b"x" * (MAX + 1),
               headers={"Content-Type": "application/json", "Content-Length": str(MAX + 1)})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    assert _counts(svc) == (0, 0) and _tmp_files(svc) == []


def test_chunked_oversize_413_midstream(svc):
    a = svc.login("alice")
    sent = []

    def gen():
        for _ in range(MAX // 65536 + 4):
            sent.append(1)
            yield b"x" * 65536
    r = a.post("/api/v1/scan", content=gen(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    assert _counts(svc) == (0, 0) and _tmp_files(svc) == []


# -- multipart abuse --------------------------------------------------------------------------------
def test_multipart_abuse(svc):
    a = svc.login("alice")
    r = a.post("/api/v1/submissions", data={"title": "t"},
               files=[("file", (f"f{i}.txt", b"hello")) for i in range(2)])
    assert r.status_code == 400 and r.json()["error"]["code"] == "too_many_parts"
    r = a.post("/api/v1/submissions", data={"title": "t" * (100 * 1024)}, files=[("file", ("a.txt", b"hello"))])
    assert r.status_code == 400 and r.json()["error"]["code"] == "part_too_large"
    r = a.post("/api/v1/scan", files=[("file", (f"f{i}", b"x")) for i in range(1005)])
    assert r.status_code in (400, 413)
    assert _counts(svc) == (0, 0)


# -- types ------------------------------------------------------------------------------------
def test_type_confusion_ole_and_empty_files(svc, hostile):
    a = svc.login("alice")
    cases = [("html_as.pdf", "application/pdf", 415, "unsupported_type"),
             ("not_a_zip.docx", "application/octet-stream", 415, "unsupported_type"),
             ("ole2_or_encrypted.docx", "application/octet-stream", 415, "encrypted_or_legacy_office")]
    for name, ctype, status, code in cases:
        r = a.post("/api/v1/submissions", data={"title": "t"}, files={"file": (name, (hostile / name).read_bytes(), ctype)})
        assert r.status_code == status and r.json()["error"]["code"] == code, (name, r.text)
    for name in ("empty.pdf", "empty.txt"):
        r = a.post("/api/v1/submissions", data={"title": "t"}, files={"file": (name, b"")})
        assert r.status_code == 400 and r.json()["error"]["code"] == "empty_file"
    r = a.post("/api/v1/scan", files={"file": ("x.bin", b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 2)})
    assert r.status_code == 415
    assert _counts(svc) == (0, 0)
    assert list((svc.settings.data_dir / "blobs").iterdir()) == []


# -- hostile filenames --------------------------------------------------------------------------------
def test_hostile_filenames(svc, hostile, caplog):
    caplog.set_level(logging.DEBUG)
    names = json.loads((hostile / "filenames.json").read_text())["names"]
    a, rev = svc.login("alice"), svc.login("rita")
    data_dir = svc.settings.data_dir
    before_tmp = set(os.listdir("/tmp"))
    accepted = []
    for name in names:
        clean = name.lower().replace("\x00", "").strip()
        # content matching the claimed type; a mismatch is the type-confusion test's business
        ctl = "control.pdf" if clean.endswith(".pdf") else "control.docx" if clean.endswith(".docx") else "control.txt"
        r = a.post("/api/v1/submissions", data={"title": "文件名测试"},
                   files={"file": (name, (hostile / ctl).read_bytes(), "application/octet-stream")})
        assert r.status_code == 202, (name, r.text)
        accepted.append(r.json()["id"])
    for sid in accepted:
        sub = wait_submission(a, sid)
        disp = sub["versions"][0]["filename"]
        assert not re.search(r"[/\\\x00\r\n\u202a-\u202e\u2066-\u2069]", disp) and 0 < len(disp) <= 255
        html = rev.get(f"/api/v1/submissions/{sid}/record.html").text
        assert "<script>alert" not in html
        cd = rev.get(f"/api/v1/submissions/{sid}/record.pdf").headers["content-disposition"]
        assert cd.count("filename*=") == 1 and "\r" not in cd and "\n" not in cd
    for root, _dirs, files in os.walk(data_dir):
        for f in files:
            rel = Path(root).relative_to(data_dir)
            if str(rel) in ("blobs", "tmp"):
                assert re.fullmatch(r"[0-9a-f-]{36}(\.[0-9]+\.part)?|[0-9a-f]{64}", f), f
    new_tmp = set(os.listdir("/tmp")) - before_tmp
    bases = {n.replace("\\", "/").split("/")[-1] for n in names} - {"", " ", "..."}
    assert not (new_tmp & bases), new_tmp & bases
    assert "X-Injected" not in caplog.text and "\r\n" not in caplog.text


# -- idempotent retry -----------------------------------------------------------------------------------
def test_idempotency_key_on_submissions(svc):
    a = svc.login("alice")
    body = {"text": "同一份草稿", "title": "重试"}
    r1 = a.post("/api/v1/submissions", json=body, headers={"Idempotency-Key": "k-123"})
    r2 = a.post("/api/v1/submissions", json=body, headers={"Idempotency-Key": "k-123"})
    assert r1.status_code == r2.status_code == 202
    assert r1.json()["id"] == r2.json()["id"] and r2.headers.get("Idempotent-Replay") == "true"
    assert _counts(svc) == (1, 1)
    r3 = a.post("/api/v1/submissions", json=body)      # no key: a new submission by policy
    assert r3.json()["id"] != r1.json()["id"]
    assert _counts(svc) == (2, 2)


def test_gate_idempotency_cache_and_allowlist(svc):
    root = svc.login("root")
    key = root.post("/api/v1/admin/api-keys", json={"user_id": 1, "name": "CMS", "scopes": ["gate"]}).json()["key"]
    assert key.startswith("bm_")
    cms = svc.key_client(key)
    idn = valid_id_number()
    text = f"联系人身份证号{idn}"
    g1 = cms.post("/api/v1/gate", json={"text": text}, headers={"Idempotency-Key": "req-1"})
    g2 = cms.post("/api/v1/gate", json={"text": text}, headers={"Idempotency-Key": "req-1"})
    assert g1.json() == g2.json() and g2.headers.get("idempotent-replay") == "true"
    assert g1.json()["decision"] == "review" and g1.json()["allow"] is False
    r = cms.post("/api/v1/gate", json={"text": "别的内容"}, headers={"Idempotency-Key": "req-1"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_key_reused"
    g3 = cms.post("/api/v1/gate", json={"text": text}).json()     # content-hash idempotency
    assert g3["cached"] is True and g3["report_id"] == g1.json()["report_id"]
    import hashlib
    sha = hashlib.sha256(text.encode()).hexdigest()
    appr = svc.login("apollo")
    assert appr.post("/api/v1/admin/allowlist", json={"sha256": sha, "reason": "经保密办确认可公开"}).status_code == 201
    g4 = cms.post("/api/v1/gate", json={"text": text}).json()
    assert g4["allow"] is True and g4["decision"] == "review"
    # gate over a file upload
    r = cms.post("/api/v1/gate", files={"file": ("n.txt", "秘密★10年\n通知".encode())})
    assert r.json()["decision"] == "block" and r.json()["allow"] is False
    # the key has no scan scope
    r = cms.post("/api/v1/scan", json={"text": "x"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "scope_forbidden"


def test_scan_sync_and_job(svc):
    a = svc.login("alice")
    r = a.post("/api/v1/scan?segments=true", json={"text": "秘密★5年\n通知"})
    assert r.status_code == 200 and r.json()["decision"] == "block" and r.json()["segments"]
    f = r.json()["findings"][0]
    seg = r.json()["segments"][f["segment_id"]]["text"]
    assert seg[f["start"]:f["end"]] == f["text"]
    r = a.post("/api/v1/scan?async=true", files={"file": ("a.txt", "秘密★5年\n通知".encode())})
    assert r.status_code == 202 and r.headers["Location"].endswith(r.json()["job_id"])
    job = wait_job(a, r.json()["job_id"])
    assert job["status"] == "done" and job["progress"] == 1.0
    rep = a.get(job["report_url"]).json()
    assert rep["decision"] == "block"
    # another author cannot read it
    assert svc.login("bob").get(job["report_url"]).status_code == 403


# -- CSRF ---------------------------------------------------------------------------------------
def test_csrf(svc):
    from service.models import AuditEntry, Decision
    a, rev = svc.login("alice"), svc.login("rita")
    sid = a.post("/api/v1/submissions", json={"text": "一份草稿", "title": "t"}).json()["id"]
    wait_submission(a, sid)
    url = f"/api/v1/submissions/{sid}/review"
    body = {"decision": "reject", "reason": "测试"}
    token = rev.headers.pop("X-CSRF-Token")
    r = rev.post(url, json=body, headers={"Origin": "http://evil.test", "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_rejected"
    r = rev.post(url, json=body)                                  # same-site but no token
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_rejected"
    r = rev.post(url, json=body, headers={"X-CSRF-Token": token, "Origin": "http://evil.test"})
    assert r.status_code == 403
    assert rev.get(url + "?decision=approve").status_code == 405
    with svc.st.db.read() as s:
        assert s.execute(select(func.count()).select_from(Decision)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "csrf_rejected")).scalar_one() == 3
    r = rev.post(url, json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 200


# -- authz matrix -------------------------------------------------------------------------------
def test_authz_matrix(svc):
    from fastapi.testclient import TestClient
    anon = TestClient(svc.app)
    a, b, rev, appr, root = (svc.login(u) for u in ("alice", "bob", "rita", "apollo", "root"))
    sid = a.post("/api/v1/submissions", json={"text": "草稿", "title": "t"}).json()["id"]
    wait_submission(a, sid)
    S = f"/api/v1/submissions/{sid}"
    table = [  # (client, method, path, json, expected status, expected code)
        (anon, "GET", "/api/v1/submissions", None, 401, "auth_required"),
        (anon, "POST", "/api/v1/gate", {"text": "x"}, 401, "auth_required"),
        (b, "GET", S, None, 403, "not_owner"),
        (b, "GET", S + "/audit", None, 403, "not_owner"),
        (a, "POST", S + "/review", {"decision": "approve"}, 403, "role_forbidden"),
        (a, "PUT", S + "/findings/1/verdict", {"verdict": "confirmed"}, 403, "role_forbidden"),
        (rev, "POST", "/api/v1/submissions", {"text": "x", "title": "t"}, 403, "role_forbidden"),
        (rev, "POST", S + "/approval", {"decision": "approve"}, 403, "role_forbidden"),
        (a, "GET", "/api/v1/admin/users", None, 403, "role_forbidden"),
        (appr, "POST", "/api/v1/admin/api-keys", {"user_id": 1}, 403, "role_forbidden"),
        (rev, "GET", "/api/v1/admin/audit/verify", None, 403, "role_forbidden"),
        (a, "POST", "/api/v1/gate", {"text": "x"}, 403, "scope_forbidden"),
        (a, "GET", S, None, 200, None),
        (rev, "GET", S, None, 200, None),
        (root, "GET", "/api/v1/admin/users", None, 200, None),
    ]
    for c, method, path, body, status, code in table:
        r = c.request(method, path, json=body)
        assert r.status_code == status, (method, path, r.status_code, r.text)
        if code:
            assert r.json()["error"]["code"] == code, (path, r.text)
    key = root.post("/api/v1/admin/api-keys", json={"user_id": 1, "scopes": ["gate", "scan"]}).json()
    r = anon.post(f"/api/v1/gate?api_key={key['key']}", json={"text": "x"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "api_key_in_query"
    assert svc.key_client(key["key"]).post("/api/v1/gate", json={"text": "x"}).status_code == 200
    assert root.delete(f"/api/v1/admin/api-keys/{key['id']}").status_code == 200
    r = svc.key_client(key["key"]).post("/api/v1/gate", json={"text": "x"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "api_key_revoked"
    r = svc.key_client("bm_nothing_here").post("/api/v1/gate", json={"text": "x"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    # the key is stored hashed: its secret is not in the database
    with svc.st.db.read() as s:
        from service.models import ApiKey
        row = s.get(ApiKey, key["id"])
        assert key["key"].split("_", 2)[2] not in (row.secret_hash + row.prefix)
    listed = root.get("/api/v1/admin/api-keys").json()
    assert all(k["key"] is None for k in listed)


# -- no content in errors or logs -------------------------------------------------------------
def test_no_draft_text_in_422_or_logs(svc, hostile, caplog):
    caplog.set_level(logging.DEBUG)
    a, root = svc.login("alice"), svc.login("root")
    r = root.post("/api/v1/admin/users", json={"username": CANARY, "role": "author", "password": 12345})
    assert r.status_code == 422 and CANARY not in r.text and "input" not in r.json()["error"]
    r = a.post("/api/v1/submissions/x/withdraw", json={"reason": {"nested": CANARY}})
    assert r.status_code == 422 and CANARY not in r.text
    r = a.post("/api/v1/scan", json={"text": 123, "x": CANARY})
    assert r.status_code == 422 and CANARY not in r.text
    idn = valid_id_number()
    draft = f"秘密★5年\n{CANARY} 身份证 {idn}\n"
    sid = a.post("/api/v1/submissions", json={"text": draft, "title": "日志测试"}).json()["id"]
    wait_submission(a, sid)
    a.post("/api/v1/scan", json={"text": draft})
    for name in ("control.txt", "nul_bytes.txt", "xss.html", "invalid_utf8.txt"):
        a.post("/api/v1/scan", files={"file": (name, (hostile / name).read_bytes())})
    text = caplog.text
    assert CANARY not in text and idn not in text and "秘密★" not in text
    for name in ("control.txt", "xss.html"):
        first = (hostile / name).read_text("utf-8", "replace")[:40].strip()
        assert first not in text
    # nor in the database (reports are encrypted) or the blob store
    db_file = svc.settings.data_dir / "baomi.db"
    for p in [db_file, *db_file.parent.glob("baomi.db-wal"), *(svc.settings.data_dir / "blobs").iterdir()]:
        raw = p.read_bytes()
        assert CANARY.encode() not in raw and idn.encode() not in raw, p


# -- docs without CDN ------------------------------------------------------------------------------
def test_docs_local_only(svc):
    c = svc.client
    for path in ("/docs", "/api-docs.js"):
        r = c.get(path)
        assert r.status_code == 200
        assert re.findall(r"https?://(?!127\.0\.0\.1|localhost)", r.text) == []
    spec = c.get("/openapi.json").json()
    ops = [op for p in spec["paths"].values() for op in p.values()]
    assert len(ops) >= 25
    for op in ops:
        d = op.get("description", "")
        assert re.search(r"[\u4e00-\u9fff]", d) and re.search(r"[A-Za-z]{4}", d), op.get("summary")
    assert c.get("/redoc").status_code == 404


def test_health_and_metrics(svc):
    assert svc.client.get("/healthz").json()["status"] == "ok"
    svc.login("alice").post("/api/v1/scan", json={"text": "秘密★5年\n通知"})
    m = svc.client.get("/metrics").text
    assert 'baomi_scans_total{decision="block",path="scan"} 1' in m
    assert "baomi_http_request_seconds_bucket" in m and "baomi_jobs_queued" in m


def test_isolated_extraction_of_hostile_files(tmp_path, hostile):
    """Files are parsed in the isolated child (rlimits), never in the API process: bombs end as
    terminal jobs with a fail-closed report, the API stays healthy, the next file is done."""
    from scanner.config import Isolation
    with running_service(tmp_path, "sqlite", isolated="auto", workers=2) as s:
        assert s.st.isolation is Isolation.AUTO and s.client.get("/healthz").json()["isolated_extraction"]
        s.user("alice", "author")
        a = s.login("alice")
        ids = {}
        for name in ("zipbomb.docx", "nested_flate.pdf", "deep_nesting.docx", "truncated.pdf", "control.pdf", "control.docx"):
            r = a.post("/api/v1/submissions", data={"title": name}, files={"file": (name, (hostile / name).read_bytes())})
            assert r.status_code == 202, (name, r.text)
            ids[name] = r.json()["id"]
        for name, sid in ids.items():
            sub = wait_submission(a, sid, timeout=180)
            assert sub["versions"][0]["job"]["status"] in ("done", "failed")
            rep = sub["report"]
            if name.startswith("control"):
                assert rep["errors"] == [], (name, rep["errors"])
            else:   # unreadable -> never pass
                assert rep["decision"] != "pass" and rep["errors"], name
        assert s.client.get("/healthz").json()["status"] == "ok"
        assert list((s.settings.data_dir / "tmp").iterdir()) == []


def test_server_log_filter_drops_exception_text():
    """uvicorn logs unhandled exceptions with their message; `baomi serve` installs a filter
    that keeps the type and frame locations only."""
    import io
    from service.cli import NoTracebackText
    buf = io.StringIO()
    h = logging.StreamHandler(buf)
    h.addFilter(NoTracebackText())
    lg = logging.getLogger("baomi.test.notb")
    lg.addHandler(h)
    try:
        raise ValueError(f"{CANARY} 秘密★5年")
    except ValueError:
        lg.exception("Exception in ASGI application")
    out = buf.getvalue()
    assert "ValueError" in out and CANARY not in out and "秘密" not in out


def test_reading_draft_text_is_audited(svc):
    a, rev = svc.login("alice"), svc.login("rita")
    sid = a.post("/api/v1/submissions", json={"text": "正文", "title": "t"}).json()["id"]
    wait_submission(a, sid)
    rev.get(f"/api/v1/submissions/{sid}?segments=true")
    trail = rev.get(f"/api/v1/submissions/{sid}/audit").json()
    assert [e for e in trail if e["action"] == "submission.text_viewed" and e["actor"] == "rita"]
