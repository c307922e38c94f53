"""Browser end-to-end fixtures: the real service (`baomi serve`, uvicorn) on a free loopback port
with a temporary data directory, and Debian's chromium driven by Playwright for Python.

No skips: if chromium is missing, `make test`/`make e2e` install it first (.ci/install_chromium.sh);
if it still cannot start, the tests fail."""
from __future__ import annotations

import io
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


class Watch:
    """Collects what must never happen on a page: dialogs, uncaught errors, console errors, and
    requests leaving the loopback server."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        self.outside: list[str] = []

    def attach(self, page):
        def on_dialog(d):
            self.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()
        page.on("dialog", on_dialog)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: None if r.url.startswith((self.base, "data:", "blob:", "about:"))
                else self.outside.append(r.url))

    def assert_clean(self):
        assert not self.dialogs, self.dialogs
        assert not self.errors, self.errors
        assert not self.console, self.console
        assert not self.outside, self.outside


def login(browser, server: Server, username: str, viewport=(1280, 800)):
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN",
                              accept_downloads=True)
    page = ctx.new_page()
    w = Watch(server.url)
    w.attach(page)
    page.goto(server.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server.accounts[username])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"login failed for {username}"
    return ctx, page, w


def docx_bytes(paragraphs: list[str], deleted: str | None = None, after_para: int = -1) -> bytes:
    """A docx; `deleted` becomes a tracked deletion (w:del) in paragraph `after_para`."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    d = Document()
    ps = [d.add_paragraph(t) for t in paragraphs]
    if deleted:
        dl = OxmlElement("w:del")
        dl.set(qn("w:id"), "1")
        dl.set(qn("w:author"), "张三")
        dl.set(qn("w:date"), "2026-11-01T00:00:00Z")
        r = OxmlElement("w:r")
        t = OxmlElement("w:delText")
        t.set(qn("xml:space"), "preserve")
        t.text = deleted
        r.append(t)
        dl.append(r)
        ps[after_para]._p.append(dl)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def pdf_bytes(lines: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("STSong-Light", 14)
    y = 780
    for line in lines:
        c.drawString(72, y, line)
        y -= 28
    c.showPage()
    c.save()
    return buf.getvalue()
