"""保密检查 in the browser (issue 14): the demo inspector adds a site served on loopback by the test
(pages, a marked docx, a PDF with an ID number, robots.txt, an off-host link), starts a run, the
run page refreshes itself until the result, which lists 下架 and 整改 per URL with the page titles;
the xlsx report downloads. Screenshots go to build/screenshots/."""
from __future__ import annotations

import io

import openpyxl
from browsing import login

from support.site import LoopbackSite, inspection_site


def test_site_inspection_in_browser(server, browser, shots):
    with LoopbackSite("127.0.0.2") as off, LoopbackSite() as site:
        off.html("/offsite.html", "外站", "<p>外站</p>")
        inspection_site(site, off.url + "offsite.html", with_ocr=False)
        ctx, page, watch = login(browser, server, "inspector")
        assert page.url.endswith("/site")                         # the inspector's home
        page.fill("input[name=url]", site.url)
        page.fill("input[name=name]", "门户网站（测试）")
        page.select_option("select[name=schedule]", "daily")
        page.fill("input[name=at_time]", "03:30")
        page.click("form.site-add button[type=submit]")
        page.wait_for_selector("text=检查对象已添加")
        row = page.locator("table.site-targets tr", has_text="门户网站（测试）")
        assert "每天 03:30" in row.inner_text() and ":30" in row.locator(".next-run").inner_text()
        page.screenshot(path=str(shots / "site-list.png"), full_page=True)
        row.locator("a").first.click()
        page.click("text=立即检查")
        page.wait_for_selector("table.site-result", timeout=180_000)   # the page refreshes itself while running
        text = page.inner_text("main")
        assert "下架" in text and "整改" in text and "附件：工作方案.docx" in text and "某市人民政府门户网站" in text
        assert "robots.txt 不允许抓取" in text and "站外链接" in text
        page.screenshot(path=str(shots / "site-result.png"), full_page=True)
        with page.expect_download() as dl:
            page.click("text=下载 xlsx 报告")
        data = open(dl.value.path(), "rb").read()
        rows = list(openpyxl.load_workbook(io.BytesIO(data))["检查结果"].iter_rows(values_only=True))
        assert {r[1] for r in rows[1:]} >= {"下架", "整改"}
        assert off.requests == []
        watch.assert_clean()
        ctx.close()
