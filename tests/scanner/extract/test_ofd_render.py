"""OFD pages drawn as vector paths (issue 16): scanner.extract.ofd_render draws a page's
PathObjects with Pillow and OCR reads them; what cannot be drawn, or is read unsure, is review.

Geometry is checked on paths whose pixels are known; reading on OFDs built here (text drawn as
outlines: the glyphs of a real CJK font traced into filled paths) and on the real OFDs of the
real-document set (tests/realdocs/files, skipped when they are absent)."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from scanner.extract import extract_bytes
from scanner.extract.ocr import OcrOptions
from scanner.extract.ofd_render import RenderError, Resources, parse_path, render
from scanner.extract.xmlsafe import parse_xml
from support.ofd import NS, ofd_package

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
REALDOCS = Path(__file__).resolve().parents[2] / "realdocs" / "files" / "ofdrw"
NO_OCR = OcrOptions(enabled=False, reason="off")


def _layer(objects: str):
    return parse_xml(f'<ofd:Layer {NS}>{objects}</ofd:Layer>'.encode())


def _ofd(objects: str, page_box: str = "0 0 210 297") -> bytes:
    return ofd_package([objects], common_data=f"<ofd:PageArea><ofd:PhysicalBox>{page_box}</ofd:PhysicalBox></ofd:PageArea>")


def outline_text(text: str, x_mm: float, y_mm: float, height_mm: float, px_per_mm: float = 8.0) -> str:
    """`text` as one filled PathObject: the glyphs of a real CJK font traced into rectangles (runs
    of ink per pixel row, merged down the rows), in millimetres — text drawn as outlines, no text."""
    from PIL import ImageFont
    font = ImageFont.truetype(str(FONT), max(8, round(height_mm * px_per_mm)))
    mask = font.getmask(text, mode="1")
    w, h = mask.size
    rows = [[mask.getpixel((x, y)) for x in range(w)] for y in range(h)]
    runs: dict[tuple[int, int], int] = {}       # (x0, x1) -> first row of the open rectangle
    rects = []
    for y in range(h + 1):
        row = rows[y] if y < h else [0] * w
        now = set()
        x = 0
        while x < w:
            if row[x]:
                x0 = x
                while x < w and row[x]:
                    x += 1
                now.add((x0, x))
            x += 1
        for key in list(runs):
            if key not in now:
                rects.append((key[0], runs.pop(key), key[1], y))
        for key in now:
            runs.setdefault(key, y)
    s = 1.0 / px_per_mm
    data = " ".join(f"M {a * s:.3f} {b * s:.3f} L {c * s:.3f} {b * s:.3f} L {c * s:.3f} {d * s:.3f} "
                    f"L {a * s:.3f} {d * s:.3f} C" for a, b, c, d in rects)
    return (f'<ofd:PathObject ID="9" Boundary="{x_mm} {y_mm} {w * s:.3f} {h * s:.3f}" Stroke="false" Fill="true">'
            f'<ofd:FillColor Value="0 0 0"/><ofd:AbbreviatedData>{data}</ofd:AbbreviatedData></ofd:PathObject>')


# -- geometry -------------------------------------------------------------------------------------

def test_path_operators_are_flattened_and_malformed_data_is_refused():
    (pts, closed), = parse_path("M 0 0 L 10 0 L 10 10 C")
    assert closed and pts[0] == pts[-1] == (0.0, 0.0) and (10.0, 10.0) in pts
    (pts, _), = parse_path("S 0 0 Q 5 10 10 0 B 12 5 18 5 20 0 A 5 5 0 0 1 30 0")
    assert pts[-1] == pytest.approx((30.0, 0.0)) and len(pts) > 30
    assert any(abs(y - 5.0) < 0.01 for _x, y in pts)          # the arc's top, a half circle of radius 5
    for bad in ("M 0 0 L 10", "M 0 0 X 3 3", "M 0 0 L ten 0"):
        with pytest.raises(RenderError):
            parse_path(bad)


def test_even_odd_fill_keeps_the_hole_and_ctm_and_boundary_place_the_shape():
    # a 20 mm square with a 10 mm hole, drawn at half size (CTM 0.5) from the Boundary's origin (50, 40)
    sq = "M 0 0 L 40 0 L 40 40 L 0 40 C M 10 10 L 30 10 L 30 30 L 10 30 C"
    layer = _layer(f'<ofd:PathObject Boundary="50 40 20 20" CTM="0.5 0 0 0.5 0 0" Fill="true" Stroke="false">'
                   f'<ofd:FillColor Value="255 0 0"/><ofd:AbbreviatedData>{sq}</ofd:AbbreviatedData>'
                   f'</ofd:PathObject>')
    img, scale = render([layer], (100, 100), Resources(), dpi=254)        # 10 px per mm
    assert scale == pytest.approx(10.0)
    px = img.getpixel
    assert px((520, 420)) == (255, 0, 0)          # ring: 2 mm in from the square's corner
    assert px((600, 500)) == (255, 255, 255)      # the hole's centre (the square's centre at 60, 50 mm)
    assert px((480, 380)) == (255, 255, 255)      # outside
    assert px((690, 590)) == (255, 0, 0) and px((710, 610)) == (255, 255, 255)


def test_composite_objects_draw_their_unit_and_a_missing_unit_is_refused():
    unit = parse_xml(f'<ofd:Content {NS}><ofd:PathObject Boundary="0 0 10 10" Fill="true" Stroke="false">'
                     f'<ofd:AbbreviatedData>M 0 0 L 10 0 L 10 10 L 0 10 C</ofd:AbbreviatedData>'
                     f'</ofd:PathObject></ofd:Content>'.encode())
    layer = _layer('<ofd:CompositeObject ID="5" ResourceID="7" Boundary="30 30 10 10"/>')
    img, _ = render([layer], (50, 50), Resources({"7": unit}), dpi=254)
    assert img.getpixel((350, 350)) == (0, 0, 0) and img.getpixel((250, 250)) == (255, 255, 255)
    with pytest.raises(RenderError):
        render([layer], (50, 50), Resources(), dpi=254)


def test_hostile_geometry_is_bounded():
    """A CTM scaling by a million, an arc with a huge radius, 20,000 subpaths: drawn in bounded time
    and size (strokes capped at MAX_LINE_PX, the page at MAX_PIXELS)."""
    import time
    many = " ".join(f"M {i % 200} {i // 200} L {i % 200 + 0.5} {i // 200} L {i % 200} {i // 200 + 0.5} C"
                    for i in range(20_000))
    layer = _layer(f'<ofd:PathObject Boundary="0 0 10 10" CTM="1000000 0 0 1000000 0 0" LineWidth="1">'
                   f'<ofd:AbbreviatedData>M 0 0 L 1 1 A 1e9 1e9 0 1 1 0.5 0.5</ofd:AbbreviatedData></ofd:PathObject>'
                   f'<ofd:PathObject Boundary="0 0 200 100" Fill="true"><ofd:AbbreviatedData>{many}'
                   f'</ofd:AbbreviatedData></ofd:PathObject>')
    t0 = time.monotonic()
    img, _ = render([layer], (210, 297), Resources(), dpi=200)
    assert time.monotonic() - t0 < 60 and img.size == (1654, 2339)


# -- extraction -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_an_ofd_page_with_text_drawn_as_outlines_is_read_and_its_marking_blocks():
    from scanner.engine import Scanner
    data = _ofd(outline_text("秘密★5年", 30, 20, 12) + outline_text("关于举办读书月活动的通知", 30, 50, 8))
    doc = extract_bytes(data, "outlines.ofd")
    assert not [s for s in doc.segments if s.layer == "body"]          # no text object at all
    ocr = "".join(s.text for s in doc.segments if s.layer == "ocr")
    assert "读书月" in ocr and doc.errors == []
    rep = Scanner().scan_bytes(data, "outlines.ofd")
    mark = [f for f in rep.findings if f.category == "marking.level"]
    assert rep.decision == "block" and mark and mark[0].layer == "ocr" and mark[0].location["page"] == 1


def test_a_drawn_ofd_page_is_not_passed_unread():
    """Light mode (no OCR: the page is not even drawn) and a path that cannot be drawn: the drawn page
    is review, never pass."""
    data = _ofd(outline_text("秘密", 30, 20, 12))
    assert [e.code for e in extract_bytes(data, "a.ofd", ocr=NO_OCR).errors] == ["extract.ocr_unavailable"]
    bad = _ofd('<ofd:PathObject Boundary="0 0 10 10"><ofd:AbbreviatedData>M 0 0 L 5</ofd:AbbreviatedData>'
               '</ofd:PathObject>')
    doc = extract_bytes(bad, "b.ofd")         # OCR on: the page fails at drawing, before OCR
    assert [e.code for e in doc.errors] == ["extract.image_unreadable"] and "not rendered" in doc.errors[0].detail


@pytest.mark.slow
def test_an_ofd_of_lines_only_is_not_read_and_an_empty_page_a_blank_note():
    """Ink but nothing read (a drawing OCR finds no text in) is review naming the pages, as a PDF of
    the same kind: what a drawing shows could be what a reviewer must see. Nothing at all is the
    blank note."""
    lines = _ofd('<ofd:PathObject Boundary="20 20 170 100" LineWidth="0.5"><ofd:AbbreviatedData>'
                 'M 0 0 L 170 0 L 170 100 L 0 100 C</ofd:AbbreviatedData></ofd:PathObject>')
    doc = extract_bytes(lines, "frame.ofd")
    assert [e.code for e in doc.errors] == ["extract.no_text"] and "第 1 页" in doc.errors[0].message
    assert not doc.meta.get("notes")
    empty = extract_bytes(_ofd(""), "empty.ofd", ocr=NO_OCR)
    assert empty.errors == [] and [n["code"] for n in empty.meta["notes"]] == ["extract.blank"]


# -- the real OFDs of the real-document set --------------------------------------------------------

def _real(name: str) -> Path:
    p = REALDOCS / name
    if not p.is_file():
        pytest.skip(f"real-document file absent: {name} (make realdocs)")
    return p


def test_real_ofd_vector_page_renders_its_boxes():
    """ofdrw's Page5.ofd: five pages of red boxes drawn as paths (no text object)."""
    z = zipfile.ZipFile(_real("ofdrw-layout/src/test/resources/Page5.ofd"))
    root = parse_xml(z.read("Doc_0/Pages/Page_0/Content.xml"))
    content = [el for el in root if el.tag.endswith("Content")]
    img, scale = render(content, (210, 297), Resources(), dpi=100)
    # the first box: Boundary 70 5.353 70 30, filled 255 0 0, a black outline
    assert img.getpixel((round(105 * scale), round(20 * scale))) == (255, 0, 0)
    assert img.getpixel((round(30 * scale), round(20 * scale))) == (255, 255, 255)


