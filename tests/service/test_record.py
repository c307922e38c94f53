"""The record (审查单 / 审批单, issue 15) of a submission with two versions, read back from every
format: the docx with python-docx, the PDF with pdfplumber, the HTML as text. Each must hold every
version with its findings and verdicts, the reasons, the reviewer and approver, the decisions,
the signature/date/seal block and the 一事一审 number, and no English code of any kind."""
from __future__ import annotations

import io
import re

import pytest

from support.service_helpers import running_service, valid_id_number, wait_submission

CODE = re.compile(r"\b(?:pii|marking|secret|hidden|geo|term|passage)\.[a-z_]+|\b(?:pass|review|block|confirmed|"
                  r"false_positive|accepted_risk|request_changes|pending_\w+|approve|body|table)\b")


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    """alice submits v1 (marking + ID number), rita confirms and requests changes, alice submits v2,
    rita accepts and approves, apollo signs, alice publishes."""
    with running_service(tmp_path_factory.mktemp("record")) as svc:
        svc.user("alice", "author")
        svc.user("rita", "reviewer")
        svc.user("apollo", "approver")
        author, reviewer, approver = svc.login("alice"), svc.login("rita"), svc.login("apollo")
        idn = valid_id_number()
        v1 = f"秘密★5年\n关于开展社区志愿服务活动的通知\n联系人张某，身份证号{idn}，手机13812345678。"
        v2 = "关于开展社区志愿服务活动的通知\n请有意参加的同志于本周五前报名，手机13812345678。"
        r = author.post("/api/v1/submissions", json={"text": v1, "title": "社区志愿服务活动通知", "purpose": "动员报名",
                                                     "channel": "单位门户网站", "scope": "社会公开", "summary": "活动安排"})
        sid = r.json()["id"]
        sub = wait_submission(author, sid)
        record_no = sub["record_no"]
        f1 = sub["report"]["findings"]
        assert {"marking.level", "pii.id_card"} <= {f["category"] for f in f1}
        for f in f1:
            assert reviewer.put(f"/api/v1/submissions/{sid}/findings/{f['id']}/verdict", json={
                "verdict": "confirmed", "reason": f"第一版须删除{len(f['category'])}"}).status_code == 200
        assert reviewer.post(f"/api/v1/submissions/{sid}/review", json={
            "decision": "request_changes", "reason": "请删除密级标志和身份证号"}).status_code == 200
        assert author.post(f"/api/v1/submissions/{sid}/versions", json={"text": v2, "note": "已删除"}).status_code == 202
        sub = wait_submission(author, sid)
        f2 = sub["report"]["findings"]
        assert f2 and sub["current_version"] == 2
        for f in f2:
            assert reviewer.put(f"/api/v1/submissions/{sid}/findings/{f['id']}/verdict", json={
                "verdict": "accepted_risk", "reason": "活动联系人本人同意公开"}).status_code == 200
        assert reviewer.post(f"/api/v1/submissions/{sid}/review", json={"decision": "approve", "reason": "审查通过"}).status_code == 200
        assert approver.post(f"/api/v1/submissions/{sid}/approval", json={"decision": "approve", "reason": "批准发布"}).status_code == 200
        assert author.post(f"/api/v1/submissions/{sid}/publish", json={"url": "https://portal.example/n/1"}).status_code == 200
        out = {"sid": sid, "record_no": record_no, "idn": idn, "f1": f1, "f2": f2,
               "html": reviewer.get(f"/api/v1/submissions/{sid}/record.html"),
               "pdf": reviewer.get(f"/api/v1/submissions/{sid}/record.pdf"),
               "docx": author.get(f"/api/v1/submissions/{sid}/record.docx"),
               "audit": reviewer.get(f"/api/v1/submissions/{sid}/audit").json()}
        yield out


def _docx_text(data: bytes) -> tuple[str, list]:
    import docx
    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts), d.tables


