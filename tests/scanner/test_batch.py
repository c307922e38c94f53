"""Batch mode: every file scanned once, JSONL written as it goes, resume skips finished files,
a half-written line is repaired, a changed file is rescanned, a crashing worker fails closed."""
from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest

from scanner.batch import pool, progress
from scanner.batch import Item, iter_inputs, load_done, run_batch
from scanner.config import SandboxLimits


def _make_tree(root: Path, n: int = 12) -> list[Path]:
    paths = []
    for i in range(n):
        sub = root / f"d{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        p = sub / f"f{i:02d}.txt"
        body = "今天天气很好，大家按时参加会议。" if i % 2 else "联系电话13912345678，请回电。"
        p.write_text(f"第{i}号文件。{body}\n", encoding="utf-8")
        paths.append(p)
    return paths


def _records(out: Path) -> list[dict]:
    return [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]


def test_inputs_walk_listfile_and_exclude(tmp_path):
    files = _make_tree(tmp_path / "a", 6)
    lst = tmp_path / "list.txt"
    lst.write_text(f"# comment\n{files[0]}\n\n{files[1]}\n", encoding="utf-8")
    walked = [it.path for it in iter_inputs(tmp_path / "a")]
    assert sorted(walked) == walked or len(walked) == 6
    assert len(walked) == 6
    listed = [it.path for it in iter_inputs(["@" + str(lst)])]
    assert listed == [str(files[0]), str(files[1])]
    excl = [it.path for it in iter_inputs(tmp_path / "a", exclude=[files[0]])]
    assert str(files[0]) not in excl and len(excl) == 5


@pytest.mark.parametrize("jobs", [1, 2])
def test_batch_scans_each_file_once_and_summarises(tmp_path, jobs):
    files = _make_tree(tmp_path / "in", 12)
    out = tmp_path / "out.jsonl"
    s = run_batch(tmp_path / "in", out, jobs=jobs, light=True, progress=False)
    recs = _records(out)
    assert sorted(r["batch"]["path"] for r in recs) == sorted(str(p) for p in files)
    assert s.scanned_now == 12 and s.total_files == 12 and s.skipped_resume == 0
    assert sum(s.decisions.values()) == 12
    for r in recs:
        assert r["decision"] in ("pass", "review", "block")
        assert set(r["batch"]) >= {"path", "size", "mtime_ns"}
    txt = Path(s.summary_txt).read_text(encoding="utf-8")
    html = Path(s.summary_html).read_text(encoding="utf-8")
    assert "decision" in txt and "<table>" in html and "批量扫描汇总" in html


def test_resume_skips_finished_and_repairs_torn_line(tmp_path):
    files = _make_tree(tmp_path / "in", 10)
    out = tmp_path / "out.jsonl"
    # first run over half of the files: simulates an interrupted run
    lst = tmp_path / "half.txt"
    lst.write_text("\n".join(str(p) for p in files[:5]) + "\n", encoding="utf-8")
    run_batch("@" + str(lst), out, jobs=1, light=True, progress=False)
    assert len(_records(out)) == 5
    with open(out, "a", encoding="utf-8") as fh:      # a torn write at the moment of the kill
        fh.write('{"source": "x", "batch": {"pa')
    done = load_done(out)
    assert len(done) == 5
    assert out.read_text(encoding="utf-8").endswith("\n")
    s = run_batch(tmp_path / "in", out, jobs=2, light=True, progress=False)
    assert s.skipped_resume == 5 and s.scanned_now == 5
    recs = _records(out)
    assert len(recs) == 10
    assert len({r["batch"]["path"] for r in recs}) == 10
    # a third run has nothing to do
    s3 = run_batch(tmp_path / "in", out, jobs=2, light=True, progress=False)
    assert s3.scanned_now == 0 and s3.skipped_resume == 10 and s3.total_files == 10


