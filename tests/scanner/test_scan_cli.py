"""The `baomi scan` command as a publishing gate: formats, exit codes, many files, stdin."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BAOMI = [sys.executable, "-m", "scanner.cli"]


def run(*args, stdin: bytes | None = None):
    return subprocess.run(BAOMI + list(args), capture_output=True, input=stdin, cwd=ROOT, timeout=120)


@pytest.fixture()
def drafts(tmp_path):
    (tmp_path / "marked.txt").write_text("机密★10年\n情况通报\n", encoding="utf-8")
    (tmp_path / "pii.txt").write_text("报名表\n手机13572468013\n", encoding="utf-8")
    (tmp_path / "public.txt").write_text("体育新闻\n主队两球逆转取胜。\n", encoding="utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not a pdf")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nested.txt").write_text("请勿扩散\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("name,code", [("public.txt", 0), ("pii.txt", 1), ("marked.txt", 2), ("broken.pdf", 3)])
def test_exit_codes(drafts, name, code):
    proc = run("scan", "--light", "--format", "jsonl", str(drafts / name))
    assert proc.returncode == code, proc.stderr.decode()[-2000:]
    report = json.loads(proc.stdout.decode().strip())
    assert report["source"].endswith(name)
    assert report["decision"] == ["pass", "review", "block", "review"][code]


def test_fail_on(drafts):
    assert run("scan", "--light", "--fail-on", "block", str(drafts / "pii.txt")).returncode == 0
    assert run("scan", "--light", "--fail-on", "block", str(drafts / "marked.txt")).returncode == 2
    assert run("scan", "--light", "--fail-on", "never", str(drafts / "marked.txt")).returncode == 0


def test_directory_and_many_files_jsonl(drafts):
    proc = run("scan", "--light", "--format", "jsonl", str(drafts))
    reports = [json.loads(line) for line in proc.stdout.decode().splitlines() if line.startswith("{")]
    names = sorted(Path(r["source"]).name for r in reports)
    assert names == ["broken.pdf", "marked.txt", "nested.txt", "pii.txt", "public.txt"]
    assert proc.returncode == 2
    for r in reports:
        for key in ("sha256", "decision", "risk_score", "findings", "errors", "scanner_version",
                    "ruleset_hash", "model_version", "timings_ms"):
            assert key in r
        for f in r["findings"]:
            for key in ("category", "rule_id", "text", "start", "end", "layer", "location", "severity",
                        "confidence", "explanation", "suggestion", "fingerprint"):
                assert key in f


def test_text_report_is_chinese_with_context(drafts):
    out = run("scan", "--light", str(drafts / "marked.txt")).stdout.decode()
    assert "禁止发布" in out and "【机密★10年】" in out


def test_html_report_escapes(tmp_path):
    evil = tmp_path / "x.txt"
    evil.write_text('<script>alert(1)</script>\n"><img src=x onerror=alert(2)> 身份证号码330106197904082160\n',
                    encoding="utf-8")
    out = run("scan", "--light", "--format", "html", str(evil)).stdout.decode()
    assert "<script>alert" not in out and "<img src=x" not in out
    assert "&lt;img src=x onerror=alert(2)&gt;" in out
    assert '<mark class="c-pii"' in out


def test_sarif(drafts):
    out = json.loads(run("scan", "--light", "--format", "sarif", str(drafts / "marked.txt")).stdout)
    assert out["version"] == "2.1.0"
    assert out["runs"][0]["results"][0]["ruleId"].startswith("marking.level")


def test_stdin():
    proc = run("scan", "--light", "--format", "json", "-", stdin="秘密★\n通知".encode())
    assert proc.returncode == 2
    assert json.loads(proc.stdout)[0]["decision"] == "block"


def test_missing_file_is_an_error_not_a_crash(tmp_path):
    proc = run("scan", "--light", "--format", "jsonl", str(tmp_path / "nope.docx"))
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    assert report["errors"][0]["code"] == "extract.unreadable"


def test_text_and_html_on_a_folder_use_the_jobs_in_input_order(drafts):
    one = run("scan", "--light", "--jobs", "1", str(drafts))
    two = run("scan", "--light", "--jobs", "2", str(drafts))
    assert one.returncode == two.returncode == 2
    assert one.stdout.decode() == two.stdout.decode()          # same reports, same (input) order
    files = [line for line in two.stdout.decode().splitlines() if line.startswith("文件：")]
    assert len(files) == 5 and "共 5 个文件" in two.stdout.decode()
    html = run("scan", "--light", "--jobs", "2", "--format", "html", str(drafts)).stdout.decode()
    assert html.count("<section>") == 5 and "【" not in html and '<mark class="c-marking"' in html


def test_batch_only_options_are_not_silently_ignored(drafts, tmp_path):
    proc = run("scan", "--light", "--resume", str(drafts))
    assert proc.returncode == 64 and "--format jsonl" in proc.stderr.decode()
    out = tmp_path / "r.jsonl"
    proc = run("scan", "--light", "--format", "jsonl", "-o", str(out), "--jobs", "2", str(drafts))
    assert proc.returncode == 2
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5 and (tmp_path / "r.jsonl.summary.html").exists()
    again = run("scan", "--light", "--format", "jsonl", "-o", str(out), "--resume", str(drafts))
    assert again.returncode == 2 and len(out.read_text(encoding="utf-8").splitlines()) == 5


def test_service_commands_reach_baomi_through_the_entry_point_group():
    proc = run("--help")
    assert proc.returncode == 0
    for cmd in ("scan", "serve", "worker", "audit", "user", "apikey", "purge"):
        assert cmd in proc.stdout.decode()
