"""Redacted PDF by true redaction: every page rasterised (pypdfium2), black boxes burnt into the
pixels over each finding, and a new PDF written from the images alone (Pillow): no text layer, no
fonts, no annotations, no metadata of the original survive.

Where a box comes from:
- text layer: each selected finding's text is searched on the pages (pdfium's text search, so
  a match that wraps inside one line run is found) and every match's character rectangles are
  covered;
- OCR findings of a scanned page: their `bbox` in PDF points (scanner.extract.ocr), widened; on a
  rotated page, where OCR gives no `bbox`, their pixel `box` in the rendered page (`size`), which
  is the same view as the render here.
Boxes in PDF points are mapped to the rendered bitmap by pdfium (FPDF_PageToDevice), so a page
with /Rotate (90/180/270) or a crop box away from the origin gets its boxes on the right place.
A finding with no box found is reported back (`unplaced`), so the caller fails closed.
"""
from __future__ import annotations

import io

SCALE = 2.0            # 144 dpi
PAD = 1.5              # points around a text box


class PdfResult(bytes):
    unplaced: int = 0


def _text_boxes(page, texts: list[str]) -> tuple[list, set[str]]:
    boxes, found = [], set()
    tp = page.get_textpage()
    try:
        for t in texts:
            s = t.strip()
            if not s:
                continue
            searcher = tp.search(s, match_case=True, match_whole_word=False)
            try:
                while True:
                    hit = searcher.get_next()
                    if not hit:
                        break
                    idx, count = hit
                    found.add(t)
                    for k in range(tp.count_rects(idx, count)):
                        boxes.append(tp.get_rect(k))
            finally:
                searcher.close()
    finally:
        tp.close()
    return boxes, found


def _device_rect(page, width: int, height: int, box) -> tuple[float, float, float, float]:
    """A (left, bottom, right, top) box in PDF points -> (x0, y0, x1, y1) pixels of a `width` x
    `height` render of the page (its /Rotate applied, as pdfium renders it)."""
    import ctypes

    import pypdfium2.raw as R
    left, bottom, right, top = box
    xs, ys = [], []
    dx, dy = ctypes.c_int(), ctypes.c_int()
    for x, y in ((left, bottom), (left, top), (right, bottom), (right, top)):
        R.FPDF_PageToDevice(page.raw, 0, 0, width, height, 0, float(x), float(y), ctypes.byref(dx), ctypes.byref(dy))
        xs.append(dx.value)
        ys.append(dy.value)
    return min(xs), min(ys), max(xs), max(ys)


def _ocr_pixel_box(f, img_w: int, img_h: int) -> tuple | None:
    """An OCR finding of a page render without `bbox` (a rotated page): its pixel `box` in that
    render (`size`), scaled to this render, widened by one line height."""
    loc = f.location or {}
    box, size = loc.get("box"), loc.get("size")
    if loc.get("image") or not box or len(box) != 4 or not size or len(size) != 2 or not size[0] or not size[1]:
        return None
    sx, sy = img_w / float(size[0]), img_h / float(size[1])
    x0, y0, x1, y1 = float(box[0]) * sx, float(box[1]) * sy, float(box[2]) * sx, float(box[3]) * sy
    grow = y1 - y0          # one character height: the share of the line is an estimate
    return (x0 - grow, y0 - PAD * SCALE, x1 + grow, y1 + PAD * SCALE)


def _ocr_box(f, seg_text_len: int | None) -> tuple | None:
    """The finding's box in PDF points. OCR findings carry their own `bbox` (with the line's in
    `line_bbox`); an older report has only the line's, and the share of it the offsets cover is
    taken. Widened by one line height on each side (OCR boxes are estimates)."""
    loc = f.location or {}
    bbox = loc.get("bbox")
    if not bbox or len(bbox) != 4:
        return None
    x0, y0, x1, y1 = (float(v) for v in bbox)
    y0, y1 = min(y0, y1), max(y0, y1)
    if "line_bbox" not in loc:
        if not seg_text_len:
            return (x0, y0, x1, y1)
        per = (x1 - x0) / seg_text_len
        x0, x1 = x0 + per * f.start, x0 + per * f.end
    grow = y1 - y0          # one character height: the share of the line is an estimate
    return (x0 - grow, y0 - PAD, x1 + grow, y1 + PAD)


def redact_pdf(data: bytes, findings: list, mode: str = "block", segments: dict | None = None) -> bytes:
    """`segments`: segment id -> text length (for OCR findings); without it the finding's own
    recorded line length is unknown and the whole OCR line is covered."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    # findings inside an embedded file (location `member`) go with it: the copy is written from
    # the page images alone, so no attachment, annotation or form survives
    findings = [f for f in findings if not (f.location or {}).get("member")]
    texts = sorted({f.text for f in findings if f.text and f.layer != "ocr"}, key=len, reverse=True)
    pdf = pdfium.PdfDocument(data)
    images = []
    placed: set[str] = set()
    ocr_missing = 0
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            try:
                boxes, found = _text_boxes(page, texts)
                placed |= found
                pixel_boxes = []
                for f in findings:
                    if f.layer != "ocr" or (f.location or {}).get("page") != i + 1:
                        continue
                    box = _ocr_box(f, (segments or {}).get(f.segment_id))
                    if box is None:
                        pixel_boxes.append(f)
                        continue
                    boxes.append(box)
                img = page.render(scale=SCALE, rotation=0, may_draw_forms=True).to_pil().convert("RGB")
                rects = [_device_rect(page, img.width, img.height, b) for b in boxes]
            finally:
                page.close()
            pad = PAD * SCALE
            rects = [(x0 - pad, y0 - pad, x1 + pad, y1 + pad) for x0, y0, x1, y1 in rects]
            for f in pixel_boxes:
                r = _ocr_pixel_box(f, img.width, img.height)
                if r is None:
                    ocr_missing += 1
                else:
                    rects.append(r)
            draw = ImageDraw.Draw(img)
            for x0, y0, x1, y1 in rects:
                draw.rectangle([x0, y0, x1, y1], fill=(0, 0, 0))
            images.append(img)
    finally:
        pdf.close()
    if not images:
        images = [Image.new("RGB", (595, 842), "white")]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=72 * SCALE)
    out = PdfResult(buf.getvalue())
    out.unplaced = ocr_missing + sum(1 for t in texts if t not in placed)
    return out
