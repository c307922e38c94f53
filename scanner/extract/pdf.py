"""PDF: text per page with pypdfium2 (fast, right with non-embedded CJK fonts; see DESIGN.md).

Deeper layers (text under boxes, invisible text, annotations, metadata) are added by
scanner.extract.pdf_layers. Then every page's text layer is judged (scanner.extract.textlayer):

- a page with a usable text layer is never OCR'd as a page; its pictures are (per picture, once
  per content, by the size rule of scanner.extract.image), except a page-size picture under a
  text layer of its own (a searchable scan, whose text layer is that picture's text);
- a page with no usable text (a scan) is rendered at OCR_DPI and OCR'd when it shows anything;
- a garbled page (mojibake, unmapped glyphs) is rendered and OCR'd too, and its OCR text replaces
  the garbled layer: the page's body lines, hidden-text and redaction segments are dropped (what a
  garbled layer "hides" is not evidence). When OCR read text on every garbled page, none of them
  unsure, the page was read as a scan is: the info note extract.garbled_read names the pages (a
  reader sees the rendered page, and that is what was scanned). OCR that read far fewer characters
  than the garbled layer draws (below GARBLED_COVERAGE of them: small print it could not make out) did
  not read the page: extract.garbled_incomplete names those pages (review), unless what OCR read
  corroborates the layer (`corroborates`: an "unmapped" layer pdfium still decodes right), whose
  body lines are then kept and scanned beside OCR. Otherwise — a page not rendered or
  not OCR'd, read unsure (its extract.ocr_low_confidence too) or read as showing no text although its
  layer draws glyphs — an extract.garbled_text error names the pages (review).
Visible content that could not be read this way is recorded by scanner.extract.ocr (errors).
"""
from __future__ import annotations

import math
import re

from ..model import Document
from . import errors as E
from . import textlayer
from .pdf_pages import Pages

MAX_PAGES = 2000
MAX_CHARS = 5_000_000
LAYER_SECONDS = 40.0      # hidden-layer analysis budget per document (the child has 60 s of CPU)
OCR_DPI = 200
PREVIEW_DPI = 24          # the "does this page show anything" render of a page without text
MAX_RENDER_PIXELS = 12_000_000       # a page rendered for OCR (A4 at 200 dpi: 3.9 M)
MIN_PAGE_TEXT = 10        # fewer usable characters than this: the page has no usable text layer
# OCR coverage of a garbled page: OCR must read at least this share of the characters its layer
# draws (leader runs aside; mojibake and latin1 layers draw each CJK character as GBK's two bytes, so
# half as many characters as glyphs), or the page was not fully read (small print OCR missed:
# extract.garbled_incomplete, review). Unless OCR corroborates the layer: of the character pairs
# OCR read on the page (at least AGREE_MIN_PAIRS), AGREE_SHARE or more occur in the layer's text,
# and at most UNMAPPED_SHARE of the layer's characters are unusable (U+FFFD, private use). An
# "unmapped" layer is often right where pdfium flags its glyphs (a font without ToUnicode whose
# encoding pdfium still decodes: demo-whisper_2_3.pdf p. 27, a chart of 2,080 glyphs, 1,965 flagged,
# OCR read 393): such a layer is kept and scanned beside OCR, so what OCR missed is still scanned.
GARBLED_COVERAGE = 0.5
GLYPHS_PER_CHAR = {"mojibake": 2, "latin1": 2, "unmapped": 1}
AGREE_SHARE = 0.8
AGREE_MIN_PAIRS = 20
# leaders and rules (a contents page's ……, ．．．, ----, ____): glyphs of the layer OCR reads as
# little or nothing, so they are not counted as characters it should have read
_LEADER = re.compile(r"([^\w\s])\1{2,}")


def leader_chars(text: str) -> int:
    """Characters of the layer in runs of three or more of one punctuation mark or symbol."""
    return sum(len(m.group(0)) for m in _LEADER.finditer(text))