def _pdf_text(data: bytes) -> tuple[str, list]:
    """The page text and every table cell (a cell's wrapped lines joined: the table lines are
    drawn, so pdfplumber finds the cells)."""
    import pdfplumber
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
        tables = [[[(c or "").replace("\n", "") for c in row] for row in t]
                  for page in pdf.pages for t in page.extract_tables()]
    return text + "\n" + "\n".join(" | ".join(row) for t in tables for row in t), tables


def _check(text: str, flow: dict) -> None:
    from scanner.taxonomy import category_zh
    for s in ("上网信息发布保密审查单", "审批单", f"一事一审编号：{flow['record_no']}", "社区志愿服务活动通知", "单位门户网站",
              "社会公开", "第 1 版", "第 2 版", "rita", "apollo", "alice", "确认风险", "接受风险", "活动联系人本人同意公开",
              "退回修改", "请删除密级标志和身份证号", "同意发布", "审查通过", "批准发布", "已发布",
              "保密审查人签字", "审批人签字", "日期", "盖章", "禁止发布"):
        assert s in text, s
    for f in flow["f1"] + flow["f2"]:
        assert category_zh(f["category"]) in text, f["category"]
    assert f"第一版须删除{len('marking.level')}" in text and f"第一版须删除{len('pii.id_card')}" in text
    assert flow["idn"] not in text and "13812345678" not in text       # no matched value in the record
    assert not CODE.search(text), CODE.search(text).group(0)


def test_record_docx_has_every_version_finding_verdict_and_signature_block(flow):
    r = flow["docx"]
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert "filename*=UTF-8''" in r.headers["content-disposition"] and ".docx" in r.headers["content-disposition"]
    text, tables = _docx_text(r.content)
    # pdfplumber squeezes out spaces in CJK lines; the docx keeps them: compare both ways
    _check(text, flow)
    # the findings tables: one per version, one row per finding (plus the header)
    counts = [len(t.rows) - 1 for t in tables if t.rows[0].cells[0].text == "序号"]
    assert counts == [len(flow["f1"]), len(flow["f2"])]
    sign = next(t for t in tables if t.rows[0].cells[0].text.startswith("保密审查人"))
    assert [c.text for c in sign.rows[0].cells] == ["保密审查人（系统记录）", "rita", "审批人（系统记录）", "apollo"]
    assert sign.rows[3].cells[0].text == "单位（盖章）："
    import docx
    assert docx.Document(io.BytesIO(r.content)).core_properties.title == "上网信息发布保密审查单"


def test_record_pdf_has_every_version_finding_verdict_and_signature_block(flow):
    r = flow["pdf"]
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    text, tables = _pdf_text(r.content)
    _check(text, flow)
    # a findings table per version (a table broken across pages repeats its header)
    rows = [row for t in tables for row in t if row and row[0].isdigit() and len(row) == 8]
    assert len(rows) == len(flow["f1"]) + len(flow["f2"])
    assert sum(1 for t in tables for row in t if row[:2] == ["保密审查人签字：", ""]) == 1


def test_record_html_has_the_same_content_in_chinese(flow):
    import html as htmllib
    r = flow["html"]
    assert r.status_code == 200
    text = htmllib.unescape(re.sub(r"<[^>]+>", "\n", r.text.split("</style>", 1)[1]))
    _check(text, flow)


def test_every_export_is_on_the_audit_trail(flow):
    formats = [e["after"]["format"] for e in flow["audit"] if e["action"] == "record.exported"]
    assert sorted(formats) == ["docx", "pdf"]


def test_record_docx_opens_in_libreoffice(flow, tmp_path):
    """The hand-written WordprocessingML is a document an office suite reads: LibreOffice turns it
    into a PDF whose text (pdfplumber) has the record's content and the signature block."""
    import subprocess

    from scanner.extract.legacy import soffice
    exe = soffice()
    assert exe, "LibreOffice is missing: make test installs it (.ci/install_office.sh)"
    src = tmp_path / "record.docx"
    src.write_bytes(flow["docx"].content)
    subprocess.run([exe, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)], check=True, capture_output=True,
                   timeout=180)
    text, _tables = _pdf_text((tmp_path / "record.pdf").read_bytes())
    _check(text, flow)


