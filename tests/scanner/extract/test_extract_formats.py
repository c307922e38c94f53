"""Every format and layer with files built here (python-docx, reportlab, openpyxl, python-pptx,
zipfile): where hidden text lands, its location, and the hidden.* finding it gives."""
from __future__ import annotations

import io
import zipfile

import pytest

from scanner import get_scanner
from scanner.extract import extract, extract_bytes

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _id_number(region: str, birth: str, seq: str) -> str:
    """A synthetic resident ID number with a valid GB 11643 check digit."""
    body = region + birth + seq
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


ID = _id_number("330106", "19790408", "216")


def _scan(path):
    return get_scanner(light=True).scan_file(path)


def _cats(report):
    return {f.category for f in report.findings}


# --- docx ---------------------------------------------------------------------------------------
def _docx(tmp_path, build, name="t.docx", author=""):
    from docx import Document
    d = Document()
    d.core_properties.author = author
    build(d)
    p = tmp_path / name
    d.save(p)
    return p


def test_docx_deleted_revision_with_id_number(tmp_path):
    from docx.oxml import parse_xml

    def build(d):
        para = d.add_paragraph("申请人信息已核实。")
        para._p.append(parse_xml(f'<w:del {W} w:id="1" w:author="张三" w:date="2026-01-01T00:00:00Z">'
                                 f'<w:r><w:delText>身份证号{ID}</w:delText></w:r></w:del>'))
        para._p.append(parse_xml(f'<w:ins {W} w:id="2" w:author="李四" w:date="2026-01-02T00:00:00Z">'
                                 f'<w:r><w:t>（已补充）</w:t></w:r></w:ins>'))
    report = _scan(_docx(tmp_path, build))
    cats = _cats(report)
    assert "hidden.revision" in cats and "pii.id_card" in cats
    rev = [f for f in report.findings if f.category == "hidden.revision"]
    assert {f.location["kind"] for f in rev} == {"deleted", "inserted"}
    assert {f.location["author"] for f in rev} == {"张三", "李四"}
    assert all(f.location["paragraph"] == 0 for f in rev)
    body = [s.text for s in report.segments if s.layer == "body"]
    assert body == ["申请人信息已核实。（已补充）"]          # the as-published view: insertion in, deletion out
    assert report.decision == "review"


def test_docx_comment_hidden_white_tiny_runs(tmp_path):
    from docx.shared import Pt, RGBColor

    def build(d):
        p = d.add_paragraph("公开内容。")
        d.add_comment(p.runs, text="此段涉密，发布前删除", author="审稿人", initials="S")
        r = p.add_run("隐藏的备注")
        r.font.hidden = True
        w = d.add_paragraph().add_run("白色文字")
        w.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
        t = d.add_paragraph().add_run("极小文字")
        t.font.size = Pt(1)
    report = _scan(_docx(tmp_path, build))
    kinds = {(f.category, f.location.get("kind")) for f in report.findings if f.category.startswith("hidden.")}
    assert ("hidden.comment", "comment") in kinds
    assert {("hidden.text", "vanish"), ("hidden.text", "white"), ("hidden.text", "tiny")} <= kinds
    comment = next(f for f in report.findings if f.category == "hidden.comment")
    assert comment.location["author"] == "审稿人" and comment.location["paragraph"] == 0


def test_docx_white_text_in_shaded_cell_is_not_hidden(tmp_path):
    from docx.oxml import parse_xml
    from docx.shared import RGBColor

    def build(d):
        table = d.add_table(rows=1, cols=1)
        cell = table.cell(0, 0)
        cell._tc.get_or_add_tcPr().append(parse_xml(f'<w:shd {W} w:val="clear" w:fill="1F4E79"/>'))
        run = cell.paragraphs[0].add_run("表头")
        run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
    report = _scan(_docx(tmp_path, build))
    assert not [f for f in report.findings if f.category == "hidden.text"]
    assert [s.locator for s in report.segments if s.text == "表头"][0]["table"] == 0


