"""A faint layer of a picture (a light-grey diagonal watermark: 内部资料, 机密 … tiled across a page,
semi-transparent) is read by OCR's second pass (scanner/extract/ocr.py faint_band / faint_pass) and
found as a mark printed across the picture; ordinary pictures without one stay as they were.
Pictures drawn here with a real CJK font, read by the real engine."""
from __future__ import annotations

import pytest

from scanner.engine import Scanner
from scanner.extract import ocr
from support.pictures import CLEAN_NOTICE, encode, page, watermarked

SIZE = (1240, 1754)          # A4 at 150 dpi


@pytest.fixture(scope="module")
def full():
    return Scanner()


def clean_page():
    return page(CLEAN_NOTICE, size=SIZE, px=30, top=120, step=66)


@pytest.mark.parametrize("mark, kw, fmt, category, decision", [
    ("内部资料", dict(angle=45), "PNG", "marking.internal", "review"),
    ("机密", dict(angle=-45, px=120, grey=200, alpha=90), "PNG", "marking.level", "block"),
    ("工作秘密", dict(angle=30, px=80, alpha=100), "PNG", "marking.work", "review"),
    ("秘密", dict(angle=45, px=110, grey=190, alpha=80), "JPEG", "marking.level", "block"),
    ("不予公开", dict(angle=-30, px=80, alpha=110), "PNG", "marking.disclosure", "review"),
], ids=["internal-45", "confidential--45", "work-30", "secret-jpeg", "not-public--30"])
def test_a_faint_diagonal_watermark_is_read_and_found(full, mark, kw, fmt, category, decision):
    img = watermarked(clean_page(), mark, **kw)
    assert ocr.faint_band(img) is not None
    rep = full.scan_bytes(encode(img, fmt, **({"quality": 80} if fmt == "JPEG" else {})), "wm." + fmt.lower())
    assert rep.decision == decision, (rep.decision_reasons, rep.errors)
    found = [f for f in rep.findings if f.category == category]
    assert found and all(f.layer == "ocr" and f.location.get("pass") == "faint" for f in found)
    assert "图片文字识别" in found[0].explanation
    if category != "marking.disclosure":           # the disclosure field has no position of its own
        assert any(e == "position:watermark" for e in found[0].evidence), found[0].evidence
    x0, y0, x1, y1 = found[0].location["line_box"]
    assert 0 <= x0 < x1 <= SIZE[0] and 0 <= y0 < y1 <= SIZE[1]
    # the page's own text was read once: the second pass adds only what the first could not see
    texts = [f.text for f in rep.findings if f.category == "pii.phone"]
    assert len(texts) == 1


def test_a_page_without_a_faint_layer_gets_no_second_pass(full):
    img = clean_page()
    assert ocr.faint_band(img) is None
    rep = full.scan_bytes(encode(img), "clean.png")
    assert rep.decision == "pass", rep.decision_reasons


def test_a_light_grey_table_shading_adds_nothing_and_passes(full):
    """A form with shaded rows (a light grey fill behind black print, as spreadsheets print them):
    the test may see a layer, but its pass reads nothing that is not already there."""
    from PIL import ImageDraw
    img = clean_page()
    d = ImageDraw.Draw(img)
    for k in range(4):
        y = 820 + k * 120
        d.rectangle((140, y, 1100, y + 60), fill=(225, 225, 225))
    from support.pictures import font
    for k in range(4):
        d.text((160, 830 + k * 120), f"第{k + 1}季度  完成投资 {k + 3}.5 亿元", font=font(30), fill=(0, 0, 0))
    rep = full.scan_bytes(encode(img), "shaded.png")
    assert rep.decision == "pass", rep.decision_reasons
    assert not [f for f in rep.findings if f.location.get("pass") == "faint"]


def test_faint_lines_are_new_lines_boxed_in_the_picture():
    img = watermarked(clean_page(), "内部资料", angle=45)
    band = ocr.faint_band(img)
    main = ocr.recognize(img)
    faint = ocr.faint_pass(img, band, main)
    assert any("内部" in ln.text for ln in faint.lines)
    assert not any(ocr._same_text(ln.text, m.text) for ln in faint.lines for m in main.lines)
    for ln in faint.lines:
        assert 0 <= ln.box[0] < ln.box[2] <= img.width and 0 <= ln.box[1] < ln.box[3] <= img.height