# -- review memory in the record (issue 16): carried, batch, allowlisted and low/info findings ---------
M1, M2, LANDLINE = "13812345678", "13987654321", "010-65123456"


@pytest.fixture(scope="module")
def memory_flow(tmp_path_factory):
    """rita promotes an accepted-risk verdict on alice's consultation number (scope: this submitter);
    alice's next submission has it (allowlisted), an ID number (confirmed), a contact mobile (a batch
    verdict) and a landline (low: no verdict needed); v2 keeps the numbers: the mobile's verdict is
    carried over from v1, the consultation number is allowlisted again."""
    with running_service(tmp_path_factory.mktemp("record-memory")) as svc:
        svc.user("alice", "author")
        svc.user("rita", "reviewer")
        svc.user("apollo", "approver")
        author, reviewer, approver = svc.login("alice"), svc.login("rita"), svc.login("apollo")
        r = author.post("/api/v1/submissions", json={"text": f"活动咨询电话{M2}。", "title": "咨询", "channel": "单位门户网站"})
        first = wait_submission(author, r.json()["id"])
        f = next(f for f in first["report"]["findings"] if f["category"] == "pii.phone")
        assert reviewer.put(f"/api/v1/submissions/{first['id']}/findings/{f['id']}/verdict", json={
            "verdict": "accepted_risk", "reason": "咨询电话可公开"}).status_code == 200
        assert reviewer.post(f"/api/v1/submissions/{first['id']}/findings/{f['id']}/allowlist", json={
            "scope": "submitter", "reason": "单位公开的咨询电话"}).status_code == 201
        idn = valid_id_number()
        v1 = (f"关于开展社区志愿服务活动的通知\n联系人张某，身份证号{idn}，手机{M1}。\n"
              f"咨询电话{M2}。办公电话：{LANDLINE}。")
        v2 = f"关于开展社区志愿服务活动的通知\n请有意参加的同志于本周五前报名，手机{M1}。\n咨询电话{M2}。办公电话：{LANDLINE}。"
        r = author.post("/api/v1/submissions", json={"text": v1, "title": "社区志愿服务活动通知", "channel": "单位门户网站"})
        sid = r.json()["id"]
        sub = wait_submission(author, sid)
        fs = sub["report"]["findings"]
        assert any(f["state"] == "allowlisted" for f in fs) and any(f["state"] == "not_needed" for f in fs)
        for f in fs:
            if f["category"] == "pii.id_card":
                assert reviewer.put(f"/api/v1/submissions/{sid}/findings/{f['id']}/verdict", json={
                    "verdict": "confirmed", "reason": "须删除身份证号"}).status_code == 200
        r = reviewer.post(f"/api/v1/submissions/{sid}/verdicts", json={
            "filter": {"category": "pii.phone", "text": M1[-4:]}, "verdict": "accepted_risk", "reason": "活动联系人本人同意公开"})
        assert r.status_code == 200 and r.json()["count"] == 1, r.text
        assert reviewer.post(f"/api/v1/submissions/{sid}/review", json={
            "decision": "request_changes", "reason": "请删除身份证号"}).status_code == 200
        assert author.post(f"/api/v1/submissions/{sid}/versions", json={"text": v2, "note": "已删除"}).status_code == 202
        sub = wait_submission(author, sid)
        states = sorted(f["state"] for f in sub["report"]["findings"])
        assert sub["current_version"] == 2 and {"carried", "allowlisted", "not_needed"} <= set(states), states
        assert reviewer.post(f"/api/v1/submissions/{sid}/review", json={"decision": "approve", "reason": "审查通过"}).status_code == 200
        assert approver.post(f"/api/v1/submissions/{sid}/approval", json={"decision": "approve", "reason": "批准发布"}).status_code == 200
        yield {"idn": idn, "pdf": reviewer.get(f"/api/v1/submissions/{sid}/record.pdf"),
               "docx": author.get(f"/api/v1/submissions/{sid}/record.docx"),
               "html": reviewer.get(f"/api/v1/submissions/{sid}/record.html")}