@pytest.mark.slow
def test_real_ofd_vector_pages_are_read_not_left_unread():
    doc = extract_bytes(_real("ofdrw-layout/src/test/resources/Page5.ofd").read_bytes(), "Page5.ofd")
    codes = {e.code for e in doc.errors}
    assert "extract.no_text" not in codes and doc.meta.get("ocr_images") == 5
    # OCR is unsure of two pages of stacked boxes (it sees strokes): review, as the contract says
    assert codes <= {"extract.ocr_low_confidence"}


def test_real_ofd_text_inside_composite_units_is_read():
    """ofdrw's y.ofd draws its article through CompositeObjects whose units hold the text objects."""
    doc = extract_bytes(_real("ofdrw-converter/src/test/resources/y.ofd").read_bytes(), "y.ofd", ocr=NO_OCR)
    pages = {s.locator.get("page") for s in doc.segments if s.layer == "body"}
    assert pages == {1, 2, 3} and any("数字档案室" in s.text for s in doc.segments if s.layer == "body")


def test_a_malformed_custom_tag_part_is_read_as_text_not_skipped():
    """ofdrw writes custom tags as `<:params>` (not well-formed): the part's characters are still
    scanned (here an ID number in it is found), a malformed page is still corrupt."""
    def build(tag: bytes, page_ok: bool = True) -> bytes:
        text = '<ofd:TextObject ID="2"><ofd:TextCode>建设项目用地预审与选址意见书</ofd:TextCode></ofd:TextObject>'
        page = f'<ofd:Page {NS}><ofd:Content><ofd:Layer>{text}</ofd:Layer></ofd:Content></ofd:Page>'
        return ofd_package([page if page_ok else page[:-12]],
                           document_extra="<ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags>",
                           parts={"Doc_0/Tags/CustomTags.xml": f'<ofd:CustomTags {NS}><ofd:CustomTag><ofd:FileLoc>'
                                  f'Tag.xml</ofd:FileLoc></ofd:CustomTag></ofd:CustomTags>', "Doc_0/Tags/Tag.xml": tag})
    tag = b'<?xml version="1.0" encoding="UTF-8"?>\n<:params><id>330106197904082160</id></:params>'
    doc = extract_bytes(build(tag), "tags.ofd", ocr=NO_OCR)
    assert doc.errors == []
    assert any("330106197904082160" in s.text for s in doc.segments if s.layer == "metadata")
    from scanner import get_scanner
    rep = get_scanner(light=True).scan_bytes(build(tag), "tags.ofd")
    assert "pii.id_card" in {f.category for f in rep.findings} and rep.decision != "pass"
    bad = extract_bytes(build(tag, page_ok=False), "bad.ofd", ocr=NO_OCR)
    assert [e.code for e in bad.errors] == ["extract.corrupt"]


def test_real_ofd_vector_seal_is_read():
    """ofdrw's draw_param_ref.ofd is signed with a seal whose picture is an OFD of its own (in Seal.esl)."""
    doc = extract_bytes(_real("ofdrw-converter/src/test/resources/draw_param_ref.ofd").read_bytes(), "d.ofd",
                        ocr=NO_OCR)
    seal = "".join(s.text for s in doc.segments if s.locator.get("kind") == "seal" and s.layer == "body")
    assert "监制" in seal and not [e for e in doc.errors if e.code == "extract.image_unreadable"]
