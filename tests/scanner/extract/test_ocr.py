"""OCR of pictures and scans (issue 11), on files made here with a real CJK font and read by the
real engine (rapidocr-onnxruntime, PP-OCRv4): what a reader sees is read, or the draft goes to
review with a stable code naming the page."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.engine import Scanner
from scanner.extract import extract_bytes
from scanner.extract.ocr import OcrOptions
from support.pictures import (CLEAN_NOTICE, MARKED_NOTICE, PRIVATE_MOBILE, docx_with_picture, encode, page,
                              pptx_with_picture, scanned_pdf, xlsx_with_picture)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def marked_png():
    return encode(page(MARKED_NOTICE))


def _cats(report):
    return {f.category for f in report.findings}


def _codes(report):
    return {e.code for e in report.errors}


def test_image_only_pdf_with_a_marking_on_page_one_blocks(full, light):
    data = scanned_pdf([page(MARKED_NOTICE), page(CLEAN_NOTICE)])
    rep = full.scan_bytes(data, "scan.pdf")
    assert rep.decision == "block", rep.errors
    mark = next(f for f in rep.findings if f.category == "marking.level")
    assert mark.layer == "ocr" and mark.location["page"] == 1 and mark.location["kind"] == "scan"
    x0, y0, x1, y1 = mark.location["box"]          # pixels of the 200 dpi render, where the mark was drawn
    assert 120 <= x0 < 200 and 130 <= y0 < 200 and x1 > x0 + 100
    bx0, by0, bx1, by1 = mark.location["bbox"]     # PDF points, y up: near the top of an A4 page
    assert by1 > 700 and bx0 < 80
    assert "图片文字识别" in mark.explanation and "置信度" in mark.explanation
    assert rep.errors == []
    # light mode: no OCR, never pass; the message names the pages
    lrep = light.scan_bytes(data, "scan.pdf")
    assert lrep.decision == "review" and "extract.ocr_unavailable" in _codes(lrep)
    msg = next(e.message for e in lrep.errors if e.code == "extract.ocr_unavailable")
    assert "第 1–2 页" in msg and "轻量模式" in msg


def test_png_and_jpeg_pages_with_a_private_mobile_go_to_review(full, light):
    img = page(PRIVATE_MOBILE)
    for name, data in (("notice.png", encode(img)), ("notice.jpg", encode(img, "JPEG", quality=85))):
        rep = full.scan_bytes(data, name)
        assert rep.decision == "review", name
        phone = next(f for f in rep.findings if f.category == "pii.phone")
        assert phone.layer == "ocr" and phone.text == "13812345678"
        # the finding's box is narrowed to the number, inside its line
        line = next(s for s in rep.segments if s.id == phone.segment_id)
        assert line.locator["box"][0] <= phone.location["box"][0] < phone.location["box"][2] <= line.locator["box"][2]
        assert phone.location["box"][0] > line.locator["box"][0] + 200
        assert rep.errors == []
        lrep = light.scan_bytes(data, name)
        assert lrep.decision == "review" and _codes(lrep) == {"extract.ocr_unavailable"}


@pytest.mark.parametrize("kind", ["docx", "pptx", "xlsx"])
def test_office_file_embedding_a_picture_of_a_marked_page_blocks(kind, full, light, marked_png):
    body = ["关于举办读书月活动的通知", "市图书馆将举办系列讲座，欢迎参加。"]
    data = {"docx": lambda: docx_with_picture(body, marked_png),
            "pptx": lambda: pptx_with_picture(body[0], marked_png),
            "xlsx": lambda: xlsx_with_picture(body, marked_png)}[kind]()
    rep = full.scan_bytes(data, f"draft.{kind}")
    assert rep.decision == "block"
    mark = next(f for f in rep.findings if f.category == "marking.level")
    assert mark.layer == "ocr" and mark.location["image"].endswith(".png") and "/media/" in mark.location["image"]
    assert mark.location["kind"] == "embedded_image"
    lrep = light.scan_bytes(data, f"draft.{kind}")
    assert lrep.decision == "review" and "extract.ocr_unavailable" in _codes(lrep)
    assert "嵌入图片" in next(e.message for e in lrep.errors if e.code == "extract.ocr_unavailable")


def test_small_and_repeated_pictures_are_not_read(full, marked_png):
    """The size rule skips logos and icons; the same picture twice is read once."""
    from PIL import Image
    logo = encode(Image.new("RGB", (100, 100), (200, 0, 0)))
    from docx import Document
    from docx.shared import Cm
    d = Document()
    d.add_paragraph("公开正文")
    for pic in (logo, marked_png, marked_png):
        d.add_picture(io.BytesIO(pic), width=Cm(5))
    buf = io.BytesIO()
    d.save(buf)
    doc = extract_bytes(buf.getvalue(), "a.docx")
    assert doc.meta["ocr_images"] == 1
    assert sum(1 for s in doc.segments if s.layer == "ocr" and s.text == "秘密★5年") == 1


def _mojibake_pdf(lines: list[str], picture=None) -> bytes:
    """A page whose text layer is GBK bytes shown through a Latin font (invisible text over the
    scan, as a broken scanner writes it); picture: the page image under it (None: no image)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    if picture is not None:
        c.drawImage(ImageReader(picture), 0, 0, w, h)
    t = c.beginText()
    t.setTextRenderMode(3)
    t.setFont("Helvetica", 12)
    for i, line in enumerate(lines):
        t.setTextOrigin(54, h - 60 - i * 32)
        t.textOut(line.encode("gbk").decode("cp1252", errors="replace"))
    c.drawText(t)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_mojibake_text_layer_over_a_marked_page_blocks_through_ocr(full, light):
    data = _mojibake_pdf(MARKED_NOTICE, page(MARKED_NOTICE))
    rep = full.scan_bytes(data, "broken.pdf")
    assert rep.decision == "block"
    assert any(f.category == "marking.level" and f.layer == "ocr" for f in rep.findings)
    # OCR read the page (text on it, at good confidence): the broken layer is an info note, not an
    # error (the page was read as a scan is)
    assert "extract.garbled_text" not in _codes(rep)
    read = [n for n in rep.notes if n.code == "extract.garbled_read"]
    assert len(read) == 1 and "第 1 页" in read[0].message and "文字识别" in read[0].message
    # the garbled layer is replaced: none of its lines is scanned as body text
    assert not [s for s in rep.segments if s.layer == "body"]
    lrep = light.scan_bytes(data, "broken.pdf")
    assert lrep.decision == "review" and {"extract.garbled_text", "extract.ocr_unavailable"} <= _codes(lrep)