SCAN_AREA = 0.5           # a picture covering half the page or more is a page-size picture
MAX_IMAGE_OBJECTS = 50    # pictures looked at per page


def extract_pdf(data: bytes, doc: Document) -> None:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = str(exc).lower()
        if "password" in msg:
            raise E.ExtractionFailed(E.encrypted())
        raise E.ExtractionFailed(E.corrupt(str(exc)[:200]))
    pages = Pages(pdf)
    try:
        n = len(pdf)
        doc.meta["page_count"] = n
        if n > MAX_PAGES:
            doc.errors.append(E.truncated(f"{n} pages > {MAX_PAGES}"))
        total = 0
        texts: dict[int, str] = {}
        for i in range(min(n, MAX_PAGES)):
            with pages.page(i) as page, pages.textpage(i, page) as tp:
                text = tp.get_text_bounded() or ""
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
            texts[i + 1] = text
            for li, line in enumerate(text.split("\n")):
                if line.strip():
                    doc.add("body", line, page=i + 1, line=li + 1)
            total += len(text)
            if total > MAX_CHARS:
                doc.errors.append(E.truncated(f"more than {MAX_CHARS} characters"))
                break
        import time

        from .pdf_layers import extract_pdf_layers
        stats = extract_pdf_layers(data, pdf, doc, max_pages=MAX_PAGES, deadline=time.monotonic() + LAYER_SECONDS,
                                   pages=pages)
        read_pages(pdf, doc, texts, stats.get("pages", {}), stats.get("invisible_over_image", {}), pages=pages)
        if (doc.meta.get("textless") or {}).get("kind") == "blank":
            from .blank import pdf_contents_readable
            if not pdf_contents_readable(data, MAX_PAGES, doc.meta.get("page_count")):
                doc.meta.pop("textless")        # rendered without ink, but not all of it was read
    finally:
        pages.close()
        pdf.close()


def judge_pages(texts: dict[int, str], page_stats: dict) -> tuple[dict[int, str], list[int]]:
    """(garbled pages -> reason, pages without a usable text layer)."""
    garbled, empty = {}, []
    for no, text in texts.items():
        chars, unmapped = page_stats.get(no, (0, 0))
        why = textlayer.problem(text, chars, unmapped)
        if why is not None:
            garbled[no] = why
        elif textlayer.usable_chars(text) < MIN_PAGE_TEXT:
            empty.append(no)
    return garbled, empty


