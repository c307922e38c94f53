"""pypdfium2 objects are closed in the right order and never by hand where that is unsafe: a picture
object's bitmap has a buffer of pdfium's ("foreign") that PdfBitmap.to_pil() shares for grey, RGBA
and RGBX pixels, so closing it by hand (pypdfium2 logs "Explicitly closing <PdfBitmap ... foreign>.
This is a potentially unsafe operation!") freed pixels the picture still read: OCR then read freed
memory (measured: 联系人手机13812345678 in a grey picture read as "12234587"). Every pypdfium2 path of
the scanner and the reviewer page's render child runs here on a multi-page PDF with Python warnings
turned into errors and pypdfium2's log watched: nothing at WARNING or above."""
from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from scanner.extract import extract_bytes
from scanner.extract.ocr import OcrOptions
from support.pictures import page

ROOT = Path(__file__).resolve().parents[3]
PHONES = ["13812345671", "13812345672", "13812345673"]
MODES = ["L", "RGB", "RGBA"]


def _pdf() -> bytes:
    """Three pages of text, each with a picture of its own (grey, colour, with alpha) carrying a
    phone number, and a fourth page that is only a picture (no text layer: rendered and OCR'd)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for n, (phone, mode) in enumerate(zip(PHONES, MODES)):
        c.setFont("STSong-Light", 14)
        for k in range(5):
            c.drawString(72, 780 - 28 * k, f"第{n + 1}页 关于召开年度工作会议的通知，请各单位按时参加（{k + 1}）。")
        c.drawImage(ImageReader(page([f"联系人手机{phone}"], size=(800, 160), top=50).convert(mode)), 72, 380, 400, 80,
                    mask="auto" if mode == "RGBA" else None)
        c.showPage()
    c.drawImage(ImageReader(page(["关于举办读书月活动的通知"], size=(800, 300))), 40, 400, 520, 195)
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return _pdf()


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record):
        self.seen.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture
def strict():
    """Python warnings are errors; pypdfium2's log records at WARNING or above are collected."""
    log = logging.getLogger("pypdfium2")
    rec = _Records()
    log.addHandler(rec)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            yield rec.seen
    finally:
        log.removeHandler(rec)


def test_extraction_redaction_and_page_boxes_of_a_multi_page_pdf_raise_no_pypdfium2_warning(pdf, strict):
    doc = extract_bytes(pdf, "notice.pdf", ocr=OcrOptions(enabled=False, reason="off"))
    assert doc.meta["page_count"] == 4
    assert {s.locator.get("page") for s in doc.segments if s.layer == "body"} == {1, 2, 3}
    # OCR off: each picture and the page without text are recorded unread (review), none skipped
    assert "extract.ocr_unavailable" in {e.code for e in doc.errors}

    from scanner.redact.pdf import redact_pdf
    from scanner.model import Finding
    seg = next(s for s in doc.segments if s.layer == "body" and s.locator.get("page") == 2)
    f = Finding(segment_id=seg.id, start=0, end=3, category="pii.name", severity="low", rule_id="t",
                text=seg.text[:3], layer="body", location={"page": 2})
    out = redact_pdf(pdf, [f])
    import pypdfium2 as pdfium
    red = pdfium.PdfDocument(bytes(out))
    try:
        assert len(red) == 4
    finally:
        red.close()

    from service.web.pdfrender import _boxes
    src = pdfium.PdfDocument(pdf)
    try:
        boxes = _boxes(src, {"2": [("f1", "第2页", 0)], "3": [("f2", "关于召开", 0)]})
    finally:
        src.close()
    assert boxes["2"]["boxes"][0][1] and boxes["3"]["boxes"][0][1]     # found and boxed
    assert strict == []


def test_the_render_child_logs_no_pypdfium2_warning(pdf):
    """The reviewer page's render child (service.web.pdfrender) draws page 2 and the boxes of a
    multi-page PDF: a PNG and JSON on stdout, nothing from pypdfium2 on stderr."""
    for cmd in ({"op": "render", "page": 2}, {"op": "boxes", "queries": {"1": [["f", "第1页", 0]]}}):
        run = subprocess.run([sys.executable, "-W", "error", "-m", "service.web.pdfrender"],
                             input=json.dumps(cmd).encode() + b"\n" + pdf, capture_output=True, cwd=ROOT,
                             timeout=60)
        assert run.returncode == 0, run.stderr.decode()[-2000:]
        assert b"Explicitly closing" not in run.stderr and b"pypdfium2" not in run.stderr, run.stderr.decode()[-2000:]
        if cmd["op"] == "render":
            assert run.stdout.startswith(b"\x89PNG")
        else:
            assert json.loads(run.stdout)["count"] == 4


@pytest.mark.slow
def test_ocr_reads_the_pictures_of_a_multi_page_pdf_from_live_pixels(pdf, strict):
    """With real OCR: each page's picture gives its own phone number (grey, colour, alpha), and the
    page without a text layer its notice; read from the pixels of a live bitmap, not freed memory."""
    doc = extract_bytes(pdf, "notice.pdf")
    ocr = {s.locator.get("page"): s.text for s in doc.segments if s.layer == "ocr"}
    for n, phone in enumerate(PHONES, 1):
        assert phone in ocr.get(n, "").replace(" ", ""), (n, ocr)
    assert "读书月" in ocr.get(4, ""), ocr
    assert strict == []
