"""Redacted copies, the harder cases (issue 15): PDF pages with /Rotate (the boxes land on the
redacted characters, checked on the pixels against a render of the same page without them),
embedded files in docx, xlsx and PDF (removed: no redacted character can be read from any part,
raw bytes included), and the copy's properties cleaned. Every copy is read back with an
independent reader (pdfplumber, python-docx, openpyxl, unzip) and re-scanned."""
from __future__ import annotations

import ctypes
import io
import zipfile

import pytest

from scanner.engine import Scanner
from scanner.redact import redact_bytes, remaining
from scanner.redact.package import REMOVED_TEXT
from support.zipread import every_member as _every_member
from support.zipread import nothing_readable as _nothing_readable
from support.zipread import rewrite as _rewrite

PHONE = "13812345678"
ID = "330106197904082160"            # synthetic, valid GB 11643 check digit
SCALE = 2.0


# -- PDF pages with /Rotate ----------------------------------------------------------------------
def _pdf(with_phone: bool = True, with_public: bool = True, rotate: int = 0, author: str = "") -> bytes:
    """One A4 page: a label, the mobile number drawn on its own at x=240, a public line below;
    /Rotate set afterwards by pdfium (the content stream stays as drawn)."""
    import pypdfium2 as pdfium
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    if author:
        c.setAuthor(author)
        c.setTitle("内部审阅稿")
    c.setFont("STSong-Light", 14)
    c.drawString(72, 700, "申请人联系电话")
    if with_phone:
        c.drawString(240, 700, PHONE)
    if with_public:
        c.drawString(72, 640, "公开内容：社区活动安排")
    c.showPage()
    c.save()
    if not rotate:
        return buf.getvalue()
    pdf = pdfium.PdfDocument(buf.getvalue())
    pdf[0].set_rotation(rotate)
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def _gray(data: bytes):
    import numpy as np
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(data)
    try:
        return np.asarray(pdf[0].render(scale=SCALE).to_pil().convert("L"), dtype=np.int16)
    finally:
        pdf.close()


def _ink(full, without):
    """Pixels inked in `full` that are not in `without`: where the left-out text is drawn."""
    h, w = min(full.shape[0], without.shape[0]), min(full.shape[1], without.shape[1])
    return (full[:h, :w] < 128) & (without[:h, :w] > 200)