def read_pages(pdf, doc: Document, texts: dict[int, str], page_stats: dict,
               invisible_over_image: dict[int, int] | None = None, pages: Pages | None = None) -> None:
    from . import ocr
    pages = pages if pages is not None else Pages(pdf)
    garbled, empty = judge_pages(texts, page_stats)
    doc.meta["pdf_pages_garbled"] = sorted(garbled)
    doc.meta["pdf_pages_without_text"] = len(empty)
    replaced, blank, inked, read, short = [], [], [], [], []
    vouched: list[int] = []       # garbled pages whose layer OCR corroborates: kept beside OCR
    coverage: dict[int, tuple[int, int]] = {}       # garbled page read with text -> (OCR chars, layer chars)
    to_ocr = len(set(garbled) | set(empty))
    done = 0
    for no in sorted(texts):
        with pages.page(no - 1) as page:
            if no in garbled or no in empty:
                before = len(doc.segments)
                got = _read_page(page, no, doc, blank)
                if no in garbled and got in ("text", "unsure", "none"):
                    replaced.append(no)
                    if got == "text":
                        lines = [s.text for s in doc.segments[before:] if s.layer == "ocr"]
                        read_chars = sum(len("".join(t.split())) for t in lines)
                        drawn = (page_stats.get(no, (0, 0))[0] - leader_chars(texts[no])) / GLYPHS_PER_CHAR[garbled[no]]
                        coverage[no] = (read_chars, round(drawn))
                        if read_chars >= GARBLED_COVERAGE * drawn:
                            read.append(no)
                        elif corroborates(lines, texts[no]):
                            read.append(no)
                            vouched.append(no)
                        else:
                            short.append(no)
                elif no in empty and got == "none":
                    inked.append(no)        # ink, no text layer, OCR found no text
                done += 1
                ocr.progress(done, to_ocr)
            else:
                _read_pictures(page, no, doc, texts[no], (invisible_over_image or {}).get(no, 0))
    if texts and len(blank) == len(texts) == doc.meta.get("page_count"):
        doc.meta["textless"] = {"kind": "blank", "detail": f"pdf: {len(blank)} page(s) rendered without ink"}
    elif inked and len(blank) + len(inked) == len(texts) and not any(s.layer in ("body", "ocr") for s in doc.segments):
        # nothing read anywhere, and the pages that show ink were OCR'd without a single text region:
        # not blank (scanner.extract.empty_document makes it extract.no_text naming those pages)
        doc.meta["textless"] = {"kind": "drawing", "where": f"第 {ocr._ranges(inked)} 页",
                                "detail": f"pdf: {len(inked)} page(s) with ink, no text layer, no OCR text"}
    if garbled:
        drop = set(garbled)
        keep_body = drop - set(replaced) | set(vouched)     # OCR not done, or OCR vouches for the layer
        _drop_segments(doc, lambda s: s.locator.get("page") in drop and (
            s.layer in ("hidden", "redaction") or (s.layer == "body" and s.locator.get("page") not in keep_body
                                                   and s.locator.get("kind") != "form_field")))
        pages = ocr._ranges(sorted(garbled))
        reasons = ",".join(sorted(set(garbled.values())))
        doc.meta["pdf_garbled_coverage"] = coverage
        if vouched:
            doc.meta["pdf_garbled_vouched"] = vouched
        if len(read) == len(garbled):
            from . import add_note
            add_note(doc, E.garbled_read_note(f"第 {pages} 页", f"{reasons}; OCR text used"))
            return
        if short:
            figures = ", ".join(f"p{no} {coverage[no][0]}/{coverage[no][1]}" for no in short)
            doc.errors.append(E.garbled_incomplete(f"第 {ocr._ranges(short)} 页", f"OCR chars / layer chars: {figures}"))
        if len(read) + len(short) == len(garbled):
            return
        if replaced and len(replaced) == len(garbled):
            doc.errors.append(E.garbled_replaced(f"第 {pages} 页", f"{reasons}; OCR text used"))
        else:
            doc.errors.append(E.garbled(f"pages {pages}: {reasons}"))


def corroborates(ocr_lines: list[str], layer: str) -> bool:
    """OCR's lines on a garbled page agree with its text layer (GARBLED_COVERAGE above): the
    layer's unusable characters are at most UNMAPPED_SHARE of it, and of the character pairs OCR
    read (spaces aside, case folded; at least AGREE_MIN_PAIRS) AGREE_SHARE occur in the layer."""
    letters = textlayer.letters(layer)
    if not letters or textlayer.unusable(layer) > textlayer.UNMAPPED_SHARE * letters:
        return False
    flat = "".join(layer.split()).casefold()
    pairs = {flat[i:i + 2] for i in range(len(flat) - 1)}
    total = hits = 0
    for line in ocr_lines:
        t = "".join(line.split()).casefold()
        for i in range(len(t) - 1):
            total += 1
            hits += t[i:i + 2] in pairs
    return total >= AGREE_MIN_PAIRS and hits >= AGREE_SHARE * total


def _drop_segments(doc: Document, pred) -> None:
    kept = [s for s in doc.segments if not pred(s)]
    for i, s in enumerate(kept):
        s.id = i
    doc.segments[:] = kept


def _render(page, dpi: int):
    w, h = page.get_size()
    scale = dpi / 72.0
    if w * h * scale * scale > MAX_RENDER_PIXELS:
        scale = math.sqrt(MAX_RENDER_PIXELS / max(1.0, w * h))
    bm = page.render(scale=scale, draw_annots=True, may_draw_forms=True)
    try:
        img = bm.to_pil().convert("RGB")
    finally:
        bm.close()
    return img, scale


