"""Issue 13, the reviewer's keyboard and the PDF boxes in a real browser (newcomer-ux bugs 4 and 5):
after f + reason + Enter the keyboard is back on the list (the next j/a are not typed into the
reason box) and the list moves on; a box on the PDF page image selects its finding when clicked
in its middle, not only on its 2-px outline."""
from __future__ import annotations

import time

from browsing import login
from support.drafts import pdf_bytes
from support.service_helpers import valid_id_number


def _submitted_pdf(server) -> str:
    import httpx
    a = httpx.Client(base_url=server.url, timeout=60)
    r = a.post("/api/v1/auth/login", json={"username": "author", "password": server.accounts["author"]})
    a.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    pdf = pdf_bytes(["关于开展志愿服务活动的通知", "联系人手机 13912345678", f"身份证号 {valid_id_number()}"])
    r = a.post("/api/v1/submissions", files={"file": ("notice.pdf", pdf, "application/pdf")}, data={"title": "PDF 通知"})
    assert r.status_code == 202, r.text
    sid = r.json()["id"]
    for _ in range(600):
        if a.get(f"/api/v1/submissions/{sid}").json()["status"] != "scanning":
            return sid
        time.sleep(0.2)
    raise AssertionError("scan did not finish")


def test_enter_in_the_reason_box_saves_and_hands_the_keyboard_back(browser, server):
    sid = _submitted_pdf(server)
    ctx, page, watch = login(browser, server, "reviewer")
    try:
        page.goto(f"{server.url}/s/{sid}")
        page.wait_for_selector("#findings li.finding")
        n = page.locator("#findings li.finding").count()
        assert n >= 2
        page.keyboard.press("j")
        first = page.evaluate("document.body.getAttribute('data-current-finding')")
        page.keyboard.press("f")
        assert page.evaluate("document.activeElement.name") == "reason"
        page.keyboard.type("单位公开的办公电话")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"li.finding[data-fid='{first}'][data-saved='false_positive']")
        page.wait_for_function(f"document.body.getAttribute('data-current-finding') !== '{first}'")
        assert page.evaluate("document.activeElement.tagName") not in ("INPUT", "TEXTAREA")
        page.keyboard.press("j")
        page.keyboard.press("a")                  # accepted risk needs a reason: the box gets focus, empty
        reason = page.locator(f"li.finding[data-fid='{first}'] input[name=reason]").input_value()
        assert reason == "单位公开的办公电话", reason      # nothing typed into the first finding's box
        watch.assert_clean()
    finally:
        ctx.close()


def test_a_pdf_box_is_clickable_in_its_middle(browser, server):
    sid = _submitted_pdf(server)
    ctx, page, watch = login(browser, server, "reviewer")
    try:
        page.goto(f"{server.url}/s/{sid}")
        box = page.locator("a.boxlink rect.box").last
        box.scroll_into_view_if_needed()
        fid = page.locator("a.boxlink").last.get_attribute("data-fid")
        bb = box.bounding_box()
        assert bb and bb["width"] > 8 and bb["height"] > 8
        page.mouse.click(bb["x"] + bb["width"] / 2, bb["y"] + bb["height"] / 2)
        page.wait_for_function(f"document.body.getAttribute('data-current-finding') === '{fid}'")
        watch.assert_clean()
    finally:
        ctx.close()
