"""Issue 6, end to end in Debian's chromium: author uploads a docx with a marking, personal data and
a tracked deletion -> sees the highlights -> reviewer jumps through findings with the keyboard,
confirms and dismisses -> requests changes -> author uploads a clean version -> reviewer approves
-> approver signs -> the CMS gate (API key) allows that content. Screenshots of every page go to
build/screenshots/."""
from __future__ import annotations

import json
import re
import urllib.request
import uuid

import docx
from browsing import login
from support.drafts import docx_bytes, pdf_bytes

from support.service_helpers import valid_id_number

IDN = valid_id_number()
MARKING = "秘密★5年"
DELETED = "内部资料，请勿扩散"
V1 = [MARKING, "关于开展社区志愿服务活动的通知", f"联系人张伟，身份证号{IDN}，手机13812345678。", "活动地点另行通知。"]
# the clean version keeps a contact mobile that no organisation's contact line covers: review, accepted
# by the reviewer (an organisation's published contact line would be low, see lexicons/harm.toml)
V2 = ["关于开展社区志愿服务活动的通知", "请有意参加的同志于本周五前报名。",
      "咨询电话：010-65123456，手机13812345678。", "活动地点另行通知。"]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _gate(server, data: bytes, filename: str) -> dict:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(server.url + "/api/v1/gate", data=body, method="POST", headers={
        "Authorization": f"Bearer {server.accounts['cms']}",
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def _wait_scanned(page, timeout=90_000):
    page.wait_for_selector("#decision", timeout=timeout)       # the page refreshes itself while scanning


def _open_submission(page, server, sub_id):
    page.goto(f"{server.url}/s/{sub_id}")
    _wait_scanned(page)


def test_workflow_in_browser(server, browser, shots):
    v1, v2 = docx_bytes(V1, deleted=DELETED, after_para=3), docx_bytes(V2)
    watches = []

    # -- login page ---------------------------------------------------------------------------------
    ctx0 = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    p0 = ctx0.new_page()
    p0.goto(server.url + "/")
    assert p0.url.endswith("/login")
    p0.screenshot(path=str(shots / "01-login.png"))
    ctx0.close()

    # -- 1. the author uploads with the 申请 fields -----------------------------------------------------
    actx, author, aw = login(browser, server, "author")
    watches.append(aw)
    author.goto(server.url + "/new")
    author.fill("input[name=title]", "社区志愿服务活动通知")
    author.fill("textarea[name=summary]", "志愿服务活动安排与报名方式")
    author.fill("input[name=purpose]", "动员报名")
    author.fill("input[name=channel]", "单位门户网站")
    author.fill("input[name=scope]", "社会公开")
    author.set_input_files("input[name=file]", files=[{"name": "志愿服务通知.docx", "mimeType": DOCX, "buffer": v1}])
    author.screenshot(path=str(shots / "02-author-new.png"))
    author.click("#new-form button[type=submit]")
    author.wait_for_url(re.compile(r"/s/[0-9a-f-]{36}"))
    sub_id = re.search(r"/s/([0-9a-f-]{36})", author.url).group(1)
    _wait_scanned(author)

    # -- the pre-check: every finding highlighted, with the suggested fix ------------------------------
    assert "禁止发布" in author.inner_text("#decision")
    marks = author.locator("#doc mark.hl")
    texts = [marks.nth(i).inner_text() for i in range(marks.count())]
    assert MARKING in texts, texts                          # exact code-point offsets -> exact text
    assert IDN in texts, texts
    assert author.locator("#doc mark.hl.c-marking").count() >= 1
    assert author.locator("#doc mark.hl.c-pii").count() >= 2   # ID number and phone
    rev = author.locator("#layer-revision")
    assert rev.count() == 1 and DELETED in rev.inner_text()
    assert rev.locator("mark.hl.c-hidden").count() >= 1
    cats = author.locator("#findings li.finding").evaluate_all("els => els.map(e => e.className)")
    assert any("c-marking" in c for c in cats) and any("c-pii" in c for c in cats) and any("c-hidden" in c for c in cats)
    assert author.locator("#findings .sugg").count() >= 3
    assert author.locator("form.vform").count() == 0          # authors see, they do not judge
    author.screenshot(path=str(shots / "03-author-precheck.png"), full_page=True)

    # redacted copy: personal data masked, marking and hidden content listed
    with author.expect_download() as dl:
        author.click("#dl-redacted")
    red = open(dl.value.path(), encoding="utf-8").read()
    assert IDN not in red and "13812345678" not in red and "＊" in red
    assert "密级标志（1 处）" in red and "修订痕迹" in red
    # the same copy as a docx: opens, the number masked inside the runs, the deletion gone
    with author.expect_download() as dl:
        author.click("#dl-redacted-original")
    assert dl.value.suggested_filename.endswith(".docx")
    copy = docx.Document(dl.value.path())
    text = "\n".join(p.text for p in copy.paragraphs)
    assert IDN not in text and "13812345678" not in text and "■" in text and DELETED not in text

    author.goto(server.url + "/me")
    assert "社区志愿服务活动通知" in author.inner_text("table.list")
    author.screenshot(path=str(shots / "04-author-mine.png"))

    # the CMS gate holds the unreviewed draft back
    g = _gate(server, v1, "v1.docx")
    assert g["allow"] is False and g["decision"] == "block", g

    # -- 2. the reviewer: queue -> document view, j/k, confirm and dismiss ----------------------------
    rctx, rev_page, rw = login(browser, server, "reviewer")
    watches.append(rw)
    assert rev_page.url.endswith("/queue")
    row = rev_page.locator("table.queue tr", has_text="社区志愿服务活动通知")
    assert row.count() == 1 and "禁止发布" in row.inner_text()
    rev_page.screenshot(path=str(shots / "05-review-queue.png"))
    row.locator("a").click()
    _wait_scanned(rev_page)
    # at 1280x800 the text and the findings list stand side by side, both inside the window
    doc_box, side_box = rev_page.locator("#doc").bounding_box(), rev_page.locator("aside.side").bounding_box()
    assert doc_box["x"] + doc_box["width"] <= side_box["x"] and side_box["x"] + side_box["width"] <= 1280
    items = rev_page.locator("#findings li.finding")
    n = items.count()
    assert n >= 4
    ids = items.evaluate_all("els => els.map(e => e.dataset.fid)")

    def current():
        return rev_page.locator("#findings li.finding.current").get_attribute("data-fid")

    rev_page.keyboard.press("j")
    assert current() == ids[0]
    # the passage of the current finding is in view and outlined
    assert rev_page.locator(f"#hl-{ids[0]}").is_visible()
    assert rev_page.locator("mark.hl.active").count() >= 1
    rev_page.keyboard.press("j")
    rev_page.keyboard.press("j")
    assert current() == ids[2]
    rev_page.keyboard.press("k")
    assert current() == ids[1]
    rev_page.keyboard.press("k")
    assert current() == ids[0]

    # click in the list -> passage; click the passage -> back to the list
    items.nth(2).locator(".expl").click()
    assert current() == ids[2]
    rev_page.locator(f"#doc mark.hl[data-fids~='{ids[0]}']").first.click()
    assert current() == ids[0]

    # verdicts with the keyboard: c confirms (and moves on), f asks for a reason, Enter saves
    dismissed = []
    for fid in ids:
        rev_page.wait_for_selector(f"#f-{fid}.current")
        li = rev_page.locator(f"#f-{fid}")
        text = li.inner_text()
        if "电话号码" in text or "文档属性" in text:
            rev_page.keyboard.press("f")
            rev_page.keyboard.type("单位办公电话或模板属性，非敏感信息")
            rev_page.keyboard.press("Enter")
            li.locator(".vstate b", has_text="误报").wait_for()
            dismissed.append(fid)              # saved: the keyboard is back on the list, which moved on
        else:
            rev_page.keyboard.press("c")
            li.locator(".vstate b", has_text="确认风险").wait_for()
    assert dismissed, "at least one finding dismissed as a false positive"
    assert rev_page.inner_text("#open-count") == "0"                      # counts follow without a reload
    assert rev_page.inner_text("#n-false_positive") == str(len(dismissed))
    rev_page.screenshot(path=str(shots / "06-review-document.png"))
    # the verdicts are stored (reload shows them from the server)
    rev_page.reload()
    _wait_scanned(rev_page)
    assert rev_page.locator("#findings .vstate b", has_text="确认风险").count() >= 2
    assert rev_page.locator("#findings .vstate b", has_text="误报").count() == len(dismissed)
    assert rev_page.inner_text("#open-count") == "0"

    # -- 3. request changes (d jumps to the decision form) ----------------------------------------------
    rev_page.keyboard.press("d")
    assert rev_page.evaluate("document.activeElement.name") == "decision"
    rev_page.check("#decide input[value=request_changes]")
    rev_page.fill("#decide textarea[name=reason]", "请删除密级标志、身份证号和修订痕迹后重新提交")
    rev_page.click("#decide button[type=submit]")
    rev_page.wait_for_selector("#sub-status[data-status=changes_requested]")

    # -- 4. the author uploads a clean version and sees what changed ---------------------------------
    _open_submission(author, server, sub_id)
    assert "退回修改" in author.inner_text("#sub-status")
    assert "请删除密级标志" in author.inner_text("#decisions")
    author.set_input_files("#resubmit input[name=file]", files=[{"name": "志愿服务通知-修改.docx", "mimeType": DOCX, "buffer": v2}])
    author.fill("#resubmit input[name=note]", "已删除密级标志、身份证号，接受全部修订")
    author.click("#resubmit button[type=submit]")
    author.wait_for_url(re.compile(r"msg=version"))
    _wait_scanned(author)
    diff = author.inner_text("#diff")
    assert "与第 1 版相比" in diff and "已消除" in diff
    assert "国家秘密标志" in diff and "身份证号" in diff
    assert author.locator("#doc mark.hl.c-marking").count() == 0
    assert IDN not in author.inner_text("#doc")
    assert "电话号码" in author.inner_text("#diff .same")        # the contact number is still there
    assert MARKING in author.inner_text("#diff .tdiff li.del")        # and the text changes, paragraph by paragraph
    assert "咨询电话：010-65123456" in author.inner_text("#diff .tdiff")
    author.screenshot(path=str(shots / "07-author-new-version.png"), full_page=True)

    # -- 5. the reviewer approves ------------------------------------------------------------------
    _open_submission(rev_page, server, sub_id)
    assert "需人工审查" in rev_page.inner_text("#decision")
    fids = rev_page.locator("#findings li.finding").evaluate_all("els => els.map(e => e.dataset.fid)")
    assert len(fids) >= 2
    for fid in fids:
        rev_page.keyboard.press("j")
        rev_page.wait_for_selector(f"#f-{fid}.current")
        if "010-65123456" in rev_page.inner_text(f"#f-{fid} .snip mark"):
            key, reason, label = "f", "单位办公电话，非个人信息", "误报"
        else:
            key, reason, label = "a", "活动公开联系人手机，本人同意公开", "接受风险"
        rev_page.keyboard.press(key)
        rev_page.keyboard.type(reason)
        rev_page.keyboard.press("Enter")
        rev_page.locator(f"#f-{fid} .vstate b", has_text=label).wait_for()
        rev_page.keyboard.press("Escape")
    rev_page.check("#decide input[value=approve]")
    rev_page.fill("#decide textarea[name=reason]", "已按要求修改，同意发布")
    rev_page.click("#decide button[type=submit]")
    rev_page.wait_for_selector("#sub-status[data-status=pending_approval]")

    # -- 6. the approver signs --------------------------------------------------------------------
    pctx, appr, pw = login(browser, server, "approver")
    watches.append(pw)
    appr.locator("table.queue a", has_text="社区志愿服务活动通知").click()
    _wait_scanned(appr)
    assert "同意发布" in appr.inner_text("#decisions")
    # the approver sees the reviewer's verdicts and reasons
    side = appr.inner_text("#findings")
    assert "接受风险" in side and "活动公开联系人手机，本人同意公开" in side and "误报" in side
    # not signed yet: the gate still holds the content back
    assert _gate(server, v2, "notice.docx")["allow"] is False
    assert appr.locator("#decide h2", has_text="审批签发").count() == 1
    appr.screenshot(path=str(shots / "08-approver.png"), full_page=True)
    appr.fill("#decide textarea[name=reason]", "批准发布")
    appr.click("#decide button[type=submit]")
    appr.wait_for_selector("#sub-status[data-status=approved]")

    # -- 7. the CMS gate allows that content (and still holds the first version) ---------------------
    g = _gate(server, v2, "notice.docx")
    assert g["allow"] is True and g["decision"] == "review" and g["approved_submission_id"] == sub_id, g
    assert _gate(server, v1, "notice.docx")["allow"] is False

    # -- the record (审查单) and the audit trail ----------------------------------------------------
    appr.click("#record-link")
    appr.wait_for_load_state()
    rec = appr.inner_text("body")
    for s in ("上网信息发布保密审查单", "社区志愿服务活动通知", "单位门户网站", "社会公开", "批准发布", "退回修改"):
        assert s in rec, s
    assert IDN not in rec
    appr.screenshot(path=str(shots / "09-record.png"), full_page=True)
    with appr.expect_download() as dl:                 # the PDF from the record page, read back
        appr.click("#record-pdf")
    assert dl.value.suggested_filename.endswith(".pdf")
    import pdfplumber
    with pdfplumber.open(dl.value.path()) as pdf:
        pdf_text = "\n".join(pg.extract_text() or "" for pg in pdf.pages)
    for s in ("上网信息发布保密审查单", "第 1 版", "第 2 版", "保密审查人签字", "审批人签字", "盖章"):
        assert s in pdf_text, s
    assert IDN not in pdf_text
    _open_submission(appr, server, sub_id)
    appr.click("#audit-link")
    appr.wait_for_selector("table.audit")
    audit = appr.inner_text("table.audit")
    for action in ("提交申请", "填写逐条审查结论", "保密审查：退回修改", "提交新版本", "保密审查：同意发布", "审批：同意发布",
                   "自动审查完成", "状态：待审批"):
        assert action in audit, action
    codes = appr.locator("table.audit td.action").evaluate_all("els => els.map(e => e.dataset.action)")
    assert {"submission.created", "review.verdict", "approval.approve"} <= set(codes)
    assert not re.search(r"\b(?:submission|review|approval|scan)\.[a-z_]+", audit)     # Chinese only on the page
    assert IDN not in audit and MARKING not in audit
    appr.screenshot(path=str(shots / "10-audit.png"), full_page=True)

    # -- from the review page: the record as docx (every version, verdicts, signature block) and the
    # redacted copy of the current version as docx ------------------------------------------------
    _open_submission(appr, server, sub_id)
    record_no = appr.inner_text("#record-no").strip()        # the page shows the 一事一审 number
    assert re.fullmatch(r"保审〔\d{4}〕\d+号", record_no), record_no
    with appr.expect_download() as dl:
        appr.click("#record-docx")
    assert dl.value.suggested_filename.endswith(".docx")
    rec = docx.Document(dl.value.path())
    rec_text = "\n".join([p.text for p in rec.paragraphs] + [c.text for t in rec.tables for row in t.rows
                                                                for c in row.cells])
    for s in ("上网信息发布保密审查单", f"一事一审编号：{record_no}", "第 1 版", "第 2 版", "确认风险", "接受风险", "误报",
              "活动公开联系人手机，本人同意公开", "退回修改", "批准发布", "保密审查人签字：", "审批人签字：", "单位（盖章）：",):
        assert s in rec_text, s
    sign = next(t for t in rec.tables if t.rows[0].cells[0].text == "保密审查人（系统记录）")
    assert sign.rows[0].cells[1].text and sign.rows[0].cells[3].text          # who reviewed and who signed, printed
    assert IDN not in rec_text and not re.search(r"\b(?:pii|marking|hidden|secret)\.[a-z_]+", rec_text)
    with appr.expect_download() as dl:
        appr.click("#dl-redacted-original")
    assert dl.value.suggested_filename.endswith(".docx")
    copy = docx.Document(dl.value.path())
    text = "\n".join(p.text for p in copy.paragraphs)
    assert "13812345678" not in text and "■" in text and "活动地点另行通知。" in text

    # -- a PDF: the page image rendered locally, boxes over the findings ----------------------------
    # the ID number sits under a black bar (a failed redaction): it is still in the file
    pdf = pdf_bytes(["关于报送会议材料的通知", f"联系人李娜，身份证号{IDN}。", "会议地点另行通知。"],
                    black_bar=(170, 747, 175, 20))
    author.goto(server.url + "/new")
    author.fill("input[name=title]", "会议材料报送通知（PDF）")
    author.set_input_files("input[name=file]", files=[{"name": "meeting.pdf", "mimeType": "application/pdf", "buffer": pdf}])
    author.click("#new-form button[type=submit]")
    author.wait_for_url(re.compile(r"/s/[0-9a-f-]{36}"))
    _wait_scanned(author)
    fig = author.locator("figure.pdfpage")
    assert fig.count() >= 1
    assert fig.first.locator("rect.box.c-pii").count() >= 1
    assert author.locator("#layer-redaction mark.hl").count() >= 1          # the text under the bar, shown
    assert fig.first.locator("rect.box.c-hidden").count() >= 1            # and boxed where the bar is
    # the image really loaded (rendered by pdfium in a child process)
    ok = author.evaluate("""async () => { const r = await fetch(document.querySelector('figure.pdfpage image').getAttribute('href'));
                                          return [r.status, r.headers.get('content-type')]; }""")
    assert ok == [200, "image/png"], ok
    author.screenshot(path=str(shots / "11-pdf-document.png"), full_page=True)
    author.evaluate("document.querySelector('#layer-pages').scrollIntoView({block: 'start'})")
    author.screenshot(path=str(shots / "11b-pdf-page-boxes.png"))

    # -- narrow window: the same document view in one column ------------------------------------------
    nctx, narrow, nw = login(browser, server, "reviewer", viewport=(420, 860))
    watches.append(nw)
    _open_submission(narrow, server, sub_id)
    assert narrow.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # narrow: one column, the findings list below the text
    assert narrow.locator("aside.side").bounding_box()["y"] > narrow.locator("#doc").bounding_box()["y"]
    narrow.screenshot(path=str(shots / "12-narrow-document.png"))

    # -- admin pages ------------------------------------------------------------------------------
    dctx, admin, dw = login(browser, server, "admin")
    watches.append(dw)
    assert admin.url.endswith("/admin")
    assert admin.locator("svg.chart").count() == 4
    assert admin.locator("svg.chart rect").count() > 4
    admin.screenshot(path=str(shots / "13-admin-dashboard.png"), full_page=True)
    admin.goto(server.url + "/admin/users")
    assert "reviewer" in admin.inner_text("table.list")
    admin.screenshot(path=str(shots / "14-admin-users.png"))
    admin.goto(server.url + "/admin/keys")
    admin.fill("input[name=name]", "新闻网 CMS")
    admin.click("form[action='/admin/keys'] button[type=submit]")
    key = admin.inner_text("#new-key")
    assert key.startswith("bm_")
    admin.screenshot(path=str(shots / "15-admin-keys.png"))
    admin.goto(server.url + "/admin/keys")
    assert key not in admin.content()                      # shown once
    admin.goto(server.url + "/admin/policy")
    assert "policy.toml" in admin.inner_text("nav.toc")
    admin.screenshot(path=str(shots / "16-admin-policy.png"))
    admin.click("a[href='/admin/policy/edit?file=terms/internal.toml']")
    assert "请勿扩散" in admin.input_value("#lex-form textarea")     # view only here: the repo's files stay as they are
    admin.screenshot(path=str(shots / "17-admin-lexicon-edit.png"))

    for w in watches:
        w.assert_clean()
    for c in (actx, rctx, pctx, nctx, dctx):
        c.close()
