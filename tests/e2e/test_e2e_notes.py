"""The report's info notes (`notes[]`) in a real browser against the real server: an author uploads
a blank PDF from /new; the pre-check says, in Chinese, that the file shows nothing (`extract.blank`)
instead of a bare "no findings", and the reviewer sees the same note on the submission page and in
the written record (审查单)."""
from __future__ import annotations

import re

from browsing import login
from support.drafts import pdf_bytes

BLANK_ZH = "文件没有任何可见内容"


def _note_texts(page) -> list[str]:
    notes = page.locator("#notes p.note")
    return [notes.nth(i).inner_text() for i in range(notes.count())]


def test_blank_pdf_note_on_author_and_reviewer_pages(server, browser, shots):
    blank = pdf_bytes([])                      # one A4 page, nothing drawn
    actx, author, aw = login(browser, server, "author")
    try:
        author.goto(server.url + "/new")
        author.fill("input[name=title]", "空白页测试")
        author.set_input_files("input[name=file]",
                               files=[{"name": "空白.pdf", "mimeType": "application/pdf", "buffer": blank}])
        author.click("#new-form button[type=submit]")
        author.wait_for_url(re.compile(r"/s/[0-9a-f-]{36}"))
        sub_id = re.search(r"/s/([0-9a-f-]{36})", author.url).group(1)
        author.wait_for_selector("#decision", timeout=90_000)
        assert "通过" in author.inner_text("#decision")
        author.wait_for_selector("#notes p.note[data-code='extract.blank']")
        texts = _note_texts(author)
        assert len(texts) == 1 and BLANK_ZH in texts[0] and "不影响结论" in texts[0], texts
        assert not author.locator(".flash.err").count()          # a note, not an error
        author.screenshot(path=str(shots / "notes-author-blank-pdf.png"), full_page=True)
        aw.assert_clean()
    finally:
        actx.close()

    rctx, reviewer, rw = login(browser, server, "reviewer")
    try:
        reviewer.goto(f"{server.url}/s/{sub_id}")
        reviewer.wait_for_selector("#notes p.note[data-code='extract.blank']")
        texts = _note_texts(reviewer)
        assert len(texts) == 1 and BLANK_ZH in texts[0], texts
        reviewer.screenshot(path=str(shots / "notes-reviewer-blank-pdf.png"), full_page=True)
        # the written record (审查单) keeps the note too, beside the version's decision
        reviewer.goto(f"{server.url}/api/v1/submissions/{sub_id}/record.html")
        shown = reviewer.inner_text("body")
        assert "读取说明（供参考，不影响结论）" in shown and "extract.blank" in shown and BLANK_ZH in shown, shown
        reviewer.screenshot(path=str(shots / "notes-record-blank-pdf.png"), full_page=True)
        rw.assert_clean()
    finally:
        rctx.close()
