"""Child process for PDF page images and finding boxes (never parsed in the service process:
PDFs can be hostile; see DESIGN.md). Runs as `python -I -m service.web.pdfrender` with memory
and CPU limits. stdin: one JSON line, then the PDF bytes. stdout: PNG bytes (op=render) or
JSON (op=boxes: per page, normalised [x, y, w, h] rectangles for each query); op=image: one frame
of an uploaded picture as PNG; op=metafile: an uploaded EMF/WMF as the scanner OCR'd it (converted
by LibreOffice in its own sandbox, rendered and cropped: scanner.extract.image.metafile_picture)."""
from __future__ import annotations

import io
import json
import sys

MAX_PIXELS = 2400 * 2400


def _boxes(pdf, queries: dict) -> dict:
    out = {}
    for page_no, items in queries.items():
        i = int(page_no) - 1
        if not 0 <= i < len(pdf):
            continue
        page = pdf[i]
        tp = page.get_textpage()
        try:
            w, h = page.get_size()
            res = []
            for fid, text, ordinal in items:
                rects = []
                if text:
                    searcher = tp.search(text, match_case=True)
                    hits = []
                    while len(hits) <= ordinal:
                        hit = searcher.get_next()
                        if not hit:
                            break
                        hits.append(hit)
                    searcher.close()
                    if hits:
                        idx, cnt = hits[min(ordinal, len(hits) - 1)]
                        for r in range(tp.count_rects(idx, cnt)):
                            left, bottom, right, top = tp.get_rect(r)
                            rects.append([left / w, 1 - top / h, (right - left) / w, (top - bottom) / h])
                res.append([fid, rects])
            out[str(page_no)] = {"w": w, "h": h, "boxes": res}
        finally:                  # the text page (and its searches) before the page
            tp.close()
            page.close()
    return out


def _image(data: bytes, page: int) -> bytes:
    """One frame of an uploaded picture as PNG (at most MAX_PIXELS), decoded within the scanner's
    picture limits (scanner.extract.image: pixel cap, no truncated data)."""
    from scanner.extract.image import flatten, open_image
    img = open_image(data)
    if page > 1:
        img.seek(page - 1)
    img.load()
    return _png(flatten(img))


def _png(img) -> bytes:
    if img.width * img.height > MAX_PIXELS:
        f = (MAX_PIXELS / (img.width * img.height)) ** 0.5
        img = img.resize((max(1, int(img.width * f)), max(1, int(img.height * f))))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _metafile(data: bytes) -> bytes:
    """An uploaded EMF/WMF as the PNG the scanner OCR'd (the same conversion, render and crop), so
    that the boxes of its OCR findings (pixels of that picture) land on what they mark."""
    from scanner.extract.image import metafile_picture, unpack_metafile
    from scanner.errors import ExtractionFailed
    try:
        meta = unpack_metafile(data)          # .emz/.wmz: inflated within the scanner's limit
    except ExtractionFailed:
        raise SystemExit(2)
    if meta is None:
        raise SystemExit(2)
    img = metafile_picture(meta)
    if img is None:
        raise SystemExit(3)
    return _png(img)


# LibreOffice converts a metafile in a process of its own under these limits (as in the extraction
# child without OCR: config.SandboxLimits' defaults); drawing a page or a picture needs less
LIMITS = {"metafile": (1536, 60)}


def main() -> int:
    from scanner.extract.sandbox import limit_child
    header = sys.stdin.buffer.readline()
    cmd = json.loads(header)
    limit_child(*LIMITS.get(cmd.get("op"), (768, 20)))
    data = sys.stdin.buffer.read()
    if cmd["op"] == "image":
        sys.stdout.buffer.write(_image(data, int(cmd.get("page", 1))))
        return 0
    if cmd["op"] == "metafile":
        sys.stdout.buffer.write(_metafile(data))
        return 0
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(data)
    try:
        if cmd["op"] == "render":
            page = pdf[int(cmd["page"]) - 1]
            try:
                w, h = page.get_size()
                scale = min(float(cmd.get("scale", 1.5)), (MAX_PIXELS / max(w * h, 1)) ** 0.5)
                img = page.render(scale=scale).to_pil()     # a native bitmap: its pixels outlive the page
            finally:
                page.close()
            buf = io.BytesIO()
            img.save(buf, format="PNG", optimize=False)
            sys.stdout.buffer.write(buf.getvalue())
        elif cmd["op"] == "boxes":
            sys.stdout.buffer.write(json.dumps({"pages": _boxes(pdf, cmd["queries"]),
                                                "count": len(pdf)}).encode())
    finally:
        pdf.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