def _page_mapper(page, scale: float):
    """Pixel box of a page render -> [x0, y0, x1, y1] in PDF points (y up), for unrotated pages."""
    if page.get_rotation() % 360:
        return None
    try:
        x0, _y0, _x1, y1 = page.get_cropbox()
    except Exception:
        x0, y1 = 0.0, page.get_size()[1]

    def to_points(box):
        return [round(x0 + box[0] / scale, 1), round(y1 - box[3] / scale, 1),
                round(x0 + box[2] / scale, 1), round(y1 - box[1] / scale, 1)]
    return to_points


def _shows_something(page) -> bool:
    """Cheap first: a page without objects or annotations shows nothing; else a small render
    (PREVIEW_DPI) must not be blank, and a page that looks blank there is confirmed at INK_DPI:
    not a single pixel may differ from the page's colour by more than INK_SPREAD (a line of small
    print that averages away at 24 dpi still shows)."""
    import pypdfium2.raw as R

    from .image import blank
    if R.FPDFPage_CountObjects(page.raw) <= 0 and R.FPDFPage_GetAnnotCount(page.raw) <= 0:
        return False
    img, _scale = _render(page, PREVIEW_DPI)
    if not blank(img):
        return True
    img, _scale = _render(page, INK_DPI)
    lo, hi = img.convert("L").getextrema()
    return hi - lo > INK_SPREAD


INK_DPI = 72
INK_SPREAD = 16       # grey levels: anti-aliased hairlines and 6 pt print differ by far more


def _read_page(page, no: int, doc: Document, blank: list[int] | None = None) -> str:
    """Render and OCR one page: 'blank' (it shows nothing; `no` joins `blank`), 'unread' (not
    rendered or not OCR'd, recorded), 'unsure' (OCR unsure, recorded), 'text' (OCR read text),
    'none' (it shows ink and OCR found no text in it)."""
    from . import ocr
    try:
        if not _shows_something(page):
            if blank is not None:
                blank.append(no)
            return "blank"
        img, scale = _render(page, OCR_DPI)
    except Exception:
        ocr.unread(doc, ("page", no), "extract.image_unreadable", "page could not be rendered")
        return "unread"
    before = len(doc.segments)
    res = ocr.read_into(doc, img, place=("page", no), to_points=_page_mapper(page, scale), page=no, kind="scan")
    if res is None:
        return "unread"
    if res.low_confidence:
        return "unsure"
    return "text" if len(doc.segments) > before else "none"


