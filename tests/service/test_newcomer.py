"""The workflow bugs a new user hit (issue 13, ../shared/findings/newcomer-ux.md), each as it was
reported: the gate and approvals of uploaded files, gate reason labels, API key creation on
reload, the too-large upload, the upload form after an error, the stale "in progress" banner,
`make run PORT=…` and a taken port, `baomi --help`, the CLI HTML report of samples/04."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from support.drafts import docx_bytes
from support.service_helpers import running_service, wait_submission

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def svc(tmp_path):
    with running_service(tmp_path, max_body_bytes=2 << 20) as s:
        for name, role in (("alice", "author"), ("rita", "reviewer"), ("apollo", "approver"), ("root", "admin")):
            s.user(name, role)
        s.cms = s.key_client(s.api_key("alice", scopes=("gate", "scan")))
        yield s


def web(svc, username: str) -> TestClient:
    c = TestClient(svc.app, base_url="http://testserver")
    tok = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"login_csrf": tok, "username": username, "password": svc.passwords[username],
                               "next": "/"}, follow_redirects=False)
    assert r.status_code == 303
    return c


def csrf(c: TestClient, path: str = "/me") -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', c.get(path).text).group(1)


def test_an_approved_docx_lets_the_cms_publish_the_same_text_as_json(svc):
    paras = ["关于开展社区志愿服务活动的通知", "联系人：张伟，电话 13912345678。", "请于本周五前报名。"]
    a = svc.login("alice")
    r = a.post("/api/v1/submissions", files={"file": ("notice.docx", docx_bytes(paras))}, data={"title": "通知"})
    sub = wait_submission(a, r.json()["id"])
    text = "\n".join(paras)
    assert svc.cms.post("/api/v1/gate", json={"text": text}).json()["allow"] is False
    rita = svc.login("rita")
    for f in sub["report"]["findings"]:
        assert rita.put(f"/api/v1/submissions/{sub['id']}/findings/{f['id']}/verdict",
                        json={"verdict": "accepted_risk", "reason": "本人同意公开"}).status_code == 200
    assert rita.post(f"/api/v1/submissions/{sub['id']}/review", json={"decision": "approve"}).status_code == 200
    assert svc.login("apollo").post(f"/api/v1/submissions/{sub['id']}/approval",
                                    json={"decision": "approve"}).status_code == 200
    # the CMS sends the approved text as JSON (its own line breaks and spacing)
    g = svc.cms.post("/api/v1/gate", json={"text": "  关于开展社区志愿服务活动的通知\r\n\r\n联系人：张伟，电话 13912345678。 请于本周五前报名。"}).json()
    assert g["allow"] is True and g["approved_submission_id"] == sub["id"], g
    # a changed text is not the approved one
    g = svc.cms.post("/api/v1/gate", json={"text": text.replace("张伟", "李娜")}).json()
    assert g["allow"] is False


def test_gate_reasons_say_what_each_category_decided(svc):
    g = svc.cms.post("/api/v1/gate", json={"text": "秘密★5年\n关于某项工作的通知\n联系人手机 13912345678。"}).json()
    assert g["decision"] == "block"
    assert any(r.startswith("禁止发布：marking") for r in g["reasons"]), g["reasons"]
    phone = [r for r in g["reasons"] if "pii.phone" in r]
    assert phone and not phone[0].startswith("禁止发布"), g["reasons"]
    # the same from the content-hash cache
    again = svc.cms.post("/api/v1/gate", json={"text": "秘密★5年\n关于某项工作的通知\n联系人手机 13912345678。"}).json()
    assert again["cached"] and again["reasons"] == g["reasons"]


def test_api_key_creation_is_post_redirect_get(svc):
    root = web(svc, "root")
    tok = csrf(root, "/admin/keys")
    uid = svc.login("root").get("/api/v1/auth/me").json()["id"]
    r = root.post("/admin/keys", data={"csrf_token": tok, "name": "门户网站 CMS", "user_id": str(uid),
                                       "scopes": ["gate", "scan"]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/keys?msg=key_created"
    page = root.get("/admin/keys?msg=key_created").text
    key = re.search(r'id="new-key">(bm_[^<]+)<', page).group(1)
    assert TestClient(svc.app, headers={"Authorization": f"Bearer {key}"}).post(
        "/api/v1/scan", json={"text": "x"}).status_code == 200
    # a reload neither creates a second key nor shows this one again
    again = root.get("/admin/keys?msg=key_created").text
    assert 'id="new-key"' not in again and key not in again
    assert [k["name"] for k in svc.login("root").get("/api/v1/admin/api-keys").json()].count("门户网站 CMS") == 1


def test_too_large_upload_gets_a_page_with_the_limit(svc):
    a = web(svc, "alice")
    assert "单个文件不超过 2 MiB" in a.get("/new").text
    r = a.post("/new", data={"csrf_token": csrf(a), "title": "大文件"},
               files={"file": ("big.txt", b"x" * (3 << 20), "text/plain")}, headers={"Accept": "text/html"})
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert "2 MiB" in r.text and 'href="/new"' in r.text and '{"error"' not in r.text


def test_upload_form_keeps_its_fields_after_an_error(svc):
    a = web(svc, "alice")
    fields = {"title": "社区活动通知", "summary": "活动安排", "purpose": "动员报名", "channel": "门户网站", "scope": "社会公开"}
    r = a.post("/new", data={"csrf_token": csrf(a), **fields}, files={"file": ("empty.txt", b"", "text/plain")})
    assert r.status_code == 400 and "文件为空" in r.text
    for k, v in fields.items():
        assert v in r.text, k


def test_no_stale_in_progress_banner_above_finished_results(svc):
    a = web(svc, "alice")
    r = a.post("/new", data={"csrf_token": csrf(a), "title": "t"},
               files={"file": ("a.txt", "联系人手机 13912345678。".encode(), "text/plain")}, follow_redirects=False)
    loc = r.headers["location"]
    wait_submission(svc.login("alice"), loc.split("/s/")[1].split("?")[0])
    html = a.get(loc).text
    assert "自动审查进行中" not in html and "自动审查已完成" in html


def test_a_taken_port_is_said_in_chinese_before_any_account_is_made(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "scanner.cli", "serve", "--port", str(port),
                            "--data-dir", str(tmp_path / "var")], capture_output=True, text=True, timeout=120,
                           cwd=str(ROOT), env={**os.environ, "BAOMI_LIGHT_SCANNER": "1"})
    assert r.returncode == 3
    assert "已被占用" in r.stderr and "make run PORT=8080" in r.stderr and "--port" in r.stderr
    assert "author" not in r.stdout and not (tmp_path / "var" / "demo-accounts.txt").exists()
    mk = (ROOT / "Makefile").read_text()
    assert "baomi serve $(if $(PORT),--port $(PORT))" in mk


def test_baomi_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "scanner.cli", "--help"], capture_output=True, text=True,
                         timeout=120, cwd=str(ROOT)).stdout
    for cmd in ("scan", "serve", "worker", "audit", "user", "apikey", "purge"):
        assert re.search(rf"^\s+{cmd}\s", out, re.M), cmd


def test_cli_html_report_of_samples_04(tmp_path):
    out = tmp_path / "r.html"
    r = subprocess.run([sys.executable, "-m", "scanner.cli", "scan", "--light", "--format", "html", "-o", str(out),
                        str(ROOT / "samples" / "04_说明_含修订痕迹.docx")], capture_output=True, text=True,
                       timeout=120, cwd=str(ROOT))
    assert "Traceback" not in r.stderr and r.returncode in (0, 1, 2)
    assert out.stat().st_size > 1000 and "<html" in out.read_text("utf-8").lower()
