"""Issue 14, end to end in Debian's chromium: a reviewer uploads an archive ZIP (docx, pdf, a picture
of a marked page, txt) with its catalogue -> 初审 adopts the suggestions in bulk (and decides by hand
any item the scanner could not read) -> the approver does 复核 -> the reviewer may not act again ->
the admin does 审核 (the approver of 复核 is refused: separation of duties) -> the final list of 涉密
items with 编号 and 标记 -> the register xlsx and the summary PDF are downloaded and read back."""
from __future__ import annotations

import io
import time

from browsing import login
from openpyxl import load_workbook
from support.archive_samples import AS_OF, catalog_xlsx, zip_bytes


def _wait_scanned(page, timeout_s: float = 300):
    t0 = time.time()
    while page.locator("#scanning").count():
        assert time.time() - t0 < timeout_s, "archive scan did not finish"
        time.sleep(1.0)
        page.reload()


def _decide_open_items(page):
    """Items without an opinion at this step (an unreadable one after a bulk adoption): decide by hand."""
    for row in page.locator("#archive-items tbody tr").all():
        cell = row.locator("td.op-initial")
        if cell.inner_text().strip() == "—":
            form = row.locator("form.item-form")
            form.locator("select[name=attribute]").select_option("secret")
            form.locator("select[name=level]").select_option("秘密")
            form.locator("select[name=access]").select_option("不开放")
            form.locator("input[name=reason]").fill("人工查看原件后确定")
            form.locator("button[type=submit]").click()
            page.wait_for_load_state()


def _step(page, shots, name: str, first: bool = False):
    page.click("#bulk-adopt")
    page.wait_for_load_state()
    assert "批量意见已保存" in page.inner_text("main")
    if first:
        _decide_open_items(page)
    page.screenshot(path=str(shots / f"archive-{name}.png"), full_page=True)
    page.click("#complete-step")
    page.wait_for_load_state()


def test_archive_batch_in_browser(server, browser, shots, tmp_path):
    ctx, page, watch = login(browser, server, "reviewer")
    page.goto(server.url + "/archive")
    page.fill("input[name=title]", "文书档案开放审核第一批")
    page.set_input_files("input[name=file]", {"name": "档案.zip", "mimeType": "application/zip", "buffer": zip_bytes()})
    cat = catalog_xlsx(tmp_path / "目录.xlsx").read_bytes()
    page.set_input_files("input[name=catalog]", {"name": "目录.xlsx", "mimeType": "application/octet-stream",
                                                 "buffer": cat})
    page.fill("input[name=as_of]", AS_OF.isoformat())
    page.click("#archive-submit")
    page.wait_for_load_state()
    assert "/archive/" in page.url
    batch_url = page.url.split("?")[0]
    _wait_scanned(page)
    assert page.inner_text("#batch-status") == "待初审"
    text = page.inner_text("#archive-items")
    assert "WS-2015-001" in text and "已到期（自行解密候选，待确认）" in text and "开放审核候选" in text
    page.screenshot(path=str(shots / "archive-batch.png"), full_page=True)
    _step(page, shots, "initial", first=True)
    assert page.inner_text("#batch-status") == "待复核"
    assert page.locator("#not-yours").count() == 1           # the reviewer has no part in 复核
    watch.assert_clean()
    ctx.close()

    ctx, page, watch = login(browser, server, "approver")
    page.goto(batch_url)
    _step(page, shots, "recheck")
    assert page.inner_text("#batch-status") == "待审核"
    assert "不同人员" in page.inner_text("#not-yours")        # the approver of 复核 may not do 审核
    watch.assert_clean()
    ctx.close()

    ctx, page, watch = login(browser, server, "admin")
    page.goto(batch_url)
    _step(page, shots, "final")
    assert page.inner_text("#batch-status") == "已审核完成"
    final = page.inner_text("#final-list")
    assert "WS-2020-002" in final and "机密★20年" in final and "编号" in final
    page.screenshot(path=str(shots / "archive-done.png"), full_page=True)
    with page.expect_download() as dl:
        page.click("#dl-register")
    data = open(dl.value.path(), "rb").read()
    wb = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(wb["登记表"].iter_rows(values_only=True))
    head = list(rows[0])
    by_dh = {r[1]: dict(zip(head, r)) for r in rows[1:]}
    assert len(by_dh) == 6 and all(by_dh[k]["审核意见"] for k in by_dh)
    assert by_dh["WS-2020-002"]["审核后保密属性"] == "涉密（机密）" and by_dh["WS-2020-002"]["编号"]
    who = [by_dh["WS-2020-002"][k].rsplit("（", 2)[-2] for k in ("初审意见", "复核意见", "审核意见")]
    assert len(set(who)) == 3, who                            # three different people signed the three steps
    with page.expect_download() as dl:
        page.click("#dl-summary")
    assert open(dl.value.path(), "rb").read(5) == b"%PDF-"
    watch.assert_clean()
    ctx.close()
