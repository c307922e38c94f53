"""Blank is not unread (issue 16): a file that shows nothing at all — a PDF page without ink, slides
with only empty placeholders, a docx without body — was read completely: an info note
(`extract.blank`), never `extract.no_text`. Anything visible that was not read as text still fails
closed. Every file here is made by the real library (reportlab, python-pptx, python-docx,
LibreOffice), none is hand-written bytes."""
from __future__ import annotations

import io
import shutil
import subprocess

import pytest

from scanner.extract import extract_bytes
from scanner.extract.ocr import OcrOptions
from scanner.model import Report

NO_OCR = OcrOptions(enabled=False, reason="off")


def _codes(doc):
    return [e.code for e in doc.errors]


def _notes(doc):
    return [n["code"] for n in doc.meta.get("notes", [])]


# -- PDF ------------------------------------------------------------------------------------------

def _pdf(draw=None, pages: int = 1, title: str = "") -> bytes:
    from reportlab.pdfgen import canvas
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    if title:
        c.setTitle(title)
    for _ in range(pages):
        if draw:
            draw(c)
        c.showPage()
    c.save()
    return buf.getvalue()


def test_blank_pdf_pages_are_a_note_and_pass(light_scanner):
    data = _pdf(pages=2, title="空白页")
    doc = extract_bytes(data, "blank.pdf", ocr=NO_OCR)
    assert _codes(doc) == [] and _notes(doc) == ["extract.blank"]
    rep = light_scanner.scan_bytes(data, "blank.pdf")
    d = rep.to_dict()
    assert rep.decision == "pass" and d["errors"] == []
    assert [n["code"] for n in d["notes"]] == ["extract.blank"] and "2 page" in d["notes"][0]["detail"]
    assert [n.code for n in Report.from_dict(d).notes] == ["extract.blank"]


def test_blank_pdf_note_survives_the_sandboxed_child(light_scanner):
    rep = light_scanner.scan_bytes(_pdf(), "blank.pdf", isolated=True)
    assert rep.decision == "pass" and [n.code for n in rep.notes] == ["extract.blank"]


def _line(c):
    c.setLineWidth(2)
    c.line(100, 400, 400, 400)


def _speck(c):
    """A 1.5 pt black square: under a pixel at the 24 dpi preview, plain ink at 72 dpi."""
    c.rect(300, 500, 1.5, 1.5, stroke=0, fill=1)


@pytest.mark.parametrize("draw", [_line, _speck], ids=["line", "speck"])
def test_a_page_that_shows_anything_is_not_blank(draw):
    doc = extract_bytes(_pdf(draw), "drawn.pdf", ocr=NO_OCR)
    assert _notes(doc) == [] and _codes(doc) == ["extract.ocr_unavailable"]


def test_the_speck_is_invisible_at_the_preview_but_found_at_72_dpi():
    """The ink check is what finds it: the 24 dpi preview alone calls the page blank."""
    import pypdfium2 as pdfium

    from scanner.extract import pdf as P
    from scanner.extract.image import blank
    pdf = pdfium.PdfDocument(_pdf(_speck))
    page = pdf[0]
    try:
        assert blank(P._render(page, P.PREVIEW_DPI)[0])
        assert P._shows_something(page)
    finally:
        page.close()
        pdf.close()


@pytest.fixture(scope="module")
def hostile_pdfs(tmp_path_factory):
    """The shared hostile generator's files (../shared/hostile/make_hostile.py --small)."""
    import sys
    from pathlib import Path
    maker = Path(__file__).resolve().parents[4] / "shared" / "hostile" / "make_hostile.py"
    out = tmp_path_factory.mktemp("hostile")
    subprocess.run([sys.executable, str(maker), "--small", str(out)], check=True, capture_output=True, timeout=300)
    return out


def test_a_page_whose_content_was_dropped_is_not_blank(hostile_pdfs, light_scanner):
    """nested_flate.pdf: a triple-FlateDecode bomb that pdfium drops without an error, so the page
    renders without ink. What it would have drawn was never read: extract.no_text (review), not a
    blank note."""
    from scanner.extract.blank import pdf_contents_readable
    data = (hostile_pdfs / "nested_flate.pdf").read_bytes()
    assert not pdf_contents_readable(data, 10)
    doc = extract_bytes(data, "nested_flate.pdf", ocr=NO_OCR)
    assert "extract.no_text" in _codes(doc) and _notes(doc) == []
    assert light_scanner.scan_bytes(data, "nested_flate.pdf").decision != "pass"


