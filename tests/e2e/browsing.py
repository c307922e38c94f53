"""Browser helpers for the e2e tests: a watch over what must never happen on a page, login."""
from __future__ import annotations


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


def login(browser, server, username: str, viewport=(1280, 800)):
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
