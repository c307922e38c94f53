"""Redacted copies in the original format (issue 15), on real files made here: each copy opens in
its format, re-scans with no finding of the redacted categories, and none of the redacted text
can be read back from any part of it (XML parts, text layer, or OCR of the rendered page)."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scanner.engine import Scanner
from scanner.redact import RedactError, redact_bytes, remaining
from scanner.redact.ops import BLOCK, apply_spans, mask
from support.drafts import pdf_bytes

ROOT = Path(__file__).resolve().parents[3]
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


ID = "330106197904082160"          # synthetic, valid GB 11643 check digit


def _docx() -> bytes:
    from docx import Document
    from docx.oxml import parse_xml
    d = Document()
    d.core_properties.author = "张三"
    d.core_properties.title = "内部审阅版"
    d.sections[0].header.paragraphs[0].text = "联系人手机 13912342468"
    d.add_paragraph("机密★5年")
    p = d.add_paragraph("申请人身份证号")
    r = p.add_run(ID[:9])                      # the number spans three runs, one of them bold
    r.bold = True
    p.add_run(ID[9:] + "，请核实。")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text = "邮箱"
    t.cell(0, 1).text = "wangxm@example.com 手机 13812345678"
    c = d.add_paragraph("公开内容。")
    d.add_comment(c.runs, text="此人电话13700001111", author="审稿人", initials="S")
    para = d.add_paragraph("补充：")
    para._p.append(parse_xml(f'<w:del {W} w:id="91" w:author="张三" w:date="2026-01-01T00:00:00Z">'
                             f'<w:r><w:delText>旧号码13600001234</w:delText></w:r></w:del>'))
    para._p.append(parse_xml(f'<w:ins {W} w:id="92" w:author="李四" w:date="2026-01-02T00:00:00Z">'
                             f'<w:r><w:t>新号码13500005678</w:t></w:r></w:ins>'))
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


SECRETS = ("13912342468", ID, "wangxm@example.com", "13812345678", "13700001111", "13600001234",
           "13500005678", "机密★5年", "张三", "内部审阅版", "审稿人")


def _all_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist()
                         if n.endswith((".xml", ".rels", ".vml")))


def test_docx_copy_keeps_format_and_leaves_nothing_readable(light):
    import docx
    data = _docx()
    before = light.scan_bytes(data, "t.docx")
    assert {"pii.phone", "pii.id_card", "pii.email", "marking.level", "hidden.comment",
            "hidden.revision"} <= {f.category for f in before.findings}
    red = redact_bytes(data, before)
    assert red.kind == "docx" and red.count >= 8
    after = light.scan_bytes(red.data, "r.docx")
    assert after.errors == []
    assert remaining(after) == []
    assert not [f for f in after.findings if f.category in ("hidden.comment", "hidden.revision", "hidden.metadata")]
    xml = _all_xml(red.data)
    for s in SECRETS:
        assert s not in xml, s
    d = docx.Document(io.BytesIO(red.data))
    texts = [p.text for p in d.paragraphs]
    assert "机密★5年" not in texts and not any("机密" in t for t in texts)     # the mark paragraph is gone
    assert texts[0] == "申请人身份证号" + BLOCK * 18 + "，请核实。"
    runs = [(r.text, r.bold) for r in d.paragraphs[0].runs]
    assert runs[1] == (BLOCK * 9, True)                                      # formatting of each run kept
    assert d.tables[0].cell(0, 1).text == BLOCK * 18 + " 手机 " + BLOCK * 11
    assert "公开内容。" in texts and "补充：新号码" + BLOCK * 11 in texts      # insertion accepted, redacted
    assert d.sections[0].header.paragraphs[0].text == "联系人手机 " + BLOCK * 11
    assert "<w:comment " not in xml and "w:del " not in xml and "w:ins " not in xml
    assert d.core_properties.author == "" and d.core_properties.title == ""


def test_docx_keep_ends_mask(light):
    data = _docx()
    red = redact_bytes(data, light.scan_bytes(data, "t.docx"), mode="keep-ends")
    import docx
    d = docx.Document(io.BytesIO(red.data))
    assert d.tables[0].cell(0, 1).text.endswith("手机 138****5678")
    assert d.sections[0].header.paragraphs[0].text == "联系人手机 139****2468"
    assert remaining(light.scan_bytes(red.data, "k.docx")) == []


def test_categories_choose_what_is_redacted(light):
    data = _docx()
    red = redact_bytes(data, light.scan_bytes(data, "t.docx"), categories=["pii.email"])
    after = light.scan_bytes(red.data, "e.docx")
    cats = {f.category for f in after.findings}
    assert "pii.email" not in cats and "pii.phone" in cats and "marking.level" in cats


def test_operators():
    assert mask("13912342468", "pii.phone", "keep-ends") == "139****2468"
    assert mask("王建国", "pii.name", "keep-ends") == "某某"
    assert mask("机密", "marking.level") == ""
    assert mask("a b", "pii.x") == BLOCK + " " + BLOCK
    assert apply_spans("电话13912342468号", [(2, 13, "pii.phone"), (5, 8, "pii.phone")]) == "电话" + BLOCK * 11 + "号"


def test_xlsx_cells_numbers_comments_properties(light):
    import openpyxl
    from openpyxl.comments import Comment
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名单"
    ws["A1"], ws["B1"], ws["C1"] = "姓名", "手机", "邮箱"
    ws["B2"] = 13812345678                         # a number, not a string
    ws["C2"] = "wangxm@example.com"
    ws["B3"] = "电话 13912342468"
    ws["A4"] = "公开"
    ws["A4"].comment = Comment("联系 13700001111", "审稿人")
    wb.properties.creator = "张三"
    wb.properties.title = "内部名单"
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    before = light.scan_bytes(data, "t.xlsx")
    assert {"pii.phone", "pii.email", "hidden.comment"} <= {f.category for f in before.findings}
    red = redact_bytes(data, before)
    after = light.scan_bytes(red.data, "r.xlsx")
    assert remaining(after) == [] and not [f for f in after.findings if f.category == "hidden.comment"]
    xml = _all_xml(red.data)
    for s in ("13812345678", "wangxm@example.com", "13912342468", "13700001111", "张三", "内部名单", "审稿人"):
        assert s not in xml, s
    ws2 = openpyxl.load_workbook(io.BytesIO(red.data))["名单"]
    assert ws2["B2"].value == BLOCK * 11 and ws2["B3"].value == "电话 " + BLOCK * 11
    assert ws2["A1"].value == "姓名" and ws2["A4"].value == "公开"


def test_txt_in_place_keeps_encoding_and_line_ends(light):
    data = "机密★5年\r\n联系电话 13812345678\r\n公开内容\r\n".encode("gb18030")
    before = light.scan_bytes(data, "t.txt")
    red = redact_bytes(data, before)
    text = red.data.decode("gb18030")
    assert text == "\r\n联系电话 " + BLOCK * 11 + "\r\n公开内容\r\n"
    assert remaining(light.scan_bytes(red.data, "r.txt")) == []


def _ocr_text(pdf_data: bytes) -> str:
    import pypdfium2 as pdfium
    from scanner.extract import ocr
    pdf = pdfium.PdfDocument(pdf_data)
    try:
        return "\n".join(ln.text for i in range(len(pdf))
                         for ln in ocr.recognize(pdf[i].render(scale=2).to_pil()).lines)
    finally:
        pdf.close()


def test_text_pdf_is_rasterised_with_boxes_burnt_in(light):
    import pypdfium2 as pdfium
    data = pdf_bytes(["机密★5年", "申请人联系电话 13812345678，请核实。", "邮箱 wangxm@example.com 公开内容"])
    before = light.scan_bytes(data, "t.pdf")
    assert {"pii.phone", "pii.email", "marking.level"} <= {f.category for f in before.findings}
    red = redact_bytes(data, before)
    assert red.kind == "pdf" and red.unplaced == 0
    pdf = pdfium.PdfDocument(red.data)
    try:
        assert len(pdf) == 1
        tp = pdf[0].get_textpage()
        assert tp.count_chars() == 0 and tp.get_text_range() == ""     # no text layer at all
        tp.close()
    finally:
        pdf.close()
    assert b"/Font" not in red.data and b"13812345678" not in red.data
    seen = _ocr_text(red.data)                       # what a reader of the page can still read
    assert "公开内容" in seen and "请核实" in seen
    for s in ("13812345678", "wangxm", "example.com", "机密", "5年"):
        assert s not in seen, s
    assert remaining(light.scan_bytes(red.data, "r.pdf")) == []


def test_scanned_pdf_boxes_from_ocr():
    from support.pictures import PRIVATE_MOBILE, page, scanned_pdf
    full = Scanner()
    data = scanned_pdf([page(PRIVATE_MOBILE)])
    before = full.scan_bytes(data, "scan.pdf")
    assert {"pii.phone", "pii.name"} <= {f.category for f in before.findings}
    red = redact_bytes(data, before)
    assert red.unplaced == 0
    after = full.scan_bytes(red.data, "r.pdf")
    assert remaining(after) == []
    seen = "\n".join(s.text for s in after.segments)
    assert "13812345678" not in seen and "王建国" not in seen and "特此通报" in seen


def test_unsupported_format_is_refused(light):
    html = "<html><body>电话 13812345678</body></html>".encode()
    with pytest.raises(RedactError):
        redact_bytes(html, light.scan_bytes(html, "a.html"))


def _baomi(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "scanner.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT)


def test_cli_redact_exit_codes(tmp_path):
    src = tmp_path / "t.docx"
    src.write_bytes(_docx())
    out = tmp_path / "r.docx"
    p = _baomi("redact", str(src), "-o", str(out), "--light", "--mask", "keep-ends")
    assert p.returncode == 0, p.stderr
    assert "已写出脱敏副本" in p.stdout and "所选类别无发现" in p.stdout
    assert "13812345678" not in _all_xml(out.read_bytes())
    html = tmp_path / "a.html"
    html.write_text("<p>电话 13812345678</p>", encoding="utf-8")
    p = _baomi("redact", str(html), "-o", str(tmp_path / "a2.html"), "--light")
    assert p.returncode == 3 and "暂不支持" in p.stderr and not (tmp_path / "a2.html").exists()
    p = _baomi("redact", str(tmp_path / "missing.docx"), "-o", str(out), "--light")
    assert p.returncode == 64 and "找不到文件" in p.stderr
