"""`baomi user / apikey / audit verify / purge` on a data directory (SQLite)."""
from __future__ import annotations

import os
import subprocess
import sys


def _baomi(data_dir, *args):
    env = {**os.environ, "BAOMI_ARGON2_FAST": "1", "BAOMI_LIGHT_SCANNER": "1"}
    return subprocess.run([sys.executable, "-m", "scanner.cli", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=180, env=env)


def test_cli_users_keys_audit(tmp_path):
    d = tmp_path / "data"
    r = _baomi(d, "user", "add", "lihua", "--role", "reviewer", "--password", "a-long-password")
    assert r.returncode == 0 and r.stdout.startswith("lihua\t")
    assert _baomi(d, "user", "add", "lihua", "--role", "author").returncode == 1
    r = _baomi(d, "apikey", "create", "lihua", "--scopes", "gate")
    assert r.returncode == 0 and r.stdout.startswith("bm_")
    key = r.stdout.strip()
    r = _baomi(d, "apikey", "list")
    assert "gate" in r.stdout and key.split("_", 2)[2] not in r.stdout
    r = _baomi(d, "user", "list")
    assert "lihua\treviewer\tactive" in r.stdout
    r = _baomi(d, "audit", "verify")
    assert r.returncode == 0 and "2 条" in r.stdout
    r = _baomi(d, "worker", "--purge-once")
    assert r.returncode == 0 and '"blobs": 0' in r.stdout
    # the key was created hashed: the plaintext secret is nowhere in the database file
    raw = (d / "baomi.db").read_bytes() + b"".join(p.read_bytes() for p in d.glob("baomi.db-wal"))
    assert key.split("_", 2)[2].encode() not in raw