def test_docx_textbox_sdt_field_header_footnote_properties(tmp_path):
    from docx.oxml import parse_xml

    def build(d):
        d.sections[0].header.paragraphs[0].text = "页眉文字"
        d.sections[0].footer.paragraphs[0].text = "页脚文字"
        body = d.element.body
        body.insert(0, parse_xml(f'<w:sdt {W}><w:sdtContent><w:p><w:r><w:t>控件内文字</w:t></w:r></w:p>'
                                 f'</w:sdtContent></w:sdt>'))
        p = d.add_paragraph()
        p._p.append(parse_xml(f'<w:r {W}><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:textbox>'
                              f'<w:txbxContent><w:p><w:r><w:t>文本框文字</w:t></w:r></w:p></w:txbxContent>'
                              f'</v:textbox></v:shape></w:pict></w:r>'))
        p._p.append(parse_xml(f'<w:fldSimple {W} w:instr="HYPERLINK http://10.1.2.3/oa"><w:r><w:t>链接</w:t></w:r>'
                              f'</w:fldSimple>'))
        d.core_properties.title = "内部审阅版"
        d.core_properties.last_modified_by = "王五"
    p = _docx(tmp_path, build, author="张三")
    doc = extract(p)
    by_text = {s.text: s for s in doc.segments}
    assert by_text["控件内文字"].locator["kind"] == "content_control"
    assert by_text["文本框文字"].locator["kind"] == "textbox" and by_text["文本框文字"].layer == "body"
    assert by_text["页眉文字"].layer == "header" and by_text["页脚文字"].layer == "footer"
    assert by_text["HYPERLINK http://10.1.2.3/oa"].locator["kind"] == "field"
    meta = {s.locator["field"]: s.text for s in doc.segments if s.layer == "metadata"}
    assert meta["author"] == "张三" and meta["lastModifiedBy"] == "王五" and meta["title"] == "内部审阅版"
    report = get_scanner(light=True).scan_document(doc)
    flagged = {f.location.get("field") for f in report.findings if f.category == "hidden.metadata"}
    assert {"author", "lastModifiedBy", "title"} <= flagged
    assert not [f for f in report.findings if f.location.get("kind") == "field" and f.category.startswith("hidden")]


def test_docx_footnote_and_exif_gps(tmp_path):
    """Footnotes part and a JPEG with GPS EXIF, added to a python-docx file at the zip level."""
    from PIL import Image
    p = _docx(tmp_path, lambda d: d.add_paragraph("正文"))
    img = Image.new("RGB", (4, 4))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (30.0, 34.0, 22.134), 3: "E", 4: (104.0, 4.0, 0.48)}
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    notes = (f'<w:footnotes {W}><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
             f'</w:footnote><w:footnote w:id="1"><w:p><w:r><w:t>脚注：数据来源内部统计</w:t></w:r></w:p></w:footnote>'
             f'</w:footnotes>').encode()
    out = tmp_path / "n.docx"
    with zipfile.ZipFile(p) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("word/footnotes.xml", notes)
        dst.writestr("word/media/photo.jpg", buf.getvalue())
    doc = extract(out)
    note = [s for s in doc.segments if s.layer == "note"]
    assert note and note[0].text == "脚注：数据来源内部统计" and note[0].locator["kind"] == "footnote"
    gps = [s for s in doc.segments if s.locator.get("field") == "exif_gps"]
    assert gps and gps[0].locator["member"] == "word/media/photo.jpg"
    assert abs(gps[0].locator["latitude"] - 30.572815) < 1e-4
    report = get_scanner(light=True).scan_document(doc)
    assert "geo.coordinates" in _cats(report)


def test_python_docx_defaults_are_not_findings(tmp_path):
    """d09-like: python-docx's template with empty author/title gives no hidden finding."""
    report = _scan(_docx(tmp_path, lambda d: d.add_paragraph("数据安全培训讲义")))
    assert not [f for f in report.findings if f.category.startswith("hidden")]
    assert report.errors == []


# --- pdf ----------------------------------------------------------------------------------------
def test_pdf_reportlab_defaults_not_findings_and_annotation(tmp_path):
    from reportlab.pdfgen import canvas
    p = tmp_path / "a.pdf"
    c = canvas.Canvas(str(p))
    c.drawString(72, 720, "Public notice text")
    c.showPage()
    c.save()
    report = _scan(p)
    assert not [f for f in report.findings if f.category.startswith("hidden")] and report.decision == "pass"
    p2 = tmp_path / "b.pdf"
    c = canvas.Canvas(str(p2))
    c.setAuthor("Zhang San")
    c.drawString(72, 720, "Public notice text")
    c.textAnnotation("internal remark: not for release", Rect=(72, 600, 200, 650))
    c.showPage()
    c.save()
    report = _scan(p2)
    cats = _cats(report)
    assert "hidden.comment" in cats and "hidden.metadata" in cats
    ann = next(f for f in report.findings if f.category == "hidden.comment")
    assert ann.location["page"] == 1 and ann.location["subtype"] == "Text"


