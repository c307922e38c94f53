"""Zero egress, proven (issue 13, red-team R2): every connect/sendto of the real service and of
the CLI, traced with `strace -f` (threads and children), goes to loopback or a unix socket.

R2 was onnxruntime's 1DS telemetry: ~10 s after an InferenceSession is created a thread resolves
mobile.events.data.microsoft.com (UDP :53), and keeps retrying. A short CLI run ends before it; a
service lives on. scanner/__init__.py sets ORT_DISABLE_TELEMETRY before onnxruntime is imported."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from support.egress import outbound, strace_cmd
from support.server import Server
from support.service_helpers import valid_id_number

ROOT = Path(__file__).resolve().parents[2]


def test_the_tracer_sees_a_resolver_query(tmp_path):
    """The control: a process that resolves a name is caught by `outbound` (so a pass below means
    no such call, not a blind tracer)."""
    out = tmp_path / "control.txt"
    subprocess.run([*strace_cmd(out), sys.executable, "-c",
                    "import socket\ntry: socket.getaddrinfo('example.invalid', 80)\nexcept OSError: pass\n"
                    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b'x', ('192.0.2.1', 9))"],
                   check=True, timeout=60)
    bad = outbound(out)
    assert any("192.0.2.1" in b for b in bad), bad


def test_an_onnx_session_alive_for_25s_makes_no_outbound_call(tmp_path):
    """R2 at its root: an onnxruntime session (the OCR models'), in a process that lives long enough
    for the telemetry thread (before the fix: 2 resolver queries ~10 s after the session, more later)."""
    out = tmp_path / "ort.txt"
    code = ("import time, scanner\n"
            "from pathlib import Path\nimport onnxruntime, rapidocr_onnxruntime\n"
            "m = sorted(Path(rapidocr_onnxruntime.__file__).parent.rglob('*.onnx'))[0]\n"
            "onnxruntime.InferenceSession(str(m), providers=['CPUExecutionProvider'])\n"
            "time.sleep(25)\n")
    subprocess.run([*strace_cmd(out), sys.executable, "-c", code], check=True, timeout=120, cwd=str(ROOT))
    assert outbound(out) == []


def test_cli_scan_makes_no_outbound_call(tmp_path):
    out = tmp_path / "cli.txt"
    subprocess.run([*strace_cmd(out), sys.executable, "-m", "scanner.cli", "scan", "--format", "json",
                    str(ROOT / "samples")], timeout=300, cwd=str(ROOT), stdout=subprocess.DEVNULL)
    assert outbound(out) == []


def test_service_scan_gate_upload_review_approve_make_no_outbound_call(tmp_path):
    """The real `baomi serve` (full scanner with the models, OCR on onnxruntime, sandboxed
    extraction) under strace: scans (docx file and text), the CMS gate, an upload, verdicts,
    review and approval, then the gate again; alive for at least 30 s after start-up."""
    trace = tmp_path / "serve.txt"
    srv = Server(tmp_path / "data", wrap=strace_cmd(trace), baomi_argon2_fast="1", baomi_workers="1")
    srv.start(timeout=240)
    started = time.time()
    try:
        key = srv.accounts()["cms"]
        cms = httpx.Client(base_url=srv.url, timeout=120, headers={"Authorization": f"Bearer {key}"})
        docx = ROOT / "samples" / "04_说明_含修订痕迹.docx"
        r = cms.post("/api/v1/scan", files={"file": (docx.name, docx.read_bytes())})
        assert r.status_code == 200, r.text
        text = f"关于开展社区志愿服务活动的通知\n联系人张伟，电话13912345678，身份证号{valid_id_number()}。"
        assert cms.post("/api/v1/scan", json={"text": text}).status_code == 200
        g = cms.post("/api/v1/gate", json={"text": text}).json()
        assert g["allow"] is False
        author = srv.login("author")
        r = author.post("/api/v1/submissions", files={"file": ("notice.txt", text.encode())}, data={"title": "通知"})
        assert r.status_code == 202, r.text
        sid = r.json()["id"]
        for _ in range(600):
            sub = author.get(f"/api/v1/submissions/{sid}").json()
            if sub["status"] != "scanning":
                break
            time.sleep(0.2)
        assert sub["status"] == "pending_review", sub["status"]
        reviewer = srv.login("reviewer")
        for f in sub["report"]["findings"]:
            r = reviewer.put(f"/api/v1/submissions/{sid}/findings/{f['id']}/verdict",
                             json={"verdict": "accepted_risk", "reason": "已征得本人同意公开"})
            assert r.status_code == 200, r.text
        assert reviewer.post(f"/api/v1/submissions/{sid}/review", json={"decision": "approve"}).status_code == 200
        r = srv.login("approver").post(f"/api/v1/submissions/{sid}/approval", json={"decision": "approve"})
        assert r.status_code == 200, r.text
        assert cms.post("/api/v1/gate", files={"file": ("notice.txt", text.encode())}).json()["allow"] is True
        # stay alive past the telemetry thread's first attempt (~10 s after a session) and a retry
        time.sleep(max(0.0, 30 - (time.time() - started)))
    finally:
        srv.stop()
        srv.wait_exit(30)
    calls = trace.read_text(errors="replace")
    assert "HTTP/1.1 200" in calls       # the tracer saw the server's own answers
    assert outbound(trace) == []
