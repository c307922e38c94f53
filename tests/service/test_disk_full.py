"""A full disk is temporary (issue 13, red-team R8 and R11), on a real tmpfs as the data
directory of a real `baomi serve`: uploads and synchronous scans answer 507 storage_full (not
500) while it is full, and every acknowledged submission is scanned once space is back (none
fails for good). Needs root to mount the tmpfs (CI and the shared machine run as root)."""
from __future__ import annotations

import errno
import os
import subprocess
import time

import pytest

from support.server import Server

ENV = dict(baomi_light_scanner="1", baomi_isolated="always", baomi_workers="1", baomi_argon2_fast="1",
           baomi_storage_retry_s="1", baomi_storage_min_free_bytes=str(1 << 20), baomi_job_lease_s="20")


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mnt)], capture_output=True)
    assert r.returncode == 0, "mounting a tmpfs needs root: " + r.stderr.decode()
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_r8_r11_full_disk_answers_507_and_acknowledged_jobs_finish_later(small_disk, tmp_path):
    srv = Server(small_disk / "data", **ENV)
    srv.log = tmp_path / "server.log"          # beside the tmpfs, not on it
    srv.start(timeout=120)
    try:
        a = srv.login("author")
        body = ("关于开展社区志愿服务活动的通知，请各单位按时报名参加。" * 4000).encode()   # ~300 KB, no finding
        acked, codes = [], []
        for i in range(80):
            r = a.post("/api/v1/submissions", files={"file": (f"d{i}.txt", body)}, data={"title": f"t{i}"})
            codes.append(r.status_code)
            if r.status_code == 202:
                acked.append(r.json()["id"])
            elif r.status_code == 507:
                assert r.json()["error"]["code"] == "storage_full" and r.headers["retry-after"]
                break
            else:
                raise AssertionError((r.status_code, r.text[:200]))
        assert acked and codes[-1] == 507, codes
        # fill what is left so that the database itself cannot grow (the uploads may have left no
        # room even for the filler's first block, or for its directory entry: then it is full already)
        try:
            with open(small_disk / "filler", "wb") as fh:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        # a synchronous scan of a file (its work copy for the sandboxed parser cannot be written)
        r = a.post("/api/v1/scan", files={"file": ("s.txt", "机密★ 13800138000".encode() * 2000)})
        assert r.status_code == 507 and r.json()["error"]["code"] == "storage_full", (r.status_code, r.text[:200])
        # the database itself is full: SQLite's error is recognised as the storage, not a bug
        import sqlite3
        from service.storage import disk_full
        con = sqlite3.connect(small_disk / "probe.db")
        with pytest.raises(sqlite3.OperationalError) as ei:
            con.execute("CREATE TABLE t (x BLOB)")
            for _ in range(200):
                con.execute("INSERT INTO t VALUES (?)", (os.urandom(1 << 16),))
                con.commit()
        con.close()
        assert "database or disk is full" in str(ei.value) and disk_full(ei.value)
        time.sleep(3)                        # the worker meets the full disk for a while
        os.remove(small_disk / "filler")
        (small_disk / "probe.db").unlink(missing_ok=True)
        subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
        deadline = time.time() + 240
        pending = set(acked)
        while pending and time.time() < deadline:
            for sid in list(pending):
                sub = a.get(f"/api/v1/submissions/{sid}").json()
                if sub["status"] != "scanning":
                    job = sub["versions"][-1]["job"]
                    assert sub["status"] == "pending_review" and job["status"] == "done", (sid, job)
                    assert not [e for e in sub["report"]["errors"] if e["code"] == "service.job_failed"]
                    pending.discard(sid)
            time.sleep(0.5)
        assert not pending, f"{len(pending)} of {len(acked)} acknowledged submissions never scanned"
        assert a.post("/api/v1/scan", json={"text": "机密★ 13800138000"}).status_code == 200
    finally:
        srv.stop()