def test_a_garbled_layer_over_a_clean_page_read_by_ocr_passes_and_fails_closed_without_ocr(full, light):
    """The garbled layer's fallback: the page is rendered and OCR'd; with text read on it at good
    confidence the file is judged by what the page shows (a clean notice passes, an extract.garbled_read
    note says how it was read). Without OCR (light mode) the page stays unread: extract.garbled_text, review."""
    data = _mojibake_pdf(CLEAN_NOTICE, page(CLEAN_NOTICE))
    rep = full.scan_bytes(data, "broken.pdf")
    assert rep.decision == "pass", (rep.decision_reasons, _codes(rep))
    assert [n.code for n in rep.notes] == ["extract.garbled_read"]
    assert any("春节期间安全生产" in s.text for s in rep.segments if s.layer == "ocr")
    lrep = light.scan_bytes(data, "broken.pdf")
    assert lrep.decision == "review" and "extract.garbled_text" in _codes(lrep)
    assert not [n for n in lrep.notes if n.code == "extract.garbled_read"]


def test_a_garbled_page_whose_small_print_ocr_cannot_read_is_not_fully_read(full):
    """A garbled layer that draws far more characters than OCR read on the rendered page (small print
    at the foot, a private person's mobile in it, too small to make out): the page was not fully read,
    so it is extract.garbled_incomplete (review, the pages and the figures named), never the
    garbled_read note that lets the file pass on the few lines OCR did read."""
    from scanner.extract.pdf import GARBLED_COVERAGE
    from support.pictures import font
    small = [f"附件{i + 1}：经查，村民王建国（手机13812345678）反映的问题属实，已登记在册并转交有关部门核实处理。"
             for i in range(40)]
    img = page(CLEAN_NOTICE)
    from PIL import ImageDraw
    d, f = ImageDraw.Draw(img), font(7)
    for i, line in enumerate(small):
        d.text((150, 1200 + i * 9), line, font=f, fill=(0, 0, 0))
    rep = full.scan_bytes(_mojibake_pdf(CLEAN_NOTICE + small, img), "broken.pdf")
    short = [e for e in rep.errors if e.code == "extract.garbled_incomplete"]
    assert rep.decision == "review" and len(short) == 1, (rep.decision, _codes(rep))
    assert "第 1 页" in short[0].message and "未完整读取" in short[0].message
    read, drawn = (int(x) for x in short[0].detail.rsplit(" ", 1)[1].split("/"))
    assert read < GARBLED_COVERAGE * drawn
    assert not [n for n in rep.notes if n.code == "extract.garbled_read"]
    assert "extract.garbled_text" not in _codes(rep)            # the page was rendered and OCR'd