def test_changed_file_is_rescanned_on_resume(tmp_path):
    files = _make_tree(tmp_path / "in", 3)
    out = tmp_path / "out.jsonl"
    run_batch(tmp_path / "in", out, jobs=1, light=True, progress=False)
    time.sleep(0.01)
    files[0].write_text("已修改的内容，长度也不同了。\n", encoding="utf-8")
    os.utime(files[0], ns=(time.time_ns(), time.time_ns()))
    s = run_batch(tmp_path / "in", out, jobs=1, light=True, progress=False)
    assert s.scanned_now == 1 and s.skipped_resume == 2


def test_no_resume_starts_over(tmp_path):
    _make_tree(tmp_path / "in", 4)
    out = tmp_path / "out.jsonl"
    run_batch(tmp_path / "in", out, jobs=1, light=True, progress=False)
    s = run_batch(tmp_path / "in", out, jobs=1, light=True, resume=False, progress=False)
    assert s.scanned_now == 4 and len(_records(out)) == 4


def test_unreadable_file_fails_closed(tmp_path):
    missing = tmp_path / "gone.txt"
    out = tmp_path / "out.jsonl"
    lst = tmp_path / "l.txt"
    lst.write_text(str(missing) + "\n", encoding="utf-8")
    run_batch("@" + str(lst), out, jobs=1, light=True, progress=False)
    (rec,) = _records(out)
    assert rec["decision"] != "pass" and rec["errors"]


def _crash_on_marker(items, light=False, isolated=False):
    """Stands in for a parser that kills its process on one hostile file."""
    for it in items:
        if it.path.endswith("boom.txt"):
            os._exit(13)
    return _orig_scan_paths(items, light, isolated)


_orig_scan_paths = pool.scan_paths


def test_worker_crash_is_recorded_and_others_complete(tmp_path, monkeypatch):
    files = _make_tree(tmp_path / "in", 8)
    (tmp_path / "in" / "d0" / "boom.txt").write_text("x\n", encoding="utf-8")
    monkeypatch.setattr(pool, "scan_paths", _crash_on_marker)   # inherited by forked workers
    out = tmp_path / "out.jsonl"
    s = run_batch(tmp_path / "in", out, jobs=2, light=True, progress=False, chunk_size=2)
    recs = {r["batch"]["path"]: r for r in _records(out)}
    assert len(recs) == len(files) + 1
    boom = recs[str(tmp_path / "in" / "d0" / "boom.txt")]
    assert boom["decision"] == "review"
    assert boom["errors"][0]["code"] == "scan.worker_crashed"
    assert s.crashed == 1
    assert all(r["errors"] == [] or r["errors"][0]["code"] != "scan.worker_crashed"
               for p, r in recs.items() if not p.endswith("boom.txt"))


def test_progress_line_has_rate_and_eta():
    buf = io.StringIO()
    p = progress.Progress(4, True, stream=buf, interval=0)
    for d in ("pass", "review", "block", "pass"):
        p.update({"decision": d})
    p.close()
    line = buf.getvalue().strip().splitlines()[-1]
    assert "4/4" in line and "files/s" in line and "ETA" in line and "block 1" in line


def test_item_key_is_path_size_mtime():
    assert Item("a", 1, 2).key == ("a", 1, 2)


def test_exit_code_and_cli_compat_arguments(tmp_path):
    _make_tree(tmp_path / "in", 4)      # half carry a phone number: review
    out = tmp_path / "out.jsonl"
    html = tmp_path / "sum.html"
    s = run_batch(tmp_path / "in", out, jobs=1, light=True, progress=False, summary_html=str(html),
                  fail_on="review", isolated="auto")
    assert html.exists() and s.summary_html == str(html)
    assert s.decisions["review"] >= 1 and s.exit_code == 1 and int(s) == 1
    s2 = run_batch(tmp_path / "in", out, jobs=1, light=True, progress=False, fail_on="block")
    assert s2.exit_code == 0 and s2.scanned_now == 0
    s3 = run_batch(tmp_path / "in", out, jobs=1, light=True, progress=False, fail_on="never")
    assert int(s3) == 0