def test_contents_readable_on_real_blank_and_drawn_pages():
    from reportlab.lib.utils import ImageReader
    from PIL import Image

    from scanner.extract.blank import pdf_contents_readable
    assert pdf_contents_readable(_pdf(pages=3), 10)
    assert not pdf_contents_readable(_pdf(pages=11), 10)          # more pages than were looked at
    img = ImageReader(Image.new("RGB", (8, 8), "white"))
    assert not pdf_contents_readable(_pdf(lambda c: c.drawImage(img, 10, 10, 8, 8)), 10)     # a picture XObject
    assert not pdf_contents_readable(b"%PDF-1.4 not a pdf", 10)


@pytest.mark.slow
def test_a_drawn_page_read_by_ocr_without_text_stays_review():
    """A PDF of drawings OCR finds no text in is review naming the pages, as an OFD of drawings
    (tests/scanner/extract/test_ofd_render.py): what the drawings show was not read."""
    doc = extract_bytes(_pdf(_line, pages=2), "drawn.pdf")
    assert _notes(doc) == [] and _codes(doc) == ["extract.no_text"]
    assert "第 1–2 页只有图形" in doc.errors[0].message


# -- PPTX -----------------------------------------------------------------------------------------

def _pptx(build) -> bytes:
    from pptx import Presentation
    prs = Presentation()
    prs.core_properties.comments = ""       # the template's "generated using python-pptx" is its own finding
    build(prs)
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def _empty_slides(prs):
    prs.slides.add_slide(prs.slide_layouts[0])      # title slide: two empty placeholders
    prs.slides.add_slide(prs.slide_layouts[6])      # blank layout


def test_slides_with_only_empty_placeholders_are_a_note(light_scanner):
    data = _pptx(_empty_slides)
    doc = extract_bytes(data, "empty.pptx", ocr=NO_OCR)
    assert _codes(doc) == [] and _notes(doc) == ["extract.blank"]
    assert "2 slide" in doc.meta["notes"][0]["detail"]
    assert light_scanner.scan_bytes(data, "empty.pptx").decision == "pass"


def test_a_presentation_without_slides_is_a_note():
    doc = extract_bytes(_pptx(lambda prs: None), "none.pptx", ocr=NO_OCR)
    assert _codes(doc) == [] and _notes(doc) == ["extract.blank"]


def _rectangle(prs):
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.util import Inches
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(1), Inches(1), Inches(3), Inches(2))


def _filled_placeholder(prs):
    from pptx.dml.color import RGBColor
    slide = prs.slides.add_slide(prs.slide_layouts[0])
    ph = slide.placeholders[0]
    ph.fill.solid()
    ph.fill.fore_color.rgb = RGBColor(0xC0, 0x00, 0x00)


def _picture_background(prs):
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buf, "PNG")
    buf.seek(0)
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    from pptx.util import Inches
    slide.shapes.add_picture(buf, Inches(1), Inches(1))


@pytest.mark.parametrize("build", [_rectangle, _filled_placeholder, _picture_background],
                         ids=["shape", "filled-placeholder", "picture"])
def test_a_slide_that_shows_something_without_text_stays_review(build):
    doc = extract_bytes(_pptx(build), "drawn.pptx", ocr=NO_OCR)
    assert _notes(doc) == [] and _codes(doc) == ["extract.no_text"]


def test_a_shape_on_the_master_makes_every_slide_not_blank():
    """A master that draws a rectangle on every slide (moved there from a slide, as python-pptx
    has no API to draw on a master): the slides are not blank, though they are empty."""
    def build(prs):
        from pptx.enum.shapes import MSO_SHAPE
        from pptx.util import Inches
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(1), Inches(1), Inches(3), Inches(2))
        el = shape._element
        el.getparent().remove(el)
        prs.slide_masters[0].shapes._spTree.append(el)
    doc = extract_bytes(_pptx(build), "master.pptx", ocr=NO_OCR)
    assert _notes(doc) == [] and _codes(doc) == ["extract.no_text"]
    empty = extract_bytes(_pptx(lambda prs: prs.slides.add_slide(prs.slide_layouts[6])), "e.pptx", ocr=NO_OCR)
    assert _notes(empty) == ["extract.blank"]