def test_pdf_garbled_text_layer_is_an_error_and_clean_cjk_is_not():
    """A CJK font whose encoding no longer maps to Unicode (UniGB-UCS2-H swapped for Identity-H,
    no ToUnicode) extracts as plausible-looking nonsense: it must be an error (review), while the
    same PDF with its real encoding extracts cleanly."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    from scanner.extract.pdf_layers import is_garbled
    assert is_garbled(100, 11) and not is_garbled(100, 10) and not is_garbled(10, 10)
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pageCompression=0)
    c.setFont("STSong-Light", 12)
    c.drawString(72, 720, "关于举办读书月活动的通知，市图书馆将举办系列讲座。欢迎参加。")
    c.showPage()
    c.save()
    clean = extract_bytes(buf.getvalue(), "clean.pdf")
    assert clean.errors == [] and clean.meta["pdf_chars"] >= 20
    assert clean.segments[0].text.startswith("关于举办读书月活动的通知")
    garbled = extract_bytes(buf.getvalue().replace(b"/UniGB-UCS2-H", b"/Identity-H  "), "garbled.pdf")
    # the page is OCR'd in place of its layer (issue 11); its glyphs are nonsense too (the CIDs are
    # wrong, not only their Unicode), so OCR reads them with low confidence
    codes = [e.code for e in garbled.errors]
    assert codes[0] == "extract.garbled_text" and set(codes) <= {"extract.garbled_text", "extract.ocr_low_confidence"}
    assert get_scanner(light=True).scan_document(garbled).decision != "pass"


# --- html ---------------------------------------------------------------------------------------
def test_html_layers_and_deep_nesting():
    page = ("<html><head><title>页面标题</title><meta name=\"author\" content=\"张三\"></head><body>"
            "<p>公开正文</p><!-- 内部备注：勿发布 --><div style=\"display:none\">隐藏段落</div>"
            "<script>var k='x';</script></body></html>").encode()
    doc = extract_bytes(page, "a.html")
    layers = {s.text: s.layer for s in doc.segments}
    assert layers["页面标题"] == "metadata" and layers["公开正文"] == "body"
    assert layers["内部备注：勿发布"] == "comment" and layers["隐藏段落"] == "hidden" and layers["var k='x';"] == "script"
    cats = _cats(get_scanner(light=True).scan_document(doc))
    assert {"hidden.comment", "hidden.text", "hidden.metadata"} <= cats
    deep = ("<html><body>" + "<div>" * 400 + "深层标记文字" + "</div>" * 400 + "</body></html>").encode()
    d2 = extract_bytes(deep, "deep.html")
    assert any("深层标记文字" in s.text for s in d2.segments) and d2.meta.get("html_depth_limited")


# --- xlsx ---------------------------------------------------------------------------------------
def test_xlsx_hidden_sheet_row_col_comment_defined_name(tmp_path):
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.workbook.defined_name import DefinedName
    wb = Workbook()
    ws = wb.active
    ws.title = "公开"
    ws["A1"] = "项目名称"
    ws["B2"] = "隐藏行内容"
    ws.row_dimensions[2].hidden = True
    ws["D1"] = "隐藏列内容"
    ws.column_dimensions["D"].hidden = True
    ws["A1"].comment = Comment("批注：数据未核实", "李四")
    hs = wb.create_sheet("内部")
    hs["A1"] = f"身份证{ID}"
    hs.sheet_state = "hidden"
    wb.defined_names["内部口径"] = DefinedName("内部口径", attr_text="'公开'!$A$1")
    p = tmp_path / "t.xlsx"
    wb.save(p)
    doc = extract(p)
    seg = {s.text: s for s in doc.segments}
    assert seg["项目名称"].layer == "table" and seg["项目名称"].locator == {"sheet": "公开", "cell": "A1"}
    assert seg["隐藏行内容"].locator["kind"] == "hidden_row" and seg["隐藏列内容"].locator["kind"] == "hidden_col"
    assert seg[f"身份证{ID}"].locator["kind"] == "hidden_sheet" and seg[f"身份证{ID}"].layer == "hidden"
    assert seg["批注：数据未核实"].layer == "comment" and seg["批注：数据未核实"].locator["cell"] == "A1"
    assert any(s.locator.get("kind") == "defined_name" for s in doc.segments)
    cats = _cats(get_scanner(light=True).scan_document(doc))
    assert {"hidden.text", "hidden.comment", "pii.id_card"} <= cats


def test_xlsx_collapsed_outline_rows_carry_their_level_and_do_not_decide(tmp_path):
    """A hidden row of a collapsed outline group whose summary row is visible keeps its level in the
    locator; harm lowers it (the sheet shows the group's + button). A plain hidden row, or a group
    whose summary row is hidden too (a hidden block of grouped rows), stays a finding."""
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["A4"] = "参评产品目录", "商业服务业用地", "待定调整事项"
    ws["A6"], ws["A7"] = "成本超支明细", "运力部跟进"
    ws.row_dimensions[2].outlineLevel = 2
    ws.row_dimensions[2].hidden = True          # summary below: row 3, visible
    ws.row_dimensions[4].hidden = True
    ws.row_dimensions[6].outlineLevel = 1
    ws.row_dimensions[6].hidden = True          # summary below: row 7, hidden as well
    ws.row_dimensions[7].hidden = True
    p = tmp_path / "o.xlsx"
    wb.save(p)
    seg = {s.text: s for s in extract(p).segments}
    assert seg["商业服务业用地"].locator["outline"] == 2
    assert all("outline" not in seg[t].locator for t in ("待定调整事项", "成本超支明细", "运力部跟进"))
    rep = get_scanner(light=True).scan_document(extract(p))
    sev = {f.text: f.severity for f in rep.findings if f.category == "hidden.text"}
    assert sev == {"商业服务业用地": "low", "待定调整事项": "medium", "成本超支明细": "medium", "运力部跟进": "medium"}


def _list_workbook(tmp_path, ref: str, extra: str = ""):
    """A form sheet whose column B offers a drop-down list kept in a hidden sheet 选项."""
    from openpyxl import Workbook
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation
    wb = Workbook()
    ws = wb.active
    ws.title = "登记表"
    ws["A1"], ws["B1"] = "设备名称", "设备来源"
    hs = wb.create_sheet("选项")
    hs["A1"], hs["A2"], hs["A3"] = "设备来源", "自有设备", "合作方设备"
    if extra:
        hs["C5"] = extra
    hs.sheet_state = "hidden"
    wb.defined_names["设备来源"] = DefinedName("设备来源", attr_text="'选项'!$A$2:$A$3")
    dv = DataValidation(type="list", formula1=ref, allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("B2:B100")
    p = tmp_path / "list.xlsx"
    wb.save(p)
    return extract(p)


@pytest.mark.parametrize("ref", ["设备来源", "'选项'!$A$2:$A$3"])
def test_xlsx_hidden_sheet_of_drop_down_lists_is_read_as_shown(tmp_path, ref):
    """What a drop-down list offers is what a reader sees when opening it: the hidden sheet that
    holds only the lists (with their header) is not hidden content."""
    doc = _list_workbook(tmp_path, ref)
    seg = {s.text: s for s in doc.segments}
    for t in ("设备来源", "自有设备", "合作方设备"):
        assert seg[t].layer in ("table", "body"), t
    assert seg["自有设备"].locator["kind"] == "list_source"
    assert seg["选项"].layer == "body" and seg["选项"].locator["kind"] == "list_source_sheet"
    assert "hidden.text" not in _cats(get_scanner(light=True).scan_document(doc))


def test_xlsx_hidden_sheet_with_more_than_its_lists_stays_hidden(tmp_path):
    doc = _list_workbook(tmp_path, "设备来源", extra=f"身份证{ID}")
    seg = {s.text: s for s in doc.segments}
    assert seg["自有设备"].layer == "table"                       # the list is still what the list shows
    assert seg[f"身份证{ID}"].layer == "hidden" and seg[f"身份证{ID}"].locator["kind"] == "hidden_sheet"
    assert seg["选项"].layer == "hidden"                           # the sheet holds more than lists
    assert {"hidden.text", "pii.id_card"} <= _cats(get_scanner(light=True).scan_document(doc))


# --- pptx ---------------------------------------------------------------------------------------
def test_pptx_slides_notes_hidden_slide(tmp_path):
    from pptx import Presentation
    prs = Presentation()
    s1 = prs.slides.add_slide(prs.slide_layouts[1])
    s1.shapes.title.text = "年度工作汇报"
    s1.notes_slide.notes_text_frame.text = "讲稿：此数据不对外"
    s2 = prs.slides.add_slide(prs.slide_layouts[1])
    s2.shapes.title.text = "隐藏页内容"
    s2._element.set("show", "0")
    box = s1.shapes.add_textbox(0, 0, 100, 100)
    box.text_frame.text = "隐藏文本框内容"
    box._element.nvSpPr.cNvPr.set("hidden", "1")
    away = s1.shapes.add_textbox(prs.slide_width + 100, 0, 100, 100)
    away.text_frame.text = "页面外文字"
    p = tmp_path / "t.pptx"
    prs.save(p)
    doc = extract(p)
    seg = {s.text: s for s in doc.segments}
    assert seg["年度工作汇报"].layer == "body" and seg["年度工作汇报"].locator["slide"] == 1
    assert seg["讲稿：此数据不对外"].layer == "note" and seg["讲稿：此数据不对外"].locator["slide"] == 1
    assert seg["隐藏页内容"].layer == "hidden" and seg["隐藏页内容"].locator["kind"] == "hidden_slide"
    assert seg["隐藏文本框内容"].layer == "hidden" and seg["隐藏文本框内容"].locator["kind"] == "hidden_shape"
    assert seg["页面外文字"].layer == "hidden" and seg["页面外文字"].locator["kind"] == "offslide"
    assert "hidden.text" in _cats(get_scanner(light=True).scan_document(doc))


# --- zip and OFD --------------------------------------------------------------------------------
def test_zip_recurses_with_member_locations(tmp_path):
    from docx import Document
    d = Document()
    d.add_paragraph(f"身份证{ID}")
    inner = io.BytesIO()
    d.save(inner)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("材料/申请表.docx", inner.getvalue())
        zf.writestr("说明.txt", "公开说明".encode())
    doc = extract_bytes(buf.getvalue(), "bundle.zip")
    seg = {s.text: s for s in doc.segments}
    assert seg[f"身份证{ID}"].locator["member"] == "材料/申请表.docx"
    assert seg["公开说明"].locator["member"] == "说明.txt"
    report = get_scanner(light=True).scan_document(doc)
    assert any(f.category == "pii.id_card" and f.location["member"] == "材料/申请表.docx" for f in report.findings)


def _ofd_bytes() -> bytes:
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("OFD.xml", f'<ofd:OFD {ns} Version="1.1"><ofd:DocBody><ofd:DocInfo><ofd:Title>通知</ofd:Title>'
                    f'<ofd:Author>王五</ofd:Author></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>'
                    f'</ofd:DocBody></ofd:OFD>')
        zf.writestr("Doc_0/Document.xml", f'<ofd:Document {ns}><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>'
                    f'</ofd:Pages></ofd:Document>')
        zf.writestr("Doc_0/Pages/Page_0/Content.xml", f'<ofd:Page {ns}><ofd:Content><ofd:Layer><ofd:TextObject ID="2">'
                    f'<ofd:TextCode X="0" Y="0">秘密★1年</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>')
    return buf.getvalue()


def test_ofd_pages_and_docinfo():
    doc = extract_bytes(_ofd_bytes(), "a.ofd")
    seg = {s.text: s for s in doc.segments}
    assert seg["秘密★1年"].layer == "body" and seg["秘密★1年"].locator["page"] == 1
    assert seg["王五"].layer == "metadata" and seg["王五"].locator["field"] == "author"
    assert doc.errors == []


def test_ooxml_doctype_and_legacy_office(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>'
                    f'<w:document {W}><w:body><w:p><w:r><w:t>&a;</w:t></w:r></w:p></w:body></w:document>')
    doc = extract_bytes(buf.getvalue(), "x.docx")
    assert [e.code for e in doc.errors] == ["extract.dtd_forbidden"]
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000
    doc = extract_bytes(ole, "old.doc")
    import shutil
    if shutil.which("soffice") or shutil.which("libreoffice"):
        assert doc.errors            # a fake OLE file cannot convert
    else:
        assert [e.code for e in doc.errors] == ["extract.unsupported"] and "LibreOffice" in doc.errors[0].message


@pytest.mark.parametrize("name", ["a.txt", "a.html", "a.docx", "a.pdf", "a.xlsx", "a.pptx", "a.zip", "a.ofd"])
def test_garbage_never_raises(name):
    for data in (b"", b"PK\x03\x04garbage", b"%PDF-1.7\n%garbage", b"\xff" * 100, b"<html><p>x"):
        doc = extract_bytes(data, name)
        assert isinstance(doc.errors, list)


# --- more layers --------------------------------------------------------------------------------
def test_pdf_embedded_file_is_scanned():
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as R
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Cover page")
    c.showPage()
    c.save()
    pdf = pdfium.PdfDocument(buf.getvalue())
    wname = ctypes.create_string_buffer("名单.txt".encode("utf-16-le") + b"\x00\x00")
    att = R.FPDFDoc_AddAttachment(pdf.raw, ctypes.cast(wname, R.FPDF_WIDESTRING))
    data = f"身份证{ID}".encode()
    assert R.FPDFAttachment_SetFile(att, pdf.raw, data, len(data))
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    report = get_scanner(light=True).scan_document(extract_bytes(out.getvalue(), "a.pdf"))
    f = next(f for f in report.findings if f.category == "pii.id_card")
    assert f.location["member"] == "名单.txt" and f.location["kind"] == "embedded_file"
    assert not [f for f in report.findings if f.category == "hidden.metadata"]    # reportlab defaults


def test_html_css_class_hidden():
    page = (b"<html><head><style>.x{color:red} .secret, #n { display: none }</style></head><body>"
            b"<p>pub</p><div class='a secret'>hid1</div><span id='n'>hid2</span></body></html>")
    doc = extract_bytes(page, "a.html")
    assert {s.text: s.layer for s in doc.segments if s.layer != "script"} == {"pub": "body", "hid1": "hidden",
                                                                              "hid2": "hidden"}


def test_xlsx_header_footer(tmp_path):
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "数据"
    ws.oddHeader.center.text = "内部资料"
    ws.oddFooter.right.text = "第 &P 页"
    p = tmp_path / "h.xlsx"
    wb.save(p)
    doc = extract(p)
    heads = [(s.layer, s.text) for s in doc.segments if s.layer in ("header", "footer")]
    assert ("header", "内部资料") in heads and ("footer", "第 页") in heads


def test_pptx_chart_text(tmp_path):
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.util import Inches
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    data = CategoryChartData()
    data.categories = ["一季度", "二季度"]
    data.add_series("核心参数实测值", (1.0, 2.0))
    slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, 0, 0, Inches(4), Inches(3), data)
    p = tmp_path / "c.pptx"
    prs.save(p)
    doc = extract(p)
    chart = {s.text for s in doc.segments if s.locator.get("kind") == "chart"}
    assert {"一季度", "二季度", "核心参数实测值"} <= chart


def _rewrite_zip(src, dst, changes: dict):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = changes.pop(item.filename, None)
            zout.writestr(item.filename, data if data is not None else zin.read(item))
        for name, data in changes.items():
            zout.writestr(name, data)


def test_pptx_legacy_comment_with_author(tmp_path):
    from pptx import Presentation
    prs = Presentation()
    prs.slides.add_slide(prs.slide_layouts[6])
    p = tmp_path / "c.pptx"
    prs.save(p)
    pns = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
    with zipfile.ZipFile(p) as zf:
        rels = zf.read("ppt/slides/_rels/slide1.xml.rels").decode()
    rels = rels.replace("</Relationships>", '<Relationship Id="rIdC1" Type="http://schemas.openxmlformats.org/'
                        'officeDocument/2006/relationships/comments" Target="../comments/comment1.xml"/></Relationships>')
    out = tmp_path / "c2.pptx"
    _rewrite_zip(p, out, {
        "ppt/slides/_rels/slide1.xml.rels": rels.encode(),
        "ppt/commentAuthors.xml": f'<p:cmAuthorLst {pns}><p:cmAuthor id="0" name="赵六" initials="Z" lastIdx="1" '
                                  f'clrIdx="0"/></p:cmAuthorLst>'.encode(),
        "ppt/comments/comment1.xml": f'<p:cmLst {pns}><p:cm authorId="0" idx="1"><p:pos x="0" y="0"/>'
                                     f'<p:text>第三页数字不能公开</p:text></p:cm></p:cmLst>'.encode(),
    })
    doc = extract(out)
    c = [s for s in doc.segments if s.layer == "comment"]
    assert len(c) == 1 and c[0].text == "第三页数字不能公开" and c[0].locator["author"] == "赵六"
    assert c[0].locator["slide"] == 1


def test_docx_moves_and_endnotes(tmp_path):
    from docx import Document
    from docx.oxml import parse_xml
    d = Document()
    para = d.add_paragraph("第一段。")
    para._p.append(parse_xml(f'<w:moveFrom {W} w:id="5" w:author="甲" w:date="2026-01-01T00:00:00Z">'
                             f'<w:r><w:t>被移走的句子</w:t></w:r></w:moveFrom>'))
    para2 = d.add_paragraph("第二段。")
    para2._p.append(parse_xml(f'<w:moveTo {W} w:id="6" w:author="甲" w:date="2026-01-01T00:00:00Z">'
                              f'<w:r><w:t>被移走的句子</w:t></w:r></w:moveTo>'))
    p = tmp_path / "m.docx"
    d.save(p)
    end = (f'<w:endnotes {W}><w:endnote w:type="separator" w:id="-1"><w:p/></w:endnote>'
           f'<w:endnote w:id="1"><w:p><w:r><w:t>尾注：内部统计口径</w:t></w:r></w:p></w:endnote></w:endnotes>').encode()
    out = tmp_path / "m2.docx"
    _rewrite_zip(p, out, {"word/endnotes.xml": end})
    doc = extract(out)
    revs = sorted((s.locator["kind"], s.locator["paragraph"]) for s in doc.segments if s.layer == "revision")
    assert revs == [("moved_from", 0), ("moved_to", 1)]
    body = [s.text for s in doc.segments if s.layer == "body"]
    assert body == ["第一段。", "第二段。被移走的句子"]          # the moved text appears once, at its new place
    notes = [s for s in doc.segments if s.layer == "note"]
    assert [(n.text, n.locator["kind"]) for n in notes] == [("尾注：内部统计口径", "endnote")]


def test_repetitive_large_docx_is_not_a_zip_bomb(tmp_path):
    """12 MB of highly repetitive table XML (compresses ~250:1, as real big tables do) is read."""
    from docx import Document
    p = tmp_path / "t.docx"
    Document().save(p)
    row = "<w:tr>" + f"<w:tc><w:p><w:r><w:t>{'单元格内容' * 60}</w:t></w:r></w:p></w:tc>" * 5 + "</w:tr>"
    xml = (f'<w:document {W}><w:body><w:tbl>' + row * 2800 + '</w:tbl><w:p><w:r><w:t>结尾段落</w:t></w:r></w:p>'
           '</w:body></w:document>').encode()
    out = tmp_path / "big.docx"
    _rewrite_zip(p, out, {"word/document.xml": xml})
    with zipfile.ZipFile(out) as zf:
        info = zf.getinfo("word/document.xml")
        assert info.file_size > 8 << 20 and info.file_size / info.compress_size > 100
    doc = extract(out)
    body = [s for s in doc.segments if s.layer in ("body", "table")]
    assert doc.errors == [] and body[-1].text == "结尾段落" and len(body) == 2800 * 5 + 1
    assert doc.segments[0].locator == {"part": "word/document.xml", "paragraph": 0, "table": 0, "row": 0, "col": 0}


def test_ofd_annotations_and_custom_tags():
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    base = io.BytesIO(_ofd_bytes())
    out = io.BytesIO()
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "Doc_0/Document.xml":
                data = data.replace(b"</ofd:Document>", b"<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>"
                                    b"</ofd:Document>")
            zout.writestr(item.filename, data)
        zout.writestr("Doc_0/Annots/Annotations.xml", f'<ofd:Annotations {ns}><ofd:Page PageID="1"><ofd:FileLoc>'
                      f'Page_0/Annotation.xml</ofd:FileLoc></ofd:Page></ofd:Annotations>')
        zout.writestr("Doc_0/Annots/Page_0/Annotation.xml", f'<ofd:PageAnnot {ns}><ofd:Annot ID="9" Type="Stamp" '
                      f'Creator="审核人"><ofd:Remark>此件暂缓公开</ofd:Remark></ofd:Annot></ofd:PageAnnot>')
    doc = extract_bytes(out.getvalue(), "a.ofd")
    ann = [s for s in doc.segments if s.locator.get("kind") == "annotation"]
    assert ann and ann[0].layer == "comment" and ann[0].text == "此件暂缓公开" and ann[0].locator["author"] == "审核人"
    assert "hidden.comment" in _cats(get_scanner(light=True).scan_document(doc))


def test_xlsx_pivot_cache_orphans_are_hidden(tmp_path):
    """A pivot cache keeps its source data after the source sheet is deleted: values that no cell
    shows are reported (hidden layer); values also in visible cells are not repeated."""
    from openpyxl import Workbook
    wb = Workbook()
    wb.active["A1"] = "一季度"
    p = tmp_path / "p.xlsx"
    wb.save(p)
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    cache = (f'<pivotCacheDefinition {ns}><cacheFields count="1"><cacheField name="f"><sharedItems count="2">'
             f'<s v="一季度"/><s v="联系人王五 手机13900001111"/></sharedItems></cacheField></cacheFields>'
             f'</pivotCacheDefinition>').encode()
    out = tmp_path / "p2.xlsx"
    _rewrite_zip(p, out, {"xl/pivotCache/pivotCacheDefinition1.xml": cache})
    doc = extract(out)
    cached = [s.text for s in doc.segments if s.locator.get("kind") == "pivot_cache"]
    assert cached == ["联系人王五 手机13900001111"]
    cats = _cats(get_scanner(light=True).scan_document(doc))
    assert "hidden.text" in cats and "pii.phone" in cats


def test_docx_custom_xml_is_scanned_not_flagged(tmp_path):
    from docx import Document
    p = tmp_path / "c.docx"
    Document().save(p)
    out = tmp_path / "c2.docx"
    _rewrite_zip(p, out, {"customXml/item1.xml": "<root><owner>联系人手机13900001111</owner></root>".encode()})
    doc = extract(out)
    seg = [s for s in doc.segments if s.locator.get("field") == "custom_xml"]
    assert seg and seg[0].text == "联系人手机13900001111" and seg[0].layer == "metadata"
    report = get_scanner(light=True).scan_document(doc)
    assert "pii.phone" in _cats(report) and "hidden.metadata" not in _cats(report)


# --- rtf ----------------------------------------------------------------------------------------
RTF = (rb"{\rtf1\ansi\ansicpg936\deff0{\fonttbl{\f0\fnil\fcharset134 \'cb\'ce\'cc\'e5;}}"
       rb"{\info{\title \'c4\'da\'b2\'bf\'b8\'e5}{\author \'d5\'c5\'c8\'fd}}"
       rb"{\header \pard \'d2\'b3\'c3\'bc\par}"
       rb"\pard \'b9\'ab\'bf\'aa\'d5\'fd\'ce\'c4{\v \'d2\'fe\'b2\'d8\'ce\'c4\'d7\'d6}\par"
       rb"\pard Normal {\deleted removed words}{\revised added}\par"
       rb"\pard Text\chatn{\*\atnid A}{\*\atnauthor Wang}{\*\annotation \pard note text}\par"
       rb"\pard before{\pict\bin4 \x00\x01}\x02}after \u27979?\u35797?\par}")


def test_rtf_layers_without_libreoffice():
    doc = extract_bytes(RTF, "draft.doc")          # an RTF saved with a .doc name is common
    assert doc.media_type == "application/rtf" and doc.errors == []
    seg = {(s.layer, s.text): s.locator for s in doc.segments}
    assert ("header", "页眉") in seg and ("body", "公开正文") in seg
    assert seg[("hidden", "隐藏文字")]["kind"] == "vanish"
    assert seg[("revision", "removed words")]["kind"] == "deleted" and ("body", "Normal added") in seg
    assert seg[("comment", "note text")]["author"] == "Wang"
    assert ("body", "beforeafter 测试") in seg                 # \bin data skipped, \uN decoded
    meta = {s.locator["field"]: s.text for s in doc.segments if s.layer == "metadata"}
    assert meta == {"title": "内部稿", "author": "张三"}
    cats = _cats(get_scanner(light=True).scan_document(doc))
    assert {"hidden.text", "hidden.revision", "hidden.comment", "hidden.metadata"} <= cats


def test_rtf_hostile_nesting_is_an_error():
    doc = extract_bytes(b"{\\rtf1 " + b"{" * 5000 + b"x" + b"}" * 5000 + b"}", "deep.rtf")
    assert [e.code for e in doc.errors] == ["extract.xml_too_deep"]


def _pdf_with_objects(objs: list[bytes]) -> bytes:
    from support.drafts import pdf_with_objects
    return pdf_with_objects(objs)


def test_pdf_document_javascript_is_scanned_not_run():
    content = b"BT /F1 12 Tf 72 720 Td (Public page) Tj ET"
    pdf = _pdf_with_objects([
        b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 5 0 R >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Names [(init) 6 0 R] >>",
        b"<< /S /JavaScript /JS (app.launchURL\\('http://10.20.30.40/oa/login'\\);) >>",
    ])
    doc = extract_bytes(pdf, "js.pdf")
    js = [s for s in doc.segments if s.layer == "script"]
    assert js and "10.20.30.40" in js[0].text and js[0].locator["element"] == "javascript"
    assert doc.errors == []


def test_pdf_unapplied_redact_annotation():
    content = b"BT /F1 12 Tf 72 720 Td (Phone 13800001111 here) Tj ET BT /F1 12 Tf 72 600 Td (Other line) Tj ET"
    pdf = _pdf_with_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Annots [5 0 R] "
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Annot /Subtype /Redact /Rect [108 714 190 734] /C [1 0 0] >>",
    ])
    doc = extract_bytes(pdf, "r.pdf")
    red = [s for s in doc.segments if s.layer == "redaction"]
    assert [s.text for s in red] == ["13800001111"] and red[0].locator["page"] == 1


def test_docx_black_highlight_is_a_failed_redaction(tmp_path):
    from docx.enum.text import WD_COLOR_INDEX
    from docx.shared import RGBColor

    def build(d):
        p = d.add_paragraph("联系人电话：")
        r = p.add_run("13800001111")
        r.font.highlight_color = WD_COLOR_INDEX.BLACK
        r.font.color.rgb = RGBColor(0, 0, 0)
        q = d.add_paragraph()
        v = q.add_run("黑底白字标题")                 # auto colour on black: Word shows it in white
        v.font.highlight_color = WD_COLOR_INDEX.BLACK
    report = _scan(_docx(tmp_path, build))
    red = [f for f in report.findings if f.category == "hidden.redaction"]
    assert [f.text for f in red] == ["13800001111"] and red[0].location["kind"] == "black_highlight"
    assert "文档中" in red[0].explanation and "pii.phone" in _cats(report)


def test_xlsx_invisible_cells_by_format_and_white_font(tmp_path):
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "可见"
    ws["A2"] = "格式隐藏内容"
    ws["A2"].number_format = ";;;"
    ws["A3"] = "白色字体内容"
    ws["A3"].font = Font(color="FFFFFFFF")
    ws["A4"] = "深色底白字"
    ws["A4"].font = Font(color="FFFFFFFF")
    ws["A4"].fill = PatternFill("solid", fgColor="FF1F4E79")
    p = tmp_path / "s.xlsx"
    wb.save(p)
    doc = extract(p)
    seg = {s.text: s for s in doc.segments}
    assert seg["格式隐藏内容"].layer == "hidden" and seg["格式隐藏内容"].locator["kind"] == "hidden_format"
    assert seg["白色字体内容"].layer == "hidden" and seg["白色字体内容"].locator["kind"] == "white"
    assert seg["可见"].layer == "table" and seg["深色底白字"].layer == "table"


def test_huge_text_is_cut_at_a_character_boundary_and_flagged():
    data = ("秘密★1年\n" + "公开内容。" * 1_200_000 + "\n结尾标记").encode("utf-8")     # ~18 MB
    doc = extract_bytes(data, "big.txt")
    assert [e.code for e in doc.errors] == ["extract.truncated"] and doc.meta["truncated"]
    assert doc.segments[0].text == "秘密★1年"
    assert "\ufffd" not in doc.segments[-1].text and "结尾标记" not in doc.segments[-1].text


def test_xlsx_generated_names_that_only_point_at_cells_are_not_read(tmp_path):
    """A query table's hidden ExternalData_1 pointing at its range is written by Excel, not by a
    person: not read (it was a medium hidden.text in a student's chart workbook). The same generated
    name holding text, and a name a person gave pointing at cells, are still read."""
    from openpyxl import Workbook
    from openpyxl.workbook.defined_name import DefinedName
    from scanner.extract.xlsx import CELL_REFERENCE
    wb = Workbook()
    wb.active.title = "1 (3)"
    wb.active["A1"] = "月份"
    for name, text in (("ExternalData_1", "'1 (3)'!$A$1:$D$38"), ("ExternalData_2", "\"内部测算口径\""),
                       ("汇总区", "'1 (3)'!$A$1:$B$12")):
        wb.defined_names[name] = DefinedName(name, attr_text=text, hidden=name.startswith("External"))
    p = tmp_path / "q.xlsx"
    wb.save(p)
    names = {s.locator.get("name"): s for s in extract(p).segments if s.locator.get("kind") == "defined_name"}
    assert set(names) == {"ExternalData_2", "汇总区"}
    assert names["ExternalData_2"].layer == "hidden"
    for ref in ("'1 (3)'!$A$1:$D$38", "Sheet1!$A:$A", "=Sheet1!$B$2,Sheet1!$D$2:$D$9", "#REF!", "'O''Brien'!$1:$1"):
        assert CELL_REFERENCE.match(ref), ref
    for text in ("\"内部测算口径\"", "=SUM(Sheet1!A1:A9)", "0.17"):
        assert not CELL_REFERENCE.match(text), text