def _pdfplumber_chars(data: bytes) -> tuple[str, int]:
    import pdfplumber
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "".join(p.extract_text() or "" for p in pdf.pages), sum(len(p.chars) for p in pdf.pages)


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_rotated_pdf_page_boxes_cover_the_redacted_characters(light, rotate):
    data = _pdf(rotate=rotate)
    before = light.scan_bytes(data, "r.pdf")
    assert [f.category for f in before.findings if f.category.startswith("pii.")] == ["pii.phone"]
    red = redact_bytes(data, before)
    assert red.unplaced == 0
    full, copy = _gray(data), _gray(red.data)
    assert abs(full.shape[0] - copy.shape[0]) <= 2 and abs(full.shape[1] - copy.shape[1]) <= 2   # same view, upright
    h, w = min(full.shape[0], copy.shape[0]), min(full.shape[1], copy.shape[1])
    phone = _ink(full, _gray(_pdf(with_phone=False, rotate=rotate)))
    public = _ink(full, _gray(_pdf(with_public=False, rotate=rotate)))
    assert phone.sum() > 200 and public.sum() > 200
    # every pixel of the number is under the box; the public line keeps its white background
    assert (copy[:h, :w][phone[:h, :w]] < 64).all()
    ys, xs = public[:h, :w].nonzero()
    region = copy[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    assert (region > 200).mean() > 0.5
    text, chars = _pdfplumber_chars(red.data)
    assert text == "" and chars == 0                      # no text layer left to extract
    assert PHONE.encode() not in red.data
    assert remaining(light.scan_bytes(red.data, "c.pdf")) == []


def test_pdf_copy_keeps_no_properties_and_no_attachment(light):
    import pypdfium2 as pdfium
    import pypdfium2.raw as R
    pdf = pdfium.PdfDocument(_pdf(author="张三"))
    wname = ctypes.create_string_buffer("名单.txt".encode("utf-16-le") + b"\x00\x00")
    att = R.FPDFDoc_AddAttachment(pdf.raw, ctypes.cast(wname, R.FPDF_WIDESTRING))
    inner = f"身份证{ID}".encode()
    assert R.FPDFAttachment_SetFile(att, pdf.raw, inner, len(inner))
    buf = io.BytesIO()
    pdf.save(buf)
    pdf.close()
    data = buf.getvalue()
    before = light.scan_bytes(data, "a.pdf")
    inside = [f for f in before.findings if f.category == "pii.id_card"]
    assert inside and inside[0].location["member"] == "名单.txt"
    red = redact_bytes(data, before)
    assert red.unplaced == 0
    out = pdfium.PdfDocument(red.data)
    try:
        assert R.FPDFDoc_GetAttachmentCount(out.raw) == 0
        meta = out.get_metadata_dict()
        assert not any(v for k, v in meta.items() if k in ("Author", "Title", "Subject", "Keywords", "Creator")), meta
    finally:
        out.close()
    for s in (ID, PHONE, "张三", "内部审阅稿", "名单"):
        assert s.encode() not in red.data and s.encode("utf-16-be") not in red.data, s
    import pdfplumber
    with pdfplumber.open(io.BytesIO(red.data)) as p:
        assert not p.doc.catalog.get("Names") and not p.annots
        assert "张三" not in str(p.metadata)
    after = light.scan_bytes(red.data, "b.pdf")
    assert remaining(after) == [] and not [f for f in after.findings if f.category.startswith("hidden.")]


# -- embedded files in docx and xlsx --------------------------------------------------------------
def _xlsx_with(cells: dict[str, str]) -> bytes:
    import openpyxl
    wb = openpyxl.Workbook()
    for ref, v in cells.items():
        wb.active[ref] = v
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_OLE_RUN = ('<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
            'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<w:object w:dxaOrig="1440" w:dyaOrig="960"><v:shape id="_x0000_i1025" type="#_x0000_t75" '
            'style="width:72pt;height:48pt"><v:imagedata r:id="rIdPrev" o:title=""/></v:shape>'
            '<o:OLEObject Type="Embed" ProgID="Excel.Sheet.12" ShapeID="_x0000_i1025" DrawAspect="Icon" '
            'ObjectID="_1" r:id="rIdOle"/></w:object></w:r>')


def _docx_with_embedded_workbook() -> bytes:
    """A docx (python-docx) with an embedded workbook holding a phone and an ID number, its preview
    picture, and the same run structure Word writes (w:object > v:shape + o:OLEObject)."""
    from docx import Document
    from docx.oxml import parse_xml
    d = Document()
    d.core_properties.author = "张三"
    d.core_properties.comments = "内部审阅"
    d.add_paragraph("附表如下：")
    p = d.add_paragraph()
    p._p.append(parse_xml(_OLE_RUN))
    d.add_paragraph("公开内容。")
    buf = io.BytesIO()
    d.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    rels_extra = ('<Relationship Id="rIdOle" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/package" '
                  'Target="embeddings/Microsoft_Excel_Worksheet.xlsx"/>'
                  '<Relationship Id="rIdPrev" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" '
                  'Target="media/preview1.png"/>')
    from PIL import Image
    png = io.BytesIO()
    Image.new("RGB", (96, 64), "white").save(png, "PNG")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "word/_rels/document.xml.rels":
                body = body.replace(b"</Relationships>", rels_extra.encode() + b"</Relationships>")
            if info.filename == "[Content_Types].xml":
                extra = b'<Default Extension="xlsx" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"/>'
                if b'Extension="png"' not in body:
                    extra += b'<Default Extension="png" ContentType="image/png"/>'
                body = body.replace(b"</Types>", extra + b"</Types>")
            z.writestr(info.filename, body)
        z.writestr("word/embeddings/Microsoft_Excel_Worksheet.xlsx",
                   _xlsx_with({"A1": "联系人手机", "B1": PHONE, "A2": "身份证号", "B2": ID}))
        z.writestr("word/media/preview1.png", png.getvalue())
    return out.getvalue()


def test_docx_embedded_workbook_is_removed_and_properties_cleaned(light):
    import docx
    data = _docx_with_embedded_workbook()
    before = light.scan_bytes(data, "e.docx")
    nested = [f for f in before.findings if (f.location or {}).get("member", "").startswith("word/embeddings/")]
    assert {"pii.phone", "pii.id_card"} <= {f.category for f in nested}
    red = redact_bytes(data, before)
    members = _every_member(red.data)
    assert not [n for n in members if n.startswith("word/embeddings/")]
    assert "word/media/preview1.png" not in members                      # its preview goes with it
    assert b"rIdOle" not in members["word/_rels/document.xml.rels"] and b"OLEObject" not in members["word/document.xml"]
    _nothing_readable(red.data, (PHONE, ID, "张三", "内部审阅"))
    d = docx.Document(io.BytesIO(red.data))                                # opens; the place says what went
    texts = [p.text for p in d.paragraphs]
    assert texts == ["附表如下：", REMOVED_TEXT, "公开内容。"]
    assert d.core_properties.author == "" and d.core_properties.comments == ""
    after = light.scan_bytes(red.data, "r.docx")
    assert after.errors == [] and remaining(after) == []
    assert not [f for f in after.findings if f.category == "hidden.metadata"]


def test_xlsx_embedded_document_is_removed(light):
    import openpyxl
    from docx import Document
    inner = Document()
    inner.add_paragraph(f"联系人手机{PHONE}，身份证号{ID}")
    ib = io.BytesIO()
    inner.save(ib)
    wb = openpyxl.Workbook()
    wb.active["A1"] = "公开数据"
    wb.properties.creator = "张三"
    buf = io.BytesIO()
    wb.save(buf)
    data = _rewrite(buf.getvalue(), {
        "xl/worksheets/sheet1.xml": lambda body: body.replace(b"</worksheet>", (
            b'<oleObjects><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/'
            b'markup-compatibility/2006"><mc:Choice Requires="x14"><oleObject progId="Word.Document.12" '
            b'shapeId="1025" r:id="rIdDoc" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships"/></mc:Choice></mc:AlternateContent></oleObjects></worksheet>')),
        "[Content_Types].xml": lambda body: body.replace(b"</Types>", (
            b'<Default Extension="docx" ContentType="application/vnd.openxmlformats-'
            b'officedocument.wordprocessingml.document"/></Types>'))},
        add={"xl/worksheets/_rels/sheet1.xml.rels":
             '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
             'openxmlformats.org/package/2006/relationships"><Relationship Id="rIdDoc" Type="http://schemas.'
             'openxmlformats.org/officeDocument/2006/relationships/package" '
             'Target="../embeddings/Microsoft_Word_Document.docx"/></Relationships>',
             "xl/embeddings/Microsoft_Word_Document.docx": ib.getvalue()})
    before = light.scan_bytes(data, "e.xlsx")
    assert {"pii.phone", "pii.id_card"} <= {f.category for f in before.findings
                                            if (f.location or {}).get("member", "").startswith("xl/embeddings/")}
    red = redact_bytes(data, before)
    members = _every_member(red.data)
    assert not [n for n in members if n.startswith("xl/embeddings/")]
    assert b"oleObject" not in members["xl/worksheets/sheet1.xml"]          # no empty <oleObjects> left either
    _nothing_readable(red.data, (PHONE, ID, "张三"))
    ws = openpyxl.load_workbook(io.BytesIO(red.data)).active
    assert ws["A1"].value == "公开数据"
    after = light.scan_bytes(red.data, "r.xlsx")
    assert after.errors == [] and remaining(after) == []


def test_rotated_scanned_pdf_boxes_from_the_ocr_pixels():
    """A scan placed sideways on the paper with /Rotate 90 to show it upright: OCR reads the upright
    render and gives pixel boxes only (no PDF-point box on a rotated page); the boxes land on the
    name and the number in the copy, which OCR then cannot read, while the rest still reads."""
    import pypdfium2 as pdfium
    from PIL import Image
    from support.pictures import PRIVATE_MOBILE, page, scanned_pdf
    pdf = pdfium.PdfDocument(scanned_pdf([page(PRIVATE_MOBILE).transpose(Image.Transpose.ROTATE_90)]))
    pdf[0].set_rotation(90)
    buf = io.BytesIO()
    pdf.save(buf)
    pdf.close()
    data = buf.getvalue()
    full = Scanner()
    before = full.scan_bytes(data, "s.pdf")
    found = {f.category: f for f in before.findings}
    assert {"pii.phone", "pii.name"} <= set(found) and "bbox" not in found["pii.phone"].location
    red = redact_bytes(data, before)
    assert red.unplaced == 0
    after = full.scan_bytes(red.data, "r.pdf")
    assert remaining(after) == []
    seen = "\n".join(s.text for s in after.segments)
    for s in ("13812345678", "王建国", "王建", "建国"):
        assert s not in seen, s
    assert "特此通报" in seen and "春节期间安全生产" in seen


FOLDER = "C:\\Users\\zhangsan\\Desktop\\内部\\"


def test_saved_in_folders_are_cleaned_from_docx_and_xlsx(light):
    """Word's attached template path and Excel's absPath name the author's folders: gone from the copy."""
    import docx
    import openpyxl
    d = docx.Document()
    d.add_paragraph(f"联系电话 {PHONE}")
    buf = io.BytesIO()
    d.save(buf)
    rel = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/'
           'package/2006/relationships"><Relationship Id="rIdT" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
           f'relationships/attachedTemplate" Target="file:///{FOLDER}Normal.dotm" TargetMode="External"/></Relationships>')
    data = _rewrite(buf.getvalue(), {"word/settings.xml": lambda b: b.replace(
        b"<w:defaultTabStop", b'<w:attachedTemplate r:id="rIdT"/><w:defaultTabStop', 1)},
        {"word/_rels/settings.xml.rels": rel})
    assert b"attachedTemplate" in _every_member(data)["word/settings.xml"]
    red = redact_bytes(data, light.scan_bytes(data, "t.docx"))
    _nothing_readable(red.data, ("zhangsan", PHONE))
    assert docx.Document(io.BytesIO(red.data)).paragraphs[0].text == "联系电话 " + "■" * 11

    wb = openpyxl.Workbook()
    wb.active["A1"] = f"联系电话 {PHONE}"
    buf = io.BytesIO()
    wb.save(buf)
    abs_path = ('<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
                '<mc:Choice Requires="x15"><x15ac:absPath xmlns:x15ac="http://schemas.microsoft.com/office/'
                f'spreadsheetml/2010/11/ac" url="{FOLDER}"/></mc:Choice></mc:AlternateContent>')
    data = _rewrite(buf.getvalue(), {"xl/workbook.xml": lambda b: b.replace(b"<bookViews>", abs_path.encode() + b"<bookViews>", 1)})
    assert b"zhangsan" in _every_member(data)["xl/workbook.xml"]
    red = redact_bytes(data, light.scan_bytes(data, "t.xlsx"))
    _nothing_readable(red.data, ("zhangsan", PHONE))
    assert openpyxl.load_workbook(io.BytesIO(red.data)).active["A1"].value == "联系电话 " + "■" * 11


