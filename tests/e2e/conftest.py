"""Browser end-to-end fixtures: the real service (`baomi serve`, uvicorn) on a free loopback port
with a temporary data directory, and Debian's chromium driven by Playwright for Python.

No skips: if chromium is missing, `make test`/`make e2e` install it first (.ci/install_chromium.sh);
if it still cannot start, the tests fail."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Playwright gives every launch a fresh, empty --user-data-dir of its own.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(items):
    for it in items:
        if "/e2e/" in str(it.fspath):
            it.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    data_dir: Path
    proc: subprocess.Popen
    accounts: dict = field(default_factory=dict)   # username -> password; "cms" -> API key
    log: Path | None = None


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("baomi-e2e")
    port = _free_port()
    log = data / "serve.log"
    env = {**os.environ, "BAOMI_WORKERS": "1", "BAOMI_RETENTION_DAYS": "30"}
    env.pop("BAOMI_DB_URL", None)
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "scanner.cli", "serve", "--data-dir", str(data / "var"),
                                 "--host", "127.0.0.1", "--port", str(port)],
                                cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        t0 = time.time()
        while True:
            if proc.poll() is not None:
                raise AssertionError("service exited early:\n" + log.read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() - t0 > 90:
                raise AssertionError("service did not start in 90 s")
            time.sleep(0.3)
        accounts = {}
        for line in (data / "var" / "demo-accounts.txt").read_text().splitlines():
            user, _role, secret = line.split("\t")
            accounts[user] = secret
        yield Server(url, data, proc, accounts, log)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    assert os.path.exists(CHROMIUM), (
        f"{CHROMIUM} is missing: run `sh .ci/install_chromium.sh` (make test / make e2e do it)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def shots():
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
