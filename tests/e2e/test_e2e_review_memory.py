"""Issue 16 in a real browser against the real server: a reviewer filters the findings by category,
batch-dismisses what the filter shows with one reason, sends the draft back; the author uploads a
new version from the page; the reviewer sees the verdicts carried over (who, which version) where
the findings' fingerprints are unchanged, and only the new finding waits for a verdict."""
from __future__ import annotations

import time

import httpx

from browsing import login

MOBILE, HOST = "13912345678", "10.12.3.45"
V1 = (f"关于开展社区活动的通知\n联系人手机{MOBILE}，请于周五前报名。\n报名系统服务器{HOST}已上线。\n"
      f"咨询请拨手机{MOBILE}。")
V2 = f"关于开展社区活动的通知\n联系人手机{MOBILE}，请于周五前报名。\n咨询请拨手机{MOBILE}。\n本通知不得外传。"


def _api(server, user):
    c = httpx.Client(base_url=server.url, timeout=60)
    r = c.post("/api/v1/auth/login", json={"username": user, "password": server.accounts[user]})
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def _wait(c, sid, version):
    for _ in range(600):
        sub = c.get(f"/api/v1/submissions/{sid}").json()
        if sub["status"] != "scanning" and sub["current_version"] == version:
            return sub
        time.sleep(0.2)
    raise AssertionError("scan did not finish")


def test_filter_batch_dismiss_resubmit_and_carried_verdicts(browser, server, shots):
    author = _api(server, "author")
    r = author.post("/api/v1/submissions", json={"text": V1, "title": "社区活动通知", "channel": "门户网站"})
    assert r.status_code == 202, r.text
    sid = r.json()["id"]
    sub = _wait(author, sid, 1)
    phones = [f for f in sub["report"]["findings"] if f["category"] == "pii.phone"]
    assert len(phones) == 2 and phones[0]["group"] == phones[1]["group"]

    ctx, page, watch = login(browser, server, "reviewer")
    try:
        page.goto(f"{server.url}/s/{sid}")
        page.wait_for_selector("#cat-counts")
        assert page.locator("#cat-counts [data-cat='pii.phone'] b").inner_text() == "2"
        all_items = page.locator("#findings li.finding").count()
        # filter by category: only the phone group, shown once with both occurrences
        page.select_option("#filter select[name=cat]", "pii.phone")
        page.click("#apply-filter")
        page.wait_for_selector("#batch")
        items = page.locator("#findings li.finding")
        assert items.count() == 1 < all_items
        assert "共 2 处" in items.first.inner_text()
        # batch-dismiss what the filter shows, one reason
        page.select_option("#batch select[name=verdict]", "false_positive")
        page.fill("#batch input[name=reason]", "活动联系手机，本人同意公开")
        page.click("#batch-submit")
        page.wait_for_selector(".flash.ok")
        assert "批量审查结论已保存" in page.locator(".flash.ok").inner_text()
        li = page.locator("#findings li.finding").first
        assert "误报" in li.locator(".vstate").inner_text() and "（批量）" in li.inner_text()
        page.screenshot(path=str(shots / "review-memory-batch.png"), full_page=True)
        # the server address is a real risk: confirmed (the page's form), then back to the author
        page.goto(f"{server.url}/s/{sid}?cat=secret")
        host = page.locator("#findings li.finding").first
        host.locator("select[name=verdict]").select_option("confirmed")
        host.locator("form.vform button").click()
        page.wait_for_selector("#findings li.finding[data-saved='confirmed']")
        page.goto(f"{server.url}/s/{sid}")
        page.check("#decide input[value=request_changes]")
        page.fill("#decide textarea[name=reason]", "请删除服务器地址后重新提交")
        page.click("#decide button[type=submit]")
        page.wait_for_selector("#sub-status[data-status='changes_requested']")
    finally:
        ctx.close()

    # the author uploads the new version from the page
    actx, apage, awatch = login(browser, server, "author")
    try:
        apage.goto(f"{server.url}/s/{sid}")
        apage.fill("#resubmit input[name=note]", "已删除服务器地址")
        apage.set_input_files("#resubmit input[name=file]",
                              {"name": "v2.txt", "mimeType": "text/plain", "buffer": V2.encode("utf-8")})
        apage.click("#resubmit button[type=submit]")
        apage.wait_for_load_state()
        awatch.assert_clean()
    finally:
        actx.close()
    sub2 = _wait(author, sid, 2)
    assert not [f for f in sub2["report"]["findings"] if f["category"] == "secret.intranet"]

    ctx, page, watch = login(browser, server, "reviewer")
    try:
        page.goto(f"{server.url}/s/{sid}")
        page.wait_for_selector("#findings")
        assert page.locator("#n-carried").inner_text() == "1"
        page.select_option("#filter select[name=state]", "carried")
        page.click("#apply-filter")
        page.wait_for_selector("#findings li.finding")
        carried = page.locator("#findings li.finding")
        assert carried.count() == 1
        text = carried.first.inner_text()
        assert "沿用第 1 版的结论" in text and "误报" in text and "活动联系手机，本人同意公开" in text
        assert carried.first.get_attribute("data-category") == "pii.phone"
        # the new finding (不得外传) is the one still waiting
        page.goto(f"{server.url}/s/{sid}?state=open")
        waiting = [page.locator("#findings li.finding").nth(i).get_attribute("data-category")
                   for i in range(page.locator("#findings li.finding").count())]
        assert "term.internal" in waiting and "pii.phone" not in waiting
        page.screenshot(path=str(shots / "review-memory-carried.png"), full_page=True)
        watch.assert_clean()
    finally:
        ctx.close()
