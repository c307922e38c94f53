"""The batch scan as tasks on a real local Dask cluster (two worker processes)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from scanner.batch import run_batch  # noqa: E402
from scanner.distributed import local_cluster, run_dask  # noqa: E402


def _tree(root: Path, n: int) -> None:
    for i in range(n):
        p = root / f"d{i % 2}" / f"f{i:02d}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        body = "联系电话13912345678。" if i % 3 == 0 else "今天召开了工作会议。"
        p.write_text(f"第{i}号。{body}\n", encoding="utf-8")


def _decisions(out: Path) -> dict:
    return {json.loads(x)["batch"]["path"]: json.loads(x)["decision"]
            for x in out.read_text(encoding="utf-8").splitlines()}


@pytest.fixture(scope="module")
def client():
    from distributed import Client
    cluster = local_cluster(n_workers=2, memory_limit="1GiB")
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_matches_process_pool_and_resumes(tmp_path, client):
    _tree(tmp_path / "in", 10)
    ref = tmp_path / "ref.jsonl"
    run_batch(tmp_path / "in", ref, jobs=1, light=True, progress=False)
    out = tmp_path / "dask.jsonl"
    s = run_dask(tmp_path / "in", out, client=client, light=True, chunk_size=2, progress=False)
    assert s.scanned_now == 10 and s.total_files == 10
    assert _decisions(out) == _decisions(ref)
    pids = {json.loads(x)["batch"]["pid"] for x in out.read_text(encoding="utf-8").splitlines()}
    assert len(pids) >= 1
    # resume: nothing left to do; a new file is the only one scanned
    (tmp_path / "in" / "d0" / "new.txt").write_text("新文件。\n", encoding="utf-8")
    s2 = run_dask(tmp_path / "in", out, client=client, light=True, progress=False)
    assert s2.skipped_resume == 10 and s2.scanned_now == 1
    assert Path(s2.summary_html).exists()


def test_dask_ship_bytes(tmp_path, client):
    _tree(tmp_path / "in", 4)
    out = tmp_path / "o.jsonl"
    s = run_dask(tmp_path / "in", out, client=client, light=True, ship_bytes=True, progress=False)
    assert s.scanned_now == 4
    recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert all(r["sha256"] for r in recs)