def _read_pictures(page, no: int, doc: Document, text: str, invisible: int = 0) -> None:
    """Pictures on a page with a usable text layer (photographs, pasted screenshots). A page-size
    picture under a text layer of its own (a searchable scan) is not read, unless that layer is
    invisible (render mode 3, `invisible` characters over pictures): then what the picture shows is
    OCR'd and compared with the layer (`compare_with_layer`)."""
    import pypdfium2.raw as R

    from . import ocr
    from .image import Unreadable, check_size, read_embedded_bitmap, worth_reading
    try:
        objs = list(page.get_objects(filter=[R.FPDF_PAGEOBJ_IMAGE], max_depth=4))
    except Exception:
        return
    if not objs:
        return
    pw, ph = page.get_size()
    page_area = max(1.0, pw * ph)
    for k, obj in enumerate(objs[:MAX_IMAGE_OBJECTS]):
        try:
            left, bottom, right, top = obj.get_bounds()
            px_w, px_h = obj.get_px_size()
        except Exception:
            continue
        searchable = (right - left) * (top - bottom) >= SCAN_AREA * page_area and textlayer.usable_chars(text) >= 50
        if searchable and invisible < INVISIBLE_SHARE * textlayer.usable_chars(text):
            continue        # a picture under a visible text layer (a background): the layer is what is read
        if not worth_reading((px_w, px_h)):
            continue
        try:
            check_size((px_w, px_h))
            # the image object's bitmap has a buffer of pdfium's ("foreign"), which to_pil() shares
            # (L, RGBA, RGBX): the picture is copied out, and the bitmap is left to its finalizer,
            # which frees the buffer once nothing refers to it (closing it by hand would free
            # pixels the picture still reads; pypdfium2 warns "Explicitly closing ... unsafe")
            img = obj.get_bitmap(render=False).to_pil().copy()
        except Unreadable as exc:
            ocr.unread(doc, ("page", no), "extract.image_unreadable", str(exc))
            continue
        except Exception:
            continue        # an image pdfium cannot decode is not drawn either
        iw, ih = img.size

        def to_points(box, x0=left, y0=bottom, x1=right, y1=top, iw=iw, ih=ih):
            return [round(x0 + box[0] * (x1 - x0) / iw, 1), round(y1 - box[3] * (y1 - y0) / ih, 1),
                    round(x0 + box[2] * (x1 - x0) / iw, 1), round(y1 - box[1] * (y1 - y0) / ih, 1)]
        kind = "scan" if searchable else "embedded_image"
        before, reads = len(doc.segments), ocr.ledger(doc).read
        read_embedded_bitmap(img, img.tobytes(), doc, place=("page", no), to_points=to_points,
                             page=no, image=f"page{no}-image{k + 1}", kind=kind)
        if searchable and ocr.ledger(doc).read > reads:
            compare_with_layer(doc, no, text, doc.segments[before:])


INVISIBLE_SHARE = 0.5      # a searchable scan: at least half of its layer's characters invisible over pictures
MISMATCH_MIN_CHARS = 4     # a line of at least 4 characters (秘密★5年 is 5) ...
MISMATCH_COVERAGE = 0.5    # ... of whose character pairs less than half occur on the other side
MISMATCH_CONFIDENCE = 0.8  # OCR lines read at least this sure count as shown on the page


def _compact(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum() or ch in "★☆")


def _pairs(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _missing(lines: list[str], other: str) -> list[str]:
    """The lines of `lines` (>= MISMATCH_MIN_CHARS) most of whose character pairs are not in `other`."""
    have = _pairs(_compact(other))
    out = []
    for line in lines:
        c = _compact(line)
        if len(c) < MISMATCH_MIN_CHARS:
            continue
        pairs = _pairs(c)
        if pairs and len(pairs & have) / len(pairs) < MISMATCH_COVERAGE:
            out.append(line.strip())
    return out


def compare_with_layer(doc: Document, no: int, layer_text: str, ocr_segments: list) -> None:
    """A searchable scan's invisible text layer against what OCR reads on its picture. Where they
    disagree materially — a line the picture shows (read at >= MISMATCH_CONFIDENCE) that the layer
    lacks, or a layer line the picture does not show — the difference is hidden content: a `hidden`
    segment (kind ocr_image_only / ocr_layer_only, scanned by every detector and a hidden.text
    finding), so a clean layer over a page that shows 秘密★5年 is found twice (the mark through
    OCR, the disagreement here) and an invisible layer carrying text the page does not show is
    hidden text. Called only when OCR read the picture (not run, budget, failure: those are their
    own errors); a picture read as showing no text makes every layer line layer-only."""
    ocr_lines = [s for s in ocr_segments if s.layer == "ocr"]
    sure = [s.text for s in ocr_lines if float(s.locator.get("confidence", 0)) >= MISMATCH_CONFIDENCE]
    layer_lines = [ln for ln in layer_text.split("\n") if ln.strip()]
    image_only = _missing(sure, layer_text)
    layer_only = _missing(layer_lines, "\n".join(s.text for s in ocr_lines))
    doc.meta.setdefault("pdf_layer_checked_pages", []).append(no)
    for kind, lines in (("ocr_image_only", image_only), ("ocr_layer_only", layer_only)):
        if lines:
            doc.add("hidden", "\n".join(lines)[:4000], page=no, kind=kind)