_orig_extract_item = pool.extract_item


def _hostile_extract_item(sc, item, isolated):
    """Stands in for parsers that spin (CPU) or hang (no CPU) on a hostile file."""
    if item.path.endswith("spin.txt"):
        while True:
            pass
    if item.path.endswith("hang.txt"):
        time.sleep(3600)
    return _orig_extract_item(sc, item, isolated)


def test_sandboxed_workers_stop_spinning_and_hanging_files(tmp_path, monkeypatch):
    files = _make_tree(tmp_path / "in", 6)
    (tmp_path / "in" / "d1" / "spin.txt").write_text("x\n", encoding="utf-8")
    (tmp_path / "in" / "d2" / "hang.txt").write_text("x\n", encoding="utf-8")
    monkeypatch.setattr(pool, "extract_item", _hostile_extract_item)     # inherited by forked workers
    out = tmp_path / "out.jsonl"
    t0 = time.monotonic()
    s = run_batch(tmp_path / "in", out, jobs=2, light=True, progress=False, isolated=True, chunk_size=1,
                  limits=SandboxLimits(mem_mb=512, cpu_s=1, wall_s=2.0))
    assert time.monotonic() - t0 < 60
    recs = {r["batch"]["path"]: r for r in _records(out)}
    assert len(recs) == len(files) + 2
    spin = recs[str(tmp_path / "in" / "d1" / "spin.txt")]
    hang = recs[str(tmp_path / "in" / "d2" / "hang.txt")]
    assert spin["decision"] == "review" and spin["errors"][0]["code"] in ("scan.worker_crashed", "extract.timeout")
    assert hang["decision"] == "review" and hang["errors"][0]["code"] == "extract.timeout"
    for p in files:
        assert recs[str(p)]["errors"] == []
    assert s.crashed == 2


def _probe_network(sc, item, isolated):
    """Stands in for a parser that tries to reach a host (here: a listener on loopback); what it
    saw travels in the document's source name."""
    import socket
    doc, ms = _orig_extract_item(sc, item, isolated)
    port = int(Path(item.path).read_text(encoding="utf-8").split()[-1])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        net = "reached"
    except OSError:
        net = "blocked"
    doc.source = json.dumps({"net": net, "netns": pool._worker_opts.get("netns")})
    return doc, ms