def _flat(x: str) -> str:
    return re.sub(r"\s+", "", x)


def _check_memory(text: str, rows: list[list[str]], flow: dict) -> None:
    """`rows`: the findings tables' rows (8 cells) of both versions, whitespace removed."""
    t = _flat(text)
    for s in ("沿用第1版的结论", "（批量）", "无需结论（白名单已覆盖）", "白名单理由：单位公开的咨询电话",
              "适用范围：本申请人（alice）", "无需结论（提示，不影响结论）", "活动联系人本人同意公开"):
        assert s in t, s
    for secret in (flow["idn"], M1, M2, LANDLINE, _flat(LANDLINE)):
        assert secret not in t
    assert not CODE.search(text), CODE.search(text).group(0)
    carried = [r for r in rows if "沿用第1版的结论" in r[5]]
    assert len(carried) == 1 and "接受风险" in carried[0][5] and "（批量）" in carried[0][5]
    assert carried[0][6] == "活动联系人本人同意公开" and carried[0][7].startswith("rita")   # the original reviewer, time
    allowed = [r for r in rows if r[5] == "无需结论（白名单已覆盖）"]
    assert len(allowed) == 2                                    # the consultation number in v1 and in v2
    assert all("单位公开的咨询电话" in r[6] and "本申请人（alice）" in r[6] and r[7].startswith("rita") for r in allowed)
    low = [r for r in rows if r[5] == "无需结论（提示，不影响结论）"]
    assert len(low) == 2 and all(r[2] in ("低", "提示") for r in low), low
    assert not [r for r in rows if r[5] == "未审查"]           # nothing waits: the record was approved


def test_record_docx_shows_carried_batch_allowlisted_and_low_findings(memory_flow):
    r = memory_flow["docx"]
    assert r.status_code == 200
    text, tables = _docx_text(r.content)
    rows = [[_flat(c.text) for c in row.cells] for t in tables if t.rows[0].cells[0].text == "序号" for row in t.rows[1:]]
    _check_memory(text, rows, memory_flow)


def test_record_pdf_shows_carried_batch_allowlisted_and_low_findings(memory_flow):
    r = memory_flow["pdf"]
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    text, tables = _pdf_text(r.content)
    rows = [[_flat(c) for c in row] for t in tables for row in t if row and row[0].isdigit() and len(row) == 8]
    _check_memory(text, rows, memory_flow)


def test_record_html_shows_the_same_memory_states(memory_flow):
    import html as htmllib
    r = memory_flow["html"]
    assert r.status_code == 200
    text = htmllib.unescape(re.sub(r"<[^>]+>", "\n", r.text.split("</style>", 1)[1]))
    for s in ("沿用第 1 版的结论", "无需结论（白名单已覆盖）", "白名单理由：单位公开的咨询电话", "适用范围：本申请人（alice）",
              "无需结论（提示，不影响结论）"):
        assert s in text, s
    assert M1 not in text and M2 not in text and not CODE.search(text)


# -- what the scanner could not read, and how it read the file, in the record --------------------
OCR_ZH = "第 1 页为图片或扫描内容，未能进行图片文字识别"
BLANK_ZH = "文件没有任何可见内容"


