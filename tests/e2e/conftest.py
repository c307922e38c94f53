"""Browser end-to-end fixtures: the real service (`baomi serve`, uvicorn) on a free loopback port
with a temporary data directory, and Debian's chromium driven by Playwright for Python.

No skips: if chromium is missing, `make test`/`make e2e` install it first (.ci/install_chromium.sh);
if it still cannot start, the tests fail."""
from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """`baomi serve` (uvicorn) as a real subprocess on a free loopback port, temporary data
    directory, demo accounts read from the file it writes; it exits with the test runner."""
    from support.server import Server
    data = tmp_path_factory.mktemp("baomi-e2e") / "var"
    srv = Server(data, BAOMI_WORKERS="1", BAOMI_RETENTION_DAYS="30")
    try:
        srv.start(timeout=120)
        srv.accounts = {}                  # username -> password; "cms" -> API key
        for line in (data / "demo-accounts.txt").read_text().splitlines():
            user, _role, secret = line.split("\t")
            srv.accounts[user] = secret
        yield srv
    finally:
        srv.stop()


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