def _blank(kind: str) -> bytes:
    """A docx or xlsx (python-docx / openpyxl) with one public line."""
    buf = io.BytesIO()
    if kind == "docx":
        import docx
        d = docx.Document()
        d.add_paragraph("公开内容。")
        d.save(buf)
    else:
        import openpyxl
        wb = openpyxl.Workbook()
        wb.active["A1"] = "公开内容。"
        wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_custom_xml_data_is_redacted_too(light, kind):
    """A cover page's bound properties live in customXml/itemN.xml (company phone, e-mail): the
    scanner reads them as properties, and the copy masks them there as well (one code for both
    formats: scanner.redact.package.common_part)."""
    item = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><CoverPageProperties xmlns="http://schemas.microsoft.com/'
            f'office/2006/coverPageProps"><CompanyPhone>{PHONE}</CompanyPhone><CompanyEmail>wangxm@example.com</CompanyEmail>'
            '</CoverPageProperties>')
    data = _rewrite(_blank(kind), {}, {"customXml/item9.xml": item})
    before = light.scan_bytes(data, f"c.{kind}")
    assert {"pii.phone", "pii.email"} <= {f.category for f in before.findings}
    red = redact_bytes(data, before)
    _nothing_readable(red.data, (PHONE, "wangxm@example.com"))
    assert b"<CompanyPhone>" in _every_member(red.data)["customXml/item9.xml"]      # the binding stays, masked
    assert remaining(light.scan_bytes(red.data, f"r.{kind}")) == []