@pytest.fixture(scope="module")
def reading_flow(tmp_path_factory):
    """alice submits a scanned page (the light scanner does no OCR: `extract.ocr_unavailable` naming
    page 1, decision review), rita requests changes, alice submits a blank PDF (`extract.blank`, a
    note); the three records are read, then the retention purge runs and the HTML record again."""
    import time

    from support.drafts import pdf_bytes
    from support.pictures import CLEAN_NOTICE, page, scanned_pdf

    from service.jobs import purge_expired
    with running_service(tmp_path_factory.mktemp("record-reading")) as svc:
        svc.user("alice", "author")
        svc.user("rita", "reviewer")
        author, reviewer = svc.login("alice"), svc.login("rita")
        scan = scanned_pdf([page(CLEAN_NOTICE[:3])])
        r = author.post("/api/v1/submissions", files={"file": ("扫描件.pdf", scan, "application/pdf")},
                        data={"title": "扫描件通知", "channel": "单位门户网站"})
        assert r.status_code == 202, r.text
        sid = r.json()["id"]
        sub = wait_submission(author, sid)
        assert [e["code"] for e in sub["report"]["errors"]] == ["extract.ocr_unavailable"], sub["report"]["errors"]
        assert reviewer.post(f"/api/v1/submissions/{sid}/review", json={
            "decision": "request_changes", "reason": "请提交文字版"}).status_code == 200
        r = author.post(f"/api/v1/submissions/{sid}/versions", files={"file": ("空白.pdf", pdf_bytes([]), "application/pdf")},
                        data={"note": "换文件"})
        assert r.status_code == 202, r.text
        sub = wait_submission(author, sid)
        assert [n["code"] for n in sub["report"]["notes"]] == ["extract.blank"] and not sub["report"]["errors"]
        out = {"html": reviewer.get(f"/api/v1/submissions/{sid}/record.html"),
               "pdf": reviewer.get(f"/api/v1/submissions/{sid}/record.pdf"),
               "docx": author.get(f"/api/v1/submissions/{sid}/record.docx")}
        purge_expired(svc.st, at=time.time() + svc.settings.retention_days * 86400 + 10)
        out["purged_html"] = reviewer.get(f"/api/v1/submissions/{sid}/record.html")
        yield out


def _check_reading(text: str) -> None:
    t = _flat(text)
    assert "未能读取的内容（需人工审查）" in t and "extract.ocr_unavailable" in t
    assert _flat(OCR_ZH) in t and "轻量模式不做文字识别" in t          # the page it names, why
    assert "未能完整读取1处" in t                                     # the version's heading says so
    assert "读取说明（供参考，不影响结论）" in t and "extract.blank" in t and BLANK_ZH in t
    assert not CODE.search(text), CODE.search(text).group(0)


def _issue_rows(rows: list[list[str]]) -> list[list[str]]:
    return [r for r in rows if len(r) == 3 and r[0].isdigit()]


def test_record_html_shows_what_could_not_be_read_and_the_notes(reading_flow):
    import html as htmllib
    r = reading_flow["html"]
    assert r.status_code == 200
    _check_reading(htmllib.unescape(re.sub(r"<[^>]+>", "\n", r.text.split("</style>", 1)[1])))


def test_record_pdf_shows_what_could_not_be_read_and_the_notes(reading_flow):
    r = reading_flow["pdf"]
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    text, tables = _pdf_text(r.content)
    _check_reading(text)
    rows = _issue_rows([[_flat(c) for c in row] for t in tables for row in t])
    assert [(r[1], r[2][:4]) for r in rows] == [("extract.ocr_unavailable", "第1页为"), ("extract.blank", "文件没有")]


def test_record_docx_shows_what_could_not_be_read_and_the_notes(reading_flow):
    r = reading_flow["docx"]
    assert r.status_code == 200
    text, tables = _docx_text(r.content)
    _check_reading(text)
    rows = _issue_rows([[_flat(c.text) for c in row.cells] for t in tables for row in t.rows])
    assert [(r[1], r[2][:4]) for r in rows] == [("extract.ocr_unavailable", "第1页为"), ("extract.blank", "文件没有")]


def test_record_after_the_purge_keeps_the_error_codes(reading_flow):
    """The purge removes the report bodies (and with them the messages): the record still lists the
    error code of what could not be read and says why its message is gone."""
    import html as htmllib
    r = reading_flow["purged_html"]
    assert r.status_code == 200
    t = _flat(htmllib.unescape(re.sub(r"<[^>]+>", "\n", r.text.split("</style>", 1)[1])))
    assert "extract.ocr_unavailable" in t and "草稿已按保留期清除，说明不再保存" in t and _flat(OCR_ZH) not in t