def _unmapped_pdf(lines: list[str], small: list[str]) -> bytes:
    """A page drawn in an embedded CJK font whose ToUnicode map was taken out (what a broken
    converter writes): every CJK glyph extracts as a control character, and pdfium flags its
    map error (an "unmapped" layer). `lines` at 14 pt, `small` at 2.5 pt under them."""
    import re
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas
    from support.pictures import FONT
    pdfmetrics.registerFont(TTFont("ZenHeiTest", str(FONT), subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=0)
    w, h = A4
    c.setFont("ZenHeiTest", 14)
    for i, line in enumerate(lines):
        c.drawString(60, h - 80 - i * 28, line)
    c.setFont("ZenHeiTest", 2.5)
    for i, line in enumerate(small):
        c.drawString(60, h - 80 - len(lines) * 28 - 20 - i * 3.2, line)
    c.showPage()
    c.save()
    data, n = re.subn(rb"/ToUnicode \d+ 0 R", b"", buf.getvalue())
    assert n
    return data


def test_an_unmapped_page_whose_small_print_ocr_cannot_read_is_not_fully_read(full):
    """The coverage rule holds for an "unmapped" layer (a font without its Unicode map) as for
    mojibake: OCR read the notice's large print but not the 2.5 pt lines under it (a private
    person's mobile in them), and the layer cannot tell them either (its CJK glyphs are control
    characters), so the page is extract.garbled_incomplete (review), not the garbled_read note."""
    from scanner.extract.pdf import GARBLED_COVERAGE
    from scanner.extract.textlayer import problem
    small = [f"附件{i + 1}：经查，村民王建国（手机13812345678）反映的问题属实，已登记在册并转交有关部门核实处理。"
             for i in range(40)]
    data = _unmapped_pdf(CLEAN_NOTICE, small)
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(data)
    text = pdf[0].get_textpage().get_text_bounded()
    assert problem(text) == "unmapped" and "村民王建国" not in text and "春节" not in text
    pdf.close()
    rep = full.scan_bytes(data, "unmapped.pdf")
    short = [e for e in rep.errors if e.code == "extract.garbled_incomplete"]
    assert rep.decision == "review" and len(short) == 1, (rep.decision, _codes(rep))
    read, drawn = (int(x) for x in short[0].detail.rsplit(" ", 1)[1].split("/"))
    assert 0 < read < GARBLED_COVERAGE * drawn
    assert any("春节期间安全生产" in s.text for s in rep.segments if s.layer == "ocr")
    assert not [n for n in rep.notes if n.code == "extract.garbled_read"]
    # the same notice without the small print: OCR read what the layer draws, the page is read
    rep = full.scan_bytes(_unmapped_pdf(CLEAN_NOTICE, []), "unmapped.pdf")
    assert rep.decision == "pass", (rep.decision_reasons, _codes(rep))
    assert [n.code for n in rep.notes] == ["extract.garbled_read"]


def test_ocr_corroborates_a_layer_only_when_what_it_read_is_in_the_layer():
    """An "unmapped" layer pdfium still decodes right (a chart's labels, OCR read a fifth of them)
    is kept beside OCR when the pairs of characters OCR read occur in it; a layer of other text, a
    layer of private-use characters, or too little read to judge by is not vouched for."""
    from scanner.extract.pdf import AGREE_MIN_PAIRS, corroborates
    layer = "\n".join(["Hours of audio", "Multilingual Speech Recognition", "0.1 Lao", "0.1Sundanese",
                        "1.0 Haitian Creole", "12 Hindi", "13 Armenian", "24 Persian"] * 5)
    read = ["Hours of audio", "Multilingual Speech Recognition", "1.0Haitian Creole"]
    assert corroborates(read, layer)
    assert corroborates([t.upper() for t in read], layer)                # case aside
    assert not corroborates(["关于做好春节期间安全生产工作的通知", "各区人民政府市政府各部门"], layer)
    assert not corroborates(read, layer + "\ue000" * (len(layer) // 8))       # > 10 % unusable
    short = "Lao Hindi"
    assert len(short) - 2 < AGREE_MIN_PAIRS and not corroborates([short], layer)
    half = ["Hours of audio", "Multilingual Speech Recognition", "安全生产工作通知各区人民政府市政府各部门值班值守带班制度"]
    assert not corroborates(half, layer)


def test_hidden_text_is_not_raised_from_a_garbled_layer(full):
    """Invisible mojibake with nothing under it would be hidden text; from a garbled layer it is not
    evidence of anything (the garbled-text error stays)."""
    rep = full.scan_bytes(_mojibake_pdf(CLEAN_NOTICE), "broken.pdf")
    assert not [f for f in rep.findings if f.category.startswith("hidden.")]
    assert "extract.garbled_text" in _codes(rep) and rep.decision == "review"


@pytest.mark.parametrize("variant", ["plain", "rotated+3", "rotated-3", "jpeg60-grey"])
def test_clean_scanned_notice_with_office_landline_and_hotline_passes(variant, full, light):
    kw = {"plain": {}, "rotated+3": {"rotate": 3}, "rotated-3": {"rotate": -3},
          "jpeg60-grey": {"background": 200, "rotate": 2}}[variant]
    img = page(CLEAN_NOTICE, **kw)
    data = encode(img, "JPEG", quality=60) if "jpeg" in variant else encode(img)
    name = "notice.jpg" if "jpeg" in variant else "notice.png"
    rep = full.scan_bytes(data, name)
    assert rep.decision == "pass", (rep.errors, [(f.category, f.text) for f in rep.findings])
    landline = next(f for f in rep.findings if f.category == "pii.phone")
    assert landline.text == "010-65123456" and landline.severity == "low"
    texts = [s.text for s in rep.segments if s.layer == "ocr"]
    assert "市民服务热线：12345" in texts
    marked = page(MARKED_NOTICE, **kw)
    mdata = encode(marked, "JPEG", quality=60) if "jpeg" in variant else encode(marked)
    assert full.scan_bytes(mdata, name).decision == "block"
    lrep = light.scan_bytes(data, name)
    assert lrep.decision == "review" and _codes(lrep) == {"extract.ocr_unavailable"}


def test_multi_page_tiff_is_read_page_by_page(full):
    frames = [page(CLEAN_NOTICE), page(MARKED_NOTICE)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    rep = full.scan_bytes(buf.getvalue(), "scan.tif")
    assert rep.decision == "block"
    assert next(f for f in rep.findings if f.category == "marking.level").location["page"] == 2


def test_every_picture_format_is_read(full):
    img = page(["秘密★5年", "关于召开会议的通知"], size=(1200, 500), top=60)
    for fmt in ("BMP", "GIF", "WEBP", "PNG"):
        data = encode(img.convert("P") if fmt == "GIF" else img, fmt)
        rep = full.scan_bytes(data, "upload")          # sniffed by content, not by name
        assert rep.media_type.startswith("image/") and rep.decision == "block", (fmt, rep.errors)


def test_ocr_budget_exhausted_names_the_pages_left_unread():
    data = scanned_pdf([page(CLEAN_NOTICE), page(MARKED_NOTICE), page(CLEAN_NOTICE)])
    doc = extract_bytes(data, "scan.pdf", ocr=OcrOptions(budget_s=0.01))
    err = [e for e in doc.errors if e.code == "extract.timeout"]
    assert len(err) == 1 and "第 2–3 页" in err[0].message
    assert any(s.layer == "ocr" and s.locator["page"] == 1 for s in doc.segments)
    # what the budget left unread (here the marked page 2) fails closed: review, never pass
    assert Scanner().scan_document(doc).decision == "review"
    # the budget is per document: nothing of it stays behind for the next extraction
    from scanner.extract.ocr import current
    assert current() is None
    again = extract_bytes(scanned_pdf([page(MARKED_NOTICE)]), "next.pdf")
    assert again.errors == [] and any(s.text == "秘密★5年" for s in again.segments)


def test_unreadable_text_like_regions_are_low_confidence():
    """Text whose strokes are smeared beyond reading: the detector finds text-like regions, the
    recogniser cannot read them -> extract.ocr_low_confidence naming the picture, never pass."""
    from PIL import ImageFilter
    img = page(["关于召开工作会议的通知各单位", "请于本周五前报送参会人员名单"] * 6, size=(1654, 1400), px=44)
    smeared = img.filter(ImageFilter.GaussianBlur(7))
    doc = extract_bytes(encode(smeared), "smeared.png")
    err = [e for e in doc.errors if e.code == "extract.ocr_low_confidence"]
    assert len(err) == 1 and "该图片" in err[0].message, doc.errors
    assert Scanner().scan_document(doc).decision == "review"
    # the same text readable: no error
    assert extract_bytes(encode(img.filter(ImageFilter.GaussianBlur(2))), "sharp.png").errors == []


def _result(*lines):
    from scanner.extract.ocr import OcrLine, OcrResult
    return OcrResult([OcrLine(t, c, (0, 0, 10, 10)) for t, c in lines], 1654, 2339, 0.0)


def test_the_confidence_rule_weighs_characters_of_text_like_lines():
    """The documented rule (scanner/extract/ocr.py), on recognised lines as the engine returns them:
    characters are weighed, not area; patterns (one character repeated) and single characters are
    not text; a picture with a couple of letters read in its texture and nothing usable shows no
    text; a page whose only line is unsure, or a fifth of whose characters could not be used, is low."""
    from scanner.extract.ocr import text_like
    assert [text_like(t) for t in ("III", "1111", "QQQ", "一", "  ", "秘密★5年", "2H2 O")] == [0, 0, 0, 0, 0, 5, 4]
    # symbols are what shapes are read as: a region needs two letters, digits or ideographs to be text
    # (then its punctuation counts with them, as the recogniser read it)
    assert [text_like(t) for t in ("二←", "★日", "——|", "1/1", "Ctrl++", "（507）380-9920")] == [0, 0, 0, 0, 6, 13]
    assert not _result(("★日", 0.547)).low_confidence                       # a badge: a star in a gear ring
    assert not _result(("二←", 0.485), ("二←", 0.906), ("4/10", 0.998)).low_confidence   # toolbar icons
    assert _result(("T4", 0.481), ("↑←", 0.471), ("绝密", 0.999)).low_confidence     # an icon read as T4: unsure
    good = [("关于做好春节期间安全生产工作的通知", 0.97), ("各区人民政府，市政府各部门：", 0.95)]
    assert not _result(*good).low_confidence
    assert not _result(("III", 0.45), ("一", 0.56)).low_confidence            # a stack of boxes
    assert not _result(("砂型", 0.15), ("美", 0.04)).low_confidence            # a photograph's texture
    assert not _result(("出口", 0.46), ("税", 1.0), ("口", 0.91)).low_confidence  # a round seal's picture
    assert _result(("颐品堵M嘘与餐隙吴障", 0.536)).low_confidence              # the only line, unsure
    # one unusable region, small in a large picture (a photograph's texture read as AAMARA at 0.38), shows
    # no text; the same region covering a tenth of the picture, or beside a second one, is unread text
    from scanner.extract.ocr import OcrLine, OcrResult
    assert not OcrResult([OcrLine("AAMARA", 0.38, (0, 0, 86, 25))], 2882, 2047, 0.0).low_confidence
    assert OcrResult([OcrLine("AAMARA", 0.38, (0, 0, 860, 700))], 2882, 2047, 0.0).low_confidence
    assert OcrResult([OcrLine("AAMARA", 0.38, (0, 0, 86, 25)), OcrLine("关于召开", 0.3, (0, 40, 86, 65))],
                     2882, 2047, 0.0).low_confidence
    assert _result(("关于召开", 0.3), ("会议", 0.2)).low_confidence            # 4 characters, none usable
    dropped = _result(*good, *good, ("经查，村民王建国反映的问题属实", 0.45))      # 15 of 77 characters not used
    assert dropped.text_confidence > 0.8 and dropped.low_confidence
    assert not _result(*good, *good, *good, ("经查，村民王建国反映的问题属实", 0.45)).low_confidence    # 15 of 108
    assert not _result(*good, ("富二←", 0.6)).low_confidence                  # a toolbar icon beside print
    mean = _result(("关于召开会议", 0.9), ("请于本周五前报送参会人员名单", 0.62))
    assert round(mean.text_confidence, 3) == round((6 * 0.9 + 14 * 0.62) / 20, 3) and mean.low_confidence


def test_a_toolbar_s_icons_read_as_symbols_are_not_unread_text(full):
    """A reader's toolbar pasted into a manual: the recogniser reads its arrow icons as 不← (one
    of them below 0.5). Symbols do not count as characters, so the picture is read (its 4/10 at
    ~1.0), not unsure; the same toolbar showing a mark still blocks, and one whose icons are read
    as letters and digits (T4) stays unsure: review, never pass."""
    from scanner.extract.ocr import KEEP_CONFIDENCE, recognize, text_like
    from support.pictures import toolbar
    res = recognize(toolbar())
    assert "4/10" in [ln.text for ln in res.lines]
    icons = [ln for ln in res.lines if ln.text != "4/10"]
    assert icons and any(ln.confidence < KEEP_CONFIDENCE for ln in icons)       # the old rule: unsure
    assert all(text_like(ln.text) == 0 for ln in icons) and not res.low_confidence
    rep = full.scan_bytes(docx_with_picture(CLEAN_NOTICE[:3], encode(toolbar())), "manual.docx")
    assert rep.errors == [] and rep.decision == "pass", (rep.errors, rep.decision_reasons)
    marked = full.scan_bytes(docx_with_picture(CLEAN_NOTICE[:3], encode(toolbar("秘密★一年", 30))), "m.docx")
    assert marked.decision == "block"
    unsure = full.scan_bytes(encode(toolbar("绝密", 30)), "toolbar.png")
    assert "extract.ocr_low_confidence" in _codes(unsure) and unsure.decision == "block"


def test_a_picture_of_boxes_is_not_unread_text(full):
    """A page of stacked red boxes (an OFD layout test page): the detector takes each column for a
    tall text region read as II / IIIIII at confidence ~0.5. It is a pattern, not text: a docx with
    that picture beside its clean text passes, with no OCR error (the area rule made it review)."""
    from support.pictures import box_stack
    for img in (box_stack(), box_stack(columns=2), box_stack(boxes=10, top=300)):
        data = docx_with_picture(CLEAN_NOTICE[:3], encode(img))
        rep = full.scan_bytes(data, "layout.docx")
        assert rep.errors == [] and rep.decision == "pass", (rep.errors, rep.decision_reasons)
    # the rule still reads text beside such a picture: a marked notice under the boxes blocks
    assert full.scan_bytes(docx_with_picture(MARKED_NOTICE[:3], encode(box_stack())), "m.docx").decision == "block"


def test_blank_picture_needs_no_reading_but_the_upload_has_no_text(full):
    from PIL import Image
    rep = full.scan_bytes(encode(Image.new("RGB", (800, 600), "white")), "blank.png")
    assert rep.decision == "review" and _codes(rep) == {"extract.no_text"}


def test_metadata_never_counts_as_document_text():
    """A page that shows something (here a grey picture-like block) read without text, whose only
    text is its Producer/Title string, is a document without text (a blank page is another case:
    tests/scanner/extract/test_blank.py)."""
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setTitle("会议纪要")
    c.setAuthor("张三")
    c.setProducer("Scanner Pro 5.0")
    c.setFillGray(0.6)
    c.rect(100, 300, 300, 200, stroke=0, fill=1)
    c.showPage()
    c.save()
    doc = extract_bytes(buf.getvalue(), "scan.pdf")
    assert [s.layer for s in doc.segments] and all(s.layer == "metadata" for s in doc.segments)
    assert [e.code for e in doc.errors] == ["extract.no_text"]


def test_ocr_runs_in_the_sandbox_child_without_network(tmp_path, marked_png):
    """The isolated extraction (the service's and the CLI's default for pictures) reads the picture
    in a child inside a network namespace with no interface but loopback."""
    from scanner.config import SandboxLimits
    from scanner.extract.isolated import extract_isolated
    from scanner.extract.sandbox import netns_prefix
    limits = SandboxLimits()
    prefix = netns_prefix(limits)
    assert prefix, "unshare -rn must work here (the sandbox's network isolation)"
    p = tmp_path / "page.png"
    p.write_bytes(marked_png)
    doc = extract_isolated(p, source="page.png", limits=limits)
    assert doc.errors == [] and any(s.layer == "ocr" and s.text == "秘密★5年" for s in doc.segments)
    # the same namespace, looked at from inside: only the loopback interface exists
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "devs = [l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:]]; "
            "from scanner.extract import extract; d = extract(sys.argv[2]); "
            "print(','.join(devs), any(s.text == '秘密★5年' for s in d.segments))")
    out = subprocess.run(prefix + [sys.executable, "-I", "-c", code, str(ROOT), str(p)], capture_output=True,
                         text=True, timeout=300, check=True).stdout.split()
    assert out == ["lo", "True"]


def _ofd(page_text: str, picture: bytes | None = None) -> bytes:
    from support.ofd import ofd_package
    image = ('<ofd:ImageObject ID="3" ResourceID="4" Boundary="0 0 210 297"/>' if picture else "")
    return ofd_package([f'{image}<ofd:TextObject ID="2"><ofd:TextCode X="0" Y="0">{page_text}</ofd:TextCode>'
                        '</ofd:TextObject>'], parts={"Doc_0/Res/scan.png": picture} if picture else None)


def test_ofd_picture_of_a_marked_page_blocks_and_a_garbled_ofd_page_is_review(full, marked_png):
    rep = full.scan_bytes(_ofd("关于举办读书月活动的通知", marked_png), "a.ofd")
    assert rep.decision == "block"
    assert next(f for f in rep.findings if f.category == "marking.level").location["image"] == "Doc_0/Res/scan.png"
    moj = "关于举办读书月活动的通知，欢迎各界人士参加。".encode("gbk").decode("latin-1")
    rep = full.scan_bytes(_ofd(moj), "b.ofd")
    err = [e for e in rep.errors if e.code == "extract.garbled_text"]
    assert rep.decision == "review" and len(err) == 1 and "OFD pages 1" in err[0].detail


@pytest.mark.parametrize("codes", ["private-use", "replacement"])
def test_an_ofd_page_whose_font_maps_no_characters_is_review_in_full_and_light_mode(codes, full, light):
    """An OFD page whose text codes have no usable mapping (a font's private-use code points, or
    U+FFFD where a converter lost them) cannot be OCR'd in place of its text (there is no renderer
    for OFD text objects): extract.garbled_text naming the page, review, never pass, in either mode."""
    n = len("关于举办读书月活动的通知欢迎各界人士参加")
    text = "".join(chr(0xE000 + i) for i in range(n)) if codes == "private-use" else "\ufffd" * n
    for scanner in (full, light):
        rep = scanner.scan_bytes(_ofd(text), "lost.ofd")
        err = [e for e in rep.errors if e.code == "extract.garbled_text"]
        assert rep.decision == "review" and len(err) == 1 and "OFD pages 1" in err[0].detail, _codes(rep)
        assert "unmapped" in err[0].detail
    # the page's mapped characters are still scanned (OFD's layer is not dropped): a mark among them blocks
    rep = full.scan_bytes(_ofd("秘密★5年 关于召开安全生产工作会议的通知" + text), "mixed.ofd")
    assert rep.decision == "block" and "extract.garbled_text" in _codes(rep)
    assert any(f.category == "marking.level" for f in rep.findings)


def test_batch_progress_line_shows_the_pages_of_a_scan_being_read(tmp_path):
    """The batch's progress line names the OCR page of a multi-page scan while it is read."""
    import io as _io

    from scanner.batch import run_batch
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "scan.pdf").write_bytes(scanned_pdf([page(PRIVATE_MOBILE), page(MARKED_NOTICE),
                                                            page(CLEAN_NOTICE)]))
    stream = _io.StringIO()
    summary = run_batch(str(tmp_path / "in"), tmp_path / "out.jsonl", jobs=1, progress=True, progress_stream=stream,
                        write_summary=False)
    lines = stream.getvalue().splitlines()
    assert any("第 1/3 页" in ln for ln in lines) and any("第 2/3 页" in ln for ln in lines), lines
    assert "页" not in lines[-1].rsplit("|", 1)[-1] and "1/1" in lines[-1]     # the file done: files again
    assert summary.exit_code == 2                                              # the mark on page 2: block


@pytest.mark.parametrize("kind,fmt", [("docx", "emf"), ("pptx", "wmf"), ("xlsx", "emf")])
def test_emf_and_wmf_pictures_are_converted_and_read(kind, fmt, full, light, tmp_path, monkeypatch):
    """A real EMF/WMF drawing (made by LibreOffice) embedded in an Office file: converted by
    LibreOffice, rendered and OCR'd -> the mark blocks; light mode -> review; no converter ->
    extract.ocr_unsupported_image (review), never pass."""
    from support.pictures import metafile, with_metafile
    drawing = metafile(["秘密★5年", "关于召开安全生产工作会议的通知"], fmt)
    body = ["关于举办读书月活动的通知", "市图书馆将举办系列讲座，欢迎参加。"]
    png = encode(page(["占位图片"], size=(600, 300)))
    base = {"docx": lambda: docx_with_picture(body, png), "pptx": lambda: pptx_with_picture(body[0], png),
            "xlsx": lambda: xlsx_with_picture(body, png)}[kind]()
    data = with_metafile(base, drawing, fmt)
    rep = full.scan_bytes(data, f"draft.{kind}")
    assert rep.decision == "block", rep.errors
    mark = next(f for f in rep.findings if f.category == "marking.level")
    assert mark.layer == "ocr" and mark.location["image"].endswith("." + fmt)
    assert mark.location["converted"] == "metafile" and "图片文字识别" in mark.explanation
    assert rep.errors == []
    lrep = light.scan_bytes(data, f"draft.{kind}")
    assert lrep.decision == "review" and "extract.ocr_unavailable" in _codes(lrep)
    # no LibreOffice on the machine: the drawing cannot be read -> review with its own code
    monkeypatch.setenv("PATH", str(tmp_path))
    nrep = full.scan_bytes(data, f"draft.{kind}")
    err = [e for e in nrep.errors if e.code == "extract.ocr_unsupported_image"]
    assert nrep.decision == "review" and len(err) == 1 and "EMF/WMF" in err[0].message
    assert "嵌入图片" in err[0].message


@pytest.mark.parametrize("fmt", ["emf", "wmf"])
def test_emf_and_wmf_uploaded_on_their_own_are_converted_and_read(fmt, full, light, tmp_path, monkeypatch):
    """A real EMF/WMF file (made by LibreOffice) uploaded by itself: sniffed by content (whatever its
    name), converted by LibreOffice and OCR'd -> the mark blocks; a clean drawing passes; light
    mode -> review; no converter -> extract.ocr_unsupported_image (review), never pass."""
    from scanner.extract import formats
    from scanner.extract.sniff import sniff_media_type
    from support.pictures import metafile
    drawing = metafile(["秘密★5年", "关于召开安全生产工作会议的通知"], fmt)
    assert sniff_media_type(drawing, "upload.bin") == {"emf": formats.EMF, "wmf": formats.WMF}[fmt]
    rep = full.scan_bytes(drawing, f"drawing.{fmt}")
    assert rep.decision == "block", rep.errors
    mark = next(f for f in rep.findings if f.category == "marking.level")
    assert mark.layer == "ocr" and mark.location["converted"] == "metafile" and mark.location["page"] == 1
    assert "图片文字识别" in mark.explanation and rep.errors == []
    clean = metafile(["关于举办读书月活动的通知", "欢迎各界人士参加。"], fmt)
    crep = full.scan_bytes(clean, f"notice.{fmt}")
    assert crep.decision == "pass" and any(s.layer == "ocr" for s in crep.segments), crep.errors
    lrep = light.scan_bytes(drawing, f"drawing.{fmt}")
    assert lrep.decision == "review" and "extract.ocr_unavailable" in _codes(lrep)
    monkeypatch.setenv("PATH", str(tmp_path))           # no LibreOffice: review with its own code
    nrep = full.scan_bytes(drawing, f"drawing.{fmt}")
    err = [e for e in nrep.errors if e.code == "extract.ocr_unsupported_image"]
    assert nrep.decision == "review" and len(err) == 1 and "EMF/WMF" in err[0].message, nrep.errors


def _searchable_scan(layer_lines: list[str], picture) -> bytes:
    """A searchable scan as scanners write it: the page picture, and over it an invisible text layer
    (render mode 3) of `layer_lines`, roughly where the lines of a page() are drawn."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    w, h = A4
    c.drawImage(ImageReader(io.BytesIO(encode(picture))), 0, 0, w, h)
    t = c.beginText()
    t.setTextRenderMode(3)
    t.setFont("STSong-Light", 14)
    for i, line in enumerate(layer_lines):
        t.setTextOrigin(54, h - 70 - i * 32)
        t.textOut(line)
    c.drawText(t)
    c.showPage()
    c.save()
    return buf.getvalue()


def _hidden(rep, kind):
    return [f for f in rep.findings if f.category == "hidden.text" and f.location.get("kind") == kind]


def test_searchable_scan_whose_text_layer_differs_from_the_page_is_a_finding(full):
    """A clean invisible text layer over a page that shows 秘密★5年: the mark is found through OCR
    and the disagreement is a hidden-content finding naming the line the layer lacks."""
    rep = full.scan_bytes(_searchable_scan(CLEAN_NOTICE, page(MARKED_NOTICE)), "searchable.pdf")
    assert rep.decision == "block", rep.errors
    mark = next(f for f in rep.findings if f.category == "marking.level" and f.layer == "ocr")
    assert mark.location["page"] == 1 and mark.location["kind"] == "scan"
    diff = _hidden(rep, "ocr_image_only")
    assert len(diff) == 1 and "秘密★5年" in diff[0].text and diff[0].location["page"] == 1
    assert "文字层与图像不符" in diff[0].explanation
    assert not _hidden(rep, "ocr_layer_only")          # everything the layer says is on the page
    # the body layer (the invisible text) is still scanned as the file's text
    assert any(s.layer == "body" and "春节期间" in s.text for s in rep.segments)


def test_searchable_scan_layer_carrying_text_the_page_does_not_show_is_hidden(full):
    layer = CLEAN_NOTICE + ["申请人身份证号110101199001011237"]
    rep = full.scan_bytes(_searchable_scan(layer, page(CLEAN_NOTICE)), "searchable.pdf")
    diff = _hidden(rep, "ocr_layer_only")
    assert len(diff) == 1 and "110101199001011237" in diff[0].text
    assert not _hidden(rep, "ocr_image_only") and rep.decision != "pass"


def test_searchable_scan_whose_layer_matches_the_page_passes(full):
    """The same clean notice in the picture and in its invisible layer: no disagreement, and the
    office landline and hotline pass as on any clean notice."""
    rep = full.scan_bytes(_searchable_scan(CLEAN_NOTICE, page(CLEAN_NOTICE)), "searchable.pdf")
    assert not [f for f in rep.findings if f.category.startswith("hidden.")], rep.findings
    assert rep.errors == [] and rep.decision == "pass"


_OOM_PROBE = r"""
import json, resource, sys
from support.pictures import CLEAN_NOTICE, page
from scanner.extract import ocr
from scanner.extract.sandbox import proc_status_kb
from scanner.model import Document
ocr.engine(1)
img = page(CLEAN_NOTICE)
resource.setrlimit(resource.RLIMIT_AS, (proc_status_kb("VmSize") * 1024 + (200 << 20), resource.RLIM_INFINITY))
doc = Document(source="x", sha256="", media_type="image/png")
ocr.read_into(doc, img, place=("image", ""))
ocr.finish(doc)
print(json.dumps([[e.code, e.message, e.detail] for e in doc.errors], ensure_ascii=False))
"""


def test_ocr_out_of_memory_under_the_sandbox_cap_is_said_as_memory(tmp_path):
    """An A4 page needs a few hundred MB of address space beyond the built engine; under a tighter
    cap onnxruntime raises its own error for the failed allocation (not MemoryError). The page is
    unread (review), and the message says it was the memory limit, not an unexplained failure."""
    import json
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
    r = subprocess.run([sys.executable, "-c", _OOM_PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    errors = json.loads(r.stdout.strip().splitlines()[-1])
    assert [e[0] for e in errors] == ["extract.ocr_unavailable"], errors
    assert "超出内存限制" in errors[0][1] and errors[0][2].startswith("memory: 1 place(s)")


def _snippet(text: str, px: int):
    """A picture cut tight round one line of small print, as a pasted screenshot snippet is."""
    from PIL import Image, ImageDraw
    from support.pictures import font
    f = font(px)
    img = Image.new("RGB", (int(f.getlength(text)) + 2, px + 2), "white")
    ImageDraw.Draw(img).text((1, 0), text, font=f, fill="black")
    return img


@pytest.mark.parametrize("text,px", [("中国网络空间安全", 9), ("内部资料", 12), ("张伟 13572468013", 10)])
def test_a_tight_snippet_of_small_print_is_read_as_its_line(text, px):
    from scanner.extract.ocr import PAD_BELOW_PX, recognize
    img = _snippet(text, px)
    assert min(img.size) < PAD_BELOW_PX
    res = recognize(img)
    assert [line.text for line in res.lines] == [text.replace(" ", "")]
    x0, y0, x1, y1 = res.lines[0].box      # the box is in the picture's own pixels, not the margin's
    assert 0 <= x0 < x1 <= img.width and 0 <= y0 < y1 <= img.height and x1 - x0 > img.width // 2


def test_a_snippet_with_a_private_mobile_goes_to_review(full):
    rep = full.scan_bytes(encode(_snippet("联系人张伟 手机13572468013", 10)), "snippet.png")
    assert rep.decision == "review"
    assert [f.text for f in rep.findings if f.category == "pii.phone"] == ["13572468013"]


def _strip(text: str, px: int, slack: int = 2):
    """A text-line picture cut close round one line of large print, grey on light grey (a
    recognition sample, a cropped banner): taller than a snippet, far wider than tall."""
    from PIL import Image, ImageDraw
    from support.pictures import font
    f = font(px)
    left, top, right, bottom = f.getbbox(text)
    img = Image.new("RGB", (right - left + 2 * slack, bottom - top + 2 * slack), (230, 230, 230))
    ImageDraw.Draw(img).text((slack - left, slack - top), text, font=f, fill=(90, 90, 90))
    return img


@pytest.mark.parametrize("text,px", [("内部资料 请勿外传", 52), ("秘密★一年", 60), ("内部资料 请勿外传", 40),
                                     ("Hello world!你好世界", 30)])
def test_a_text_line_strip_is_read_as_its_whole_line(text, px):
    """Without a margin on its long edges the detector magnified such a strip ~13x and read it as
    pieces (内部 部资料 请勿夕 刀外传; 秘密 年 with the ★ and 一 lost)."""
    from scanner.extract.ocr import PAD_BELOW_PX, STRIP_ASPECT, recognize, strip_margin
    img = _strip(text, px)
    assert PAD_BELOW_PX <= min(img.size) and img.width > 4 * img.height
    pad_x, pad_y = strip_margin(img.size)
    assert pad_x == 0 and img.width <= STRIP_ASPECT * (img.height + 2 * pad_y) <= img.width + 2 * STRIP_ASPECT
    res = recognize(img)
    assert ["".join(line.text.split()) for line in res.lines] == ["".join(text.split())]
    x0, y0, x1, y1 = res.lines[0].box      # in the picture's own pixels, not the margin's
    assert 0 <= x0 < x1 <= img.width and 0 <= y0 < y1 <= img.height and x1 - x0 > img.width * 3 // 4


def test_only_strips_get_the_strip_margin():
    """A page, a photograph, a long screenshot and a small square picture are OCR'd as they are;
    a tall one-line strip gets its margin left and right; a snippet its margin all round, which
    leaves no strip, and a 10,000 x 20 px strip is not made a picture of 10,000 px each way."""
    from scanner.extract.ocr import MAX_SIDE, PAD_MAX_PX, snippet_margin, strip_margin
    for size in ((905, 1280), (640, 480), (276, 1280), (259, 133), (400, 160)):
        assert snippet_margin(size) == 0 and strip_margin(size) == (0, 0), size
    assert strip_margin((48, 400)) == (76, 0) and strip_margin((1280, 100)) == (0, 270)
    assert snippet_margin((74, 11)) == 74 and strip_margin((74 + 148, 11 + 148)) == (0, 0)
    assert snippet_margin((10_000, 20)) == PAD_MAX_PX
    w, h = round(10_512 * MAX_SIDE / 10_512), round(532 * MAX_SIDE / 10_512)     # after MAX_SIDE
    assert strip_margin((w, h)) == (0, 288) and h + 2 * 288 <= MAX_SIDE


def test_the_margin_is_the_commonest_edge_colour_not_the_edge_repeated():
    """A stroke cut by the picture's edge is not smeared outwards across the margin."""
    from PIL import Image
    from scanner.extract.ocr import _with_margin
    img = Image.new("RGB", (40, 10), (240, 240, 240))
    for y in range(10):
        img.putpixel((20, y), (0, 0, 0))       # a stroke from edge to edge
    out = _with_margin(img, 3, 5)
    assert out.size == (46, 20)
    assert out.getpixel((23, 0)) == (240, 240, 240) and out.getpixel((23, 19)) == (240, 240, 240)
    assert out.getpixel((23, 5)) == (0, 0, 0) and out.getpixel((0, 5)) == (240, 240, 240)


def _spaced(text: str, gap: int, px: int = 80):
    """One line set with wide letter-spacing: each character `gap` px after the one before."""
    from PIL import Image, ImageDraw
    from support.pictures import font
    f = font(px)
    img = Image.new("RGB", (120 + len(text) * (px + gap), px + 120), "white")
    d = ImageDraw.Draw(img)
    for i, ch in enumerate(text):
        d.text((60 + i * (px + gap), 50), ch, font=f, fill="black")
    return img


@pytest.mark.parametrize("text,gap", [("机密", 60), ("机密", 200), ("绝密★一年", 90), ("秘密", 150)])
def test_a_mark_set_with_wide_letter_spacing_is_read_as_one_line_and_blocks(text, gap, full):
    """The detector cuts a spaced line into one region per character, each read at ~1.0 on its
    own: 机 and 密 as two lines, in which no rule saw 机密 (the picture passed). Pieces on one row
    are one line (ocr.join_rows)."""
    from scanner.extract.ocr import recognize
    img = _spaced(text, gap)
    lines = [ln.text for ln in recognize(img).lines]
    assert any(ln.startswith(text[:2]) for ln in lines), lines
    rep = full.scan_bytes(encode(img), "mark.png")
    assert rep.decision == "block" and "marking.level" in _cats(rep), rep.decision_reasons


def test_pieces_of_a_row_are_joined_and_other_lines_are_left_as_read():
    from scanner.extract.ocr import OcrLine, join_rows
    spaced = [OcrLine("机", 1.0, (60, 50, 140, 130)), OcrLine("正文第一行", 0.9, (60, 300, 600, 340)),
              OcrLine("密", 0.8, (260, 52, 340, 131))]
    joined = join_rows(spaced)
    assert [ln.text for ln in joined] == ["机密", "正文第一行"]
    assert joined[0].box == (60, 50, 340, 131) and abs(joined[0].confidence - 0.9) < 1e-9
    # Latin pieces keep a space between them; a piece read as nothing is left alone
    assert [ln.text for ln in join_rows([OcrLine("Q", 0.9, (0, 0, 30, 30)), OcrLine("", 0.0, (35, 0, 60, 30)),
                                         OcrLine("A", 0.9, (70, 0, 100, 30))])] == ["Q A", ""]
    # table cells, columns or tiles of words, a piece of another height, one far off: not joined
    cells = [OcrLine("项目名称", 0.99, (0, 0, 160, 40)), OcrLine("智慧园区", 0.99, (200, 0, 360, 40))]
    assert join_rows(cells) == cells
    tiles = [OcrLine("秘密", 1.0, (0, 0, 160, 80)), OcrLine("秘密", 1.0, (300, 0, 460, 80))]    # a watermark's tiles
    assert join_rows(tiles) == tiles
    tall = [OcrLine("机", 1.0, (0, 0, 80, 80)), OcrLine("密", 1.0, (100, 30, 130, 60))]
    assert join_rows(tall) == tall
    far = [OcrLine("机", 1.0, (0, 0, 80, 80)), OcrLine("密", 1.0, (330, 0, 410, 80))]
    assert join_rows(far) == far