def test_sandboxed_workers_have_no_network(tmp_path, monkeypatch):
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    (tmp_path / "in").mkdir()
    for i in range(3):
        (tmp_path / "in" / f"p{i}.txt").write_text(f"端口 {port}\n", encoding="utf-8")
    monkeypatch.setattr(pool, "extract_item", _probe_network)
    out = tmp_path / "out.jsonl"
    try:
        run_batch(tmp_path / "in", out, jobs=2, light=True, progress=False, isolated=True, write_summary=False)
        run_batch(tmp_path / "in", tmp_path / "plain.jsonl", jobs=2, light=True, progress=False, isolated=False,
                  write_summary=False)
    finally:
        srv.close()
    sandboxed = [json.loads(json.loads(x)["source"]) for x in out.read_text(encoding="utf-8").splitlines()]
    plain = [json.loads(json.loads(x)["source"]) for x in (tmp_path / "plain.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["net"] for r in plain} == {"reached"}           # the probe works
    if not all(r["netns"] for r in sandboxed):
        pytest.skip("kernel refuses new network namespaces here")
    assert {r["net"] for r in sandboxed} == {"blocked"}


_real_scan_paths = pool.scan_paths


def _scan_paths_with_scanner_id(items, light=False, isolated=False):
    from scanner import get_scanner
    recs = _real_scan_paths(items, light, isolated)
    for r in recs:
        r["batch"]["scanner_id"] = id(get_scanner(light))
    return recs


def test_pool_workers_inherit_the_scanner_built_before_the_fork(tmp_path, monkeypatch):
    """The scanner (rules, automata, models) is built once in the parent; forked workers use that
    object (same id) instead of building their own."""
    if pool._mp_context().get_start_method() != "fork":
        pytest.skip("workers are forked only where fork exists")
    _make_tree(tmp_path / "in", 12)
    monkeypatch.setattr(pool, "scan_paths", _scan_paths_with_scanner_id)   # inherited by forked workers
    out = tmp_path / "out.jsonl"
    run_batch(tmp_path / "in", out, jobs=2, light=True, progress=False, chunk_size=2)
    from scanner import get_scanner
    recs = _records(out)
    assert len(recs) == 12
    assert {r["batch"]["pid"] for r in recs} - {os.getpid()}
    assert {r["batch"]["scanner_id"] for r in recs} == {id(get_scanner(light=True))}


def _comparable(rec: dict) -> dict:
    """A record without what differs from run to run (times, worker pid)."""
    rec = dict(rec)
    rec.pop("timings_ms", None)
    rec["batch"] = {k: v for k, v in rec["batch"].items() if k not in ("ms", "pid")}
    return rec


def test_files_scanned_together_give_the_reports_scanned_alone(tmp_path, monkeypatch):
    """scan_paths runs the detection of a chunk's small documents together (scan_group ->
    Scanner.scan_documents, the names tagger in one batch): every record equals scan_one's, in
    full mode, with a file that cannot be read and one larger than GROUP_MAX_CHARS among them."""
    from scanner.batch.inputs import iter_inputs as walk
    root = tmp_path / "in"
    _make_tree(root, 6)
    (root / "people.txt").write_text("姓名：王建国\n王建国住人民路12号3单元502室，电话13912345678。\n李秀英参加了会议。\n",
                                     encoding="utf-8")
    (root / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (root / "big.txt").write_text("员工马晓东的手机13812345678。\n" + "今天天气很好，大家按时参加会议。\n" * 4000,
                                  encoding="utf-8")
    items = list(walk(root))
    assert len(items) == 9
    monkeypatch.setattr(pool, "_worker_opts", {})      # not a pool worker (an in-process run sets them)
    together = pool.scan_paths(items, light=False, isolated="auto")
    alone = [pool.scan_one(it, light=False, isolated="auto") for it in items]
    assert [_comparable(r) for r in together] == [_comparable(r) for r in alone]
    assert any(f["category"] == "pii.name" for r in together for f in r["findings"])
    assert all(r["batch"]["ms"] > 0 for r in together)


_CAP_PROBE = r"""
import resource, sys
from scanner.batch import pool
from scanner.config import SandboxLimits
from scanner.extract.sandbox import proc_status_kb
pool._init_worker(sys.argv[1] == "light", False, SandboxLimits(mem_mb=512))
print((resource.getrlimit(resource.RLIMIT_AS)[0] - proc_status_kb("VmSize") * 1024) >> 20)
"""


@pytest.mark.parametrize("mode, room", [("full", 512 + 1024), ("light", 512)])
def test_a_sandboxed_worker_gets_the_address_space_a_child_gets_for_ocr(tmp_path, mode, room):
    """A sandboxed batch worker builds the OCR engine on its first picture, inside its memory cap:
    with OCR on, the cap leaves it the sandboxed child's OCR allowance (isolated.OCR_MEM_MB) on top
    of mem_mb, as extract_isolated gives a child (it had mem_mb only, and a worker that had read a
    few files failed inside OCR: extract.ocr_unavailable, depending on what it had read before)."""
    import subprocess
    import sys

    from scanner.extract.isolated import OCR_MEM_MB
    assert OCR_MEM_MB == 1024
    root = Path(__file__).resolve().parents[2]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(root),
           "BAOMI_FINGERPRINT_KEY_FILE": str(tmp_path / "fp.key")}
    r = subprocess.run([sys.executable, "-c", _CAP_PROBE, mode], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    left = int(r.stdout.strip().splitlines()[-1])
    assert room - 8 <= left <= room, left