# -- DOCX -----------------------------------------------------------------------------------------

def _docx(build=None) -> bytes:
    import docx
    d = docx.Document()
    if build:
        build(d)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_a_docx_without_body_is_a_note(light_scanner):
    data = _docx()
    doc = extract_bytes(data, "empty.docx", ocr=NO_OCR)
    assert _codes(doc) == [] and _notes(doc) == ["extract.blank"]
    assert light_scanner.scan_bytes(data, "empty.docx").decision == "pass"


def _empty_table(d):
    d.add_table(rows=2, cols=2).style = "Table Grid"


def _picture(d):
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), "green").save(buf, "PNG")
    buf.seek(0)
    d.add_picture(buf)


@pytest.mark.parametrize("build", [_empty_table, _picture], ids=["table", "picture"])
def test_a_docx_that_shows_something_without_text_is_not_blank(build):
    doc = extract_bytes(_docx(build), "drawn.docx", ocr=NO_OCR)
    assert _notes(doc) == [] and _codes(doc) and set(_codes(doc)) <= {"extract.no_text", "extract.ocr_unavailable"}


# -- an ONLYOFFICE PDF form: its source package in a /MetaOForm stream no page draws ---------------

def _onlyoffice_form(source: bytes, filters: str = "") -> bytes:
    """A one-page PDF as ONLYOFFICE writes a form: an empty page, and object 1 a stream of
    /Type /MetaOForm holding the form's source (a docx package), referenced by nothing."""
    from support.drafts import pdf_with_objects
    return pdf_with_objects([
        b"<< /Type /MetaOForm /ONLYOFFICEFORM [ 0 %d ] %s/Length %d >>\nstream\r\n" % (
            len(source), filters.encode(), len(source)) + source + b"\r\nendstream",
        b"<< /Type /Catalog /Pages 3 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] >>"], root=2)


def test_a_blank_onlyoffice_form_is_a_note_and_its_source_is_read(light_scanner):
    """ONLYOFFICE's blank zh-CN new.pdf was extract.no_text: its page shows nothing, but the
    unread /MetaOForm stream kept the page from being proved blank. The stream is the form's source
    package: read as an embedded file, a blank source leaves the file blank (a note, pass), and a
    source with text is scanned (a marked one blocks, though no page shows it)."""
    data = _onlyoffice_form(_docx())
    doc = extract_bytes(data, "new.pdf", ocr=NO_OCR)
    assert _codes(doc) == [] and _notes(doc) == ["extract.blank"]
    assert light_scanner.scan_bytes(data, "new.pdf").decision == "pass"
    marked = _onlyoffice_form(_docx(lambda d: d.add_paragraph("秘密★5年 关于调整内部机构的请示")))
    doc = extract_bytes(marked, "form.pdf", ocr=NO_OCR)
    seg = next(s for s in doc.segments if "秘密★5年" in s.text)
    assert seg.locator["kind"] == "embedded_file" and seg.locator["member"].startswith("MetaOForm-1")
    assert light_scanner.scan_bytes(marked, "form.pdf").decision == "block"
    # a source that cannot be decoded (a filter the bounded decoder refuses) is not read: review
    odd = _onlyoffice_form(b"not a package", filters="/Filter /LZWDecode ")
    doc = extract_bytes(odd, "odd.pdf", ocr=NO_OCR)
    assert "extract.partial" in _codes(doc) and _notes(doc) == []
    assert light_scanner.scan_bytes(odd, "odd.pdf").decision == "review"


# -- LibreOffice ----------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
@pytest.mark.parametrize("target", ["docx", "pdf"])
def test_empty_documents_written_by_libreoffice_are_a_note(tmp_path, target):
    src = tmp_path / "empty.txt"
    src.write_text("", encoding="utf-8")
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                    "--convert-to", target, "--outdir", str(tmp_path), str(src)],
                   check=True, capture_output=True, timeout=120, env=env)
    doc = extract_bytes((tmp_path / f"empty.{target}").read_bytes(), f"empty.{target}", ocr=NO_OCR)
    assert _codes(doc) == [] and _notes(doc) == ["extract.blank"]
