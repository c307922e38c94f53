"""PDF hidden layers with pypdfium2's low-level API (fast and bounded; see DESIGN.md).

Per page, page objects are walked in paint order (form XObjects included, bounded), so each
character knows what was painted over it afterwards:

- redaction: a character whose box is (mostly) covered by an opaque filled rectangle painted
  *after* it: text still in the file under a black (or any opaque) box, as x-ray finds.
  Text painted on top of a box is visible and not reported.
- hidden: invisible render mode (3) not over an image (an OCR layer over a scan is not hidden),
  white text not over a painted area, tiny text (< 1 pt), text entirely off the page.
- comment: annotation contents (notes, free text, markup popups), with subtype and author.
- metadata: document information dictionary and XMP packet (dc:creator, title, ...).
- attachment: embedded files, extracted recursively with a depth limit.
- text-layer quality: per page, how many drawn characters have no usable Unicode mapping
  (`stats["pages"]`); scanner.extract.pdf decides which pages are garbled (and OCRs them).
"""
from __future__ import annotations

import ctypes
import html as _html
import re

from ..model import Document
from . import errors as E
from . import extract_nested

MAX_OBJECTS_PER_PAGE = 50_000
MAX_FORM_DEPTH = 8
MAX_CHARS_PER_PAGE = 200_000
MAX_BOXES_PER_PAGE = 5_000
COVER_FRACTION = 0.6          # share of a char box inside the covering rectangle
TINY_PT = 1.0

OBJ_TEXT, OBJ_PATH, OBJ_IMAGE, OBJ_SHADING, OBJ_FORM = 1, 2, 3, 4, 5
_REDACTED_WORDS = re.compile(r"^[\W_]*(redacted|redaction|withheld|sealed|removed|x+|已删除|已隐去|已屏蔽|已遮盖|涂黑|略)[\W_\d]*$",
                             re.I)


def _addr(h) -> int:
    return ctypes.cast(h, ctypes.c_void_p).value or 0


_ADDR_FNS: dict[str, object] = {}


def _returning_address(fn):
    """The pdfium function `fn` (returning a handle) declared to return the handle's address as
    an int: what _addr(fn(...)) gives, without a ctypes.cast per call (the per-character loop)."""
    name = getattr(fn, "__name__", "")
    got = _ADDR_FNS.get(name)
    if got is None:
        proto = ctypes.CFUNCTYPE(ctypes.c_void_p, *fn.argtypes)
        got = _ADDR_FNS[name] = proto(ctypes.cast(fn, ctypes.c_void_p).value)
    return got


def _bounds(R, obj):
    lf, b, r, t = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    if not R.FPDFPageObj_GetBounds(obj, ctypes.byref(lf), ctypes.byref(b), ctypes.byref(r), ctypes.byref(t)):
        return None
    return lf.value, b.value, r.value, t.value


def _fill(R, obj):
    r, g, b, a = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    if not R.FPDFPageObj_GetFillColor(obj, ctypes.byref(r), ctypes.byref(g), ctypes.byref(b), ctypes.byref(a)):
        return None
    return r.value, g.value, b.value, a.value


class PageObjects:
    """Objects of one page in paint order: text objects (z by handle) and covering boxes."""

    def __init__(self, R, page_raw):
        self.R = R
        self.z_of_text: dict[int, int] = {}
        self.render_mode: dict[int, int] = {}
        self.boxes: list[tuple[float, float, float, float, int]] = []     # opaque filled rects
        self.images: list[tuple[float, float, float, float, int]] = []
        self.image_objs: list = []          # (l, b, r, t, z, handle) of image objects
        self.painted: list[tuple[float, float, float, float, int, bool]] = []   # any fill, dark?
        self.count = 0
        self.truncated = False
        n = R.FPDFPage_CountObjects(page_raw)
        self._walk([R.FPDFPage_GetObject(page_raw, k) for k in range(min(n, MAX_OBJECTS_PER_PAGE))], 0)
        if n > MAX_OBJECTS_PER_PAGE:
            self.truncated = True

    def under(self, cx, cy, z) -> bool:
        """Something (a filled path, an image, a shading) was painted at (cx, cy) before z."""
        return any(p[4] < z and p[0] - 1 <= cx <= p[2] + 1 and p[1] - 1 <= cy <= p[3] + 1 for p in self.painted) or \
            any(im[4] < z and im[0] <= cx <= im[2] and im[1] <= cy <= im[3] for im in self.images)

    def _walk(self, objs, depth):
        R = self.R
        for obj in objs:
            if self.count >= MAX_OBJECTS_PER_PAGE:
                self.truncated = True
                return
            self.count += 1
            z = self.count
            t = R.FPDFPageObj_GetType(obj)
            if t == OBJ_TEXT:
                self.z_of_text[_addr(obj)] = z
                self.render_mode[_addr(obj)] = R.FPDFTextObj_GetTextRenderMode(obj)
            elif t == OBJ_PATH:
                mode, stroke = ctypes.c_int(), ctypes.c_int()
                if not R.FPDFPath_GetDrawMode(obj, ctypes.byref(mode), ctypes.byref(stroke)) or mode.value == 0:
                    continue
                bb = _bounds(R, obj)
                col = _fill(R, obj)
                if bb is None or col is None:
                    continue
                w, h = bb[2] - bb[0], bb[3] - bb[1]
                if w < 2 or h < 2:
                    continue
                opaque = col[3] >= 250 and not R.FPDFPageObj_HasTransparency(obj)
                dark = (0.299 * col[0] + 0.587 * col[1] + 0.114 * col[2]) < 200
                self.painted.append((*bb, z, dark, 0.299 * col[0] + 0.587 * col[1] + 0.114 * col[2]))
                if opaque and len(self.boxes) < MAX_BOXES_PER_PAGE and 0 < R.FPDFPath_CountSegments(obj) <= 64:
                    self.boxes.append((*bb, z))
            elif t in (OBJ_IMAGE, OBJ_SHADING):
                bb = _bounds(R, obj)
                if bb is not None:
                    self.images.append((*bb, z))
                    if t == OBJ_IMAGE and len(self.image_objs) < MAX_BOXES_PER_PAGE:
                        self.image_objs.append((*bb, z, obj))
            elif t == OBJ_FORM and depth < MAX_FORM_DEPTH:
                # children of a form are painted at the form's place in the order
                n = R.FPDFFormObj_CountObjects(obj)
                if n > 0:
                    self._walk([R.FPDFFormObj_GetObject(obj, k) for k in range(min(n, MAX_OBJECTS_PER_PAGE))],
                               depth + 1)


def _char_table(R, tp_raw, n):
    """Arrays of per-char data: unicode, box, z (paint order of its text object), render mode,
    fill colour, font size, unicode-map error. Fill colour and font size belong to the character's
    text object, so they are read once per object (pdfium calls dominate extraction time)."""
    lf, r, b, t = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    cr, cg, cb, ca = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    bl, br, bb, bt = ctypes.byref(lf), ctypes.byref(r), ctypes.byref(b), ctypes.byref(t)
    bcr, bcg, bcb, bca = ctypes.byref(cr), ctypes.byref(cg), ctypes.byref(cb), ctypes.byref(ca)
    get_unicode, get_box = R.FPDFText_GetUnicode, R.FPDFText_GetCharBox
    get_obj_addr, has_maperr = _returning_address(R.FPDFText_GetTextObject), R.FPDFText_HasUnicodeMapError
    per_object: dict[int, tuple] = {}
    rows = []
    for i in range(n):
        u = get_unicode(tp_raw, i)
        ok = get_box(tp_raw, i, bl, br, bb, bt)
        oaddr = get_obj_addr(tp_raw, i) or 0
        style = per_object.get(oaddr) if oaddr else None
        if style is None:
            if R.FPDFText_GetFillColor(tp_raw, i, bcr, bcg, bcb, bca):
                col = (cr.value, cg.value, cb.value, ca.value)
            else:
                col = None
            style = (col, R.FPDFText_GetFontSize(tp_raw, i))
            if oaddr:
                per_object[oaddr] = style
        maperr = has_maperr(tp_raw, i) == 1
        rows.append((u, (lf.value, b.value, r.value, t.value) if ok else None, oaddr, style[0], style[1], maperr))
    return rows


def _group(chars: list[tuple[int, str, tuple]], gap: float = 6.0):
    """Group flagged chars (index, ch, box) into runs of consecutive indices / same line."""
    groups, cur = [], []
    for item in chars:
        if cur and (item[0] != cur[-1][0] + 1):
            # allow generated spaces/newlines between chars of one run
            prev_box, box = cur[-1][2], item[2]
            same_line = prev_box and box and abs(prev_box[1] - box[1]) < 3 and 0 <= box[0] - prev_box[2] < gap * 3
            if not (item[0] - cur[-1][0] <= 2 and same_line):
                groups.append(cur)
                cur = []
        cur.append(item)
    if cur:
        groups.append(cur)
    return groups


def _meaningful(text: str) -> bool:
    core = re.sub(r"[\s\W_]+", "", text)
    return bool(core) and not _REDACTED_WORDS.match(text.strip())


def _inside(box, rect, frac=COVER_FRACTION) -> bool:
    x0, y0, x1, y1 = box
    w, h = max(x1 - x0, 0.01), max(y1 - y0, 0.01)
    ix = min(x1, rect[2]) - max(x0, rect[0])
    iy = min(y1, rect[3]) - max(y0, rect[1])
    if ix <= 0 or iy <= 0:
        return False
    return (ix * iy) / (w * h) >= frac


class Render:
    """Lazy page renders (with and without annotations) to confirm what a reader actually sees."""

    def __init__(self, page, crop):
        self.page = page
        self.crop = crop
        w, h = crop[2] - crop[0], crop[3] - crop[1]
        self.scale = min(2.0, 2400.0 / max(w, h, 1.0))      # at most 2400 px on the long side
        self.ok = page.get_rotation() == 0
        self._img: dict[bool, object] = {}

    def gray(self, annots: bool):
        if annots not in self._img:
            import numpy as np
            bm = self.page.render(scale=self.scale, draw_annots=annots, may_draw_forms=False)
            arr = bm.to_numpy()
            self._img[annots] = np.asarray(arr[..., :3], dtype=np.float32).mean(axis=2)
            bm.close()
        return self._img[annots]

    def fresh_gray(self):
        """A render now (after page objects were toggled), not cached."""
        import numpy as np
        bm = self.page.render(scale=self.scale, draw_annots=False, may_draw_forms=False)
        arr = np.asarray(bm.to_numpy()[..., :3], dtype=np.float32).mean(axis=2)
        bm.close()
        return arr

    def region(self, box, annots: bool):
        return self.region_of(self.gray(annots), box)

    def region_of(self, img, box):
        x0, y0, x1, y1 = box
        dx, dy = -(x1 - x0) * 0.15 - 0.5, -(y1 - y0) * 0.15 - 0.5     # a margin around the glyph
        c0, c1 = int((x0 + dx - self.crop[0]) * self.scale), int((x1 - dx - self.crop[0]) * self.scale) + 1
        r0, r1 = int((self.crop[3] - (y1 - dy)) * self.scale), int((self.crop[3] - (y0 + dy)) * self.scale) + 1
        h, w = img.shape
        c0, c1, r0, r1 = max(0, c0), min(w, c1), max(0, r0), min(h, r1)
        if c1 <= c0 or r1 <= r0:
            return None
        return img[r0:r1, c0:c1]


def _lum(col) -> float:
    return 0.299 * col[0] + 0.587 * col[1] + 0.114 * col[2]


def _iter_annots(R, page, limit: int):
    """Annotation handles of a page (closed after use), at most `limit`."""
    n = R.FPDFPage_GetAnnotCount(page.raw)
    for k in range(min(n, limit)):
        annot = R.FPDFPage_GetAnnot(page.raw, k)
        if not annot:
            continue
        try:
            yield annot
        finally:
            R.FPDFPage_CloseAnnot(annot)


def _annot_boxes(R, page) -> list[tuple[float, float, float, float, int]]:
    """Rectangles (with subtype) of annotations that can paint over text: Square, Circle, Polygon
    (a rendering with and without annotations decides) and Redact (a redaction marked but never
    applied: the text under it is still there, whatever it looks like)."""
    out = []
    for a in _iter_annots(R, page, 500):
        sub = R.FPDFAnnot_GetSubtype(a)
        if sub in (5, 6, 7, 28):
            rect = R.FS_RECTF()
            if R.FPDFAnnot_GetRect(a, ctypes.byref(rect)):
                out.append((min(rect.left, rect.right), min(rect.bottom, rect.top),
                            max(rect.left, rect.right), max(rect.bottom, rect.top), sub))
    return out


def analyse_page(R, page, page_no: int, doc: Document, stats: dict, tp=None) -> None:
    """Redaction, invisible text and text-layer quality for one page. tp: its text page (the
    caller's, which the caller closes; default a new one, closed here)."""
    objs = PageObjects(R, page.raw)
    own = tp is None
    if own:
        tp = page.get_textpage()
    try:
        n = min(R.FPDFText_CountChars(tp.raw), MAX_CHARS_PER_PAGE)
        rows = _char_table(R, tp.raw, n)
        _classify_chars(R, tp.raw, page, page_no, doc, stats, objs, rows)
    finally:
        if own:
            tp.close()
    if objs.truncated:
        stats["truncated_pages"] += 1


def _loose_height(R, tp_raw, i: int) -> float:
    """Height of a character's loose box (font ascent to descent at its effective size)."""
    rect = R.FS_RECTF()
    if not R.FPDFText_GetLooseCharBox(tp_raw, i, ctypes.byref(rect)):
        return 0.0
    return abs(rect.top - rect.bottom)


def _classify_chars(R, tp_raw, page, page_no: int, doc: Document, stats: dict, objs: PageObjects, rows) -> None:
    w, h = page.get_size()
    try:
        crop = tuple(page.get_cropbox())
    except Exception:
        crop = (0.0, 0.0, w, h)
    # a box may be written with any two opposite corners ([0 0 612 -792]): readers normalise it
    crop = (min(crop[0], crop[2]), min(crop[1], crop[3]), max(crop[0], crop[2]), max(crop[1], crop[3]))
    x0p, y0p, x1p, y1p = crop
    annot_boxes = _annot_boxes(R, page)
    render = Render(page, crop)
    dark_boxes = [p for p in objs.painted if p[5] and p[3] - p[1] < 0.5 * (y1p - y0p)]
    covered, hidden = [], {"invisible": [], "white": [], "tiny": [], "offpage": []}
    page_area = max(1.0, (x1p - x0p) * (y1p - y0p))
    # small pictures painted over text (a screenshot or a black image used as a box); a picture
    # covering most of the page is a scan backdrop, not a redaction
    patches = [im for im in objs.image_objs if (im[2] - im[0]) * (im[3] - im[1]) < 0.25 * page_area]
    under_image = []
    for i, (u, box, oaddr, col, _size, maperr) in enumerate(rows):
        ch = chr(u) if 0 < u < 0x110000 else ""
        if not ch or u in (0xFFFE, 0xFFFF):
            if box is not None and box[2] > box[0]:
                stats["chars"] += 1      # a drawn glyph with no Unicode value at all
                stats["bad"] += 1
            continue
        if ch.strip():
            stats["chars"] += 1
            if maperr or ch == "\ufffd" or 0xE000 <= u <= 0xF8FF or (u < 32 and ch not in "\t\n\r"):
                stats["bad"] += 1
        if box is None or not ch.strip() or box[2] - box[0] <= 0 or box[3] - box[1] <= 0:
            continue
        z = objs.z_of_text.get(oaddr, 0)
        mode = objs.render_mode.get(oaddr, 0)
        if mode != 3 and _is_covered(box, z, col, dark_boxes, annot_boxes, render):
            covered.append((i, ch, box))
            continue
        if mode != 3 and patches:
            hits = [im for im in patches if im[4] > z and _inside(box, im)]
            if hits:
                under_image.append((i, ch, box, hits))
                continue
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        if mode == 3:
            if not any(im[0] - 2 <= cx <= im[2] + 2 and im[1] - 2 <= cy <= im[3] + 2 for im in objs.images):
                hidden["invisible"].append((i, ch, box))
            else:           # an OCR layer over a scan: scanner.extract.pdf compares it with the picture
                over = stats.setdefault("invisible_over_image", {})
                over[page_no] = over.get(page_no, 0) + 1
            continue
        if box[2] < x0p or box[0] > x1p or box[3] < y0p or box[1] > y1p:
            hidden["offpage"].append((i, ch, box))
            continue
        if box[3] - box[1] < TINY_PT and box[2] - box[0] < TINY_PT and _loose_height(R, tp_raw, i) < TINY_PT * 1.2:
            hidden["tiny"].append((i, ch, box))
            continue
        if col is not None and col[3] > 0 and min(col[:3]) >= 250 and mode in (0, 4):
            # white text is visible over anything painted beneath it: the rendered page decides
            # (uniformly white around the glyph = unreadable); without a usable render, geometry does
            if not render.ok:
                if not objs.under(cx, cy, z):
                    hidden["white"].append((i, ch, box))
            else:
                reg = render.region(box, annots=False)
                if reg is not None and float(reg.std()) < 4.0 and float(reg.mean()) > 245:
                    hidden["white"].append((i, ch, box))
    covered.extend(_confirm_under_images(R, render, under_image))
    covered.sort(key=lambda c: c[0])
    for grp in _group(covered):
        text = "".join(c for _, c, _ in grp)
        if _meaningful(text):
            bb = _union([b for _, _, b in grp])
            doc.add("redaction", text, page=page_no, kind="covered", bbox=bb)
    for kind, items in hidden.items():
        for grp in _group(items):
            text = "".join(c for _, c, _ in grp)
            if _meaningful(text):
                doc.add("hidden", text, page=page_no, kind=kind, bbox=_union([b for _, _, b in grp]))


def _confirm_under_images(R, render: Render, cands) -> list:
    """Chars under later-painted pictures: hidden when removing the pictures reveals the glyph."""
    if not cands or not render.ok:
        return []
    handles = {id(im[5]): im[5] for _, _, _, hits in cands for im in hits}
    try:
        for h in handles.values():
            R.FPDFPageObj_SetIsActive(h, False)
        without = render.fresh_gray()
    finally:
        for h in handles.values():
            R.FPDFPageObj_SetIsActive(h, True)
    out = []
    for i, ch, box, _hits in cands:
        shown = render.region(box, annots=False)
        bare = render.region_of(without, box)
        if shown is None or bare is None:
            continue
        if float(bare.std()) > 10.0 and float(abs(shown - bare).mean()) > 25.0:
            out.append((i, ch, box))
    return out


def _is_covered(box, z, col, dark_boxes, annot_boxes, render: Render) -> bool:
    """A char is covered when a dark opaque box is painted over it (or it is drawn in the box's own
    colour on top of it) and the rendered page confirms nothing of the glyph shows; or when an
    annotation box changes what the reader sees at that place."""
    for p in dark_boxes:
        if not _inside(box, p):
            continue
        after = p[4] > z
        same_colour = col is not None and abs(_lum(col) - p[6]) < 60
        if not after and not same_colour:
            continue
        if not render.ok:
            return after
        reg = render.region(box, annots=False)
        if reg is None:
            return False
        if float((reg < 110).mean()) >= 0.8:      # the glyph's surroundings are dark: illegible
            return True
    for a in annot_boxes:
        if not _inside(box, a, 0.8):
            continue
        if a[4] == 28:
            return True           # under an unapplied Redact annotation
        if not render.ok:
            continue
        plain, drawn = render.region(box, annots=False), render.region(box, annots=True)
        if plain is None or drawn is None:
            continue
        if float(plain.std()) > 10.0 and float(abs(plain - drawn).mean()) > 25.0:
            return True
    return False


def _union(boxes):
    return [round(min(b[0] for b in boxes), 1), round(min(b[1] for b in boxes), 1),
            round(max(b[2] for b in boxes), 1), round(max(b[3] for b in boxes), 1)]


def _wide(R, fn, *args) -> str:
    """Call a pdfium getter that fills a UTF-16LE buffer (length in bytes returned)."""
    n = fn(*args, None, 0)
    if n <= 2 or n > 1 << 20:
        return ""
    buf = ctypes.create_string_buffer(n)
    argtypes = getattr(fn, "argtypes", None)
    ptr = ctypes.cast(buf, argtypes[len(args)]) if argtypes else buf
    fn(*args, ptr, n)
    return buf.raw[:n].decode("utf-16-le", errors="replace").rstrip("\x00")


ANNOT_SUBTYPES = {1: "Text", 2: "Link", 3: "FreeText", 4: "Line", 5: "Square", 6: "Circle", 7: "Polygon",
                  8: "PolyLine", 9: "Highlight", 10: "Underline", 11: "Squiggly", 12: "StrikeOut", 13: "Stamp",
                  14: "Caret", 15: "Ink", 16: "Popup", 17: "FileAttachment", 18: "Sound", 19: "Movie",
                  20: "Widget", 21: "Screen", 22: "PrinterMark", 23: "TrapNet", 24: "Watermark",
                  25: "ThreeD", 26: "RichMedia", 27: "XFAWidget", 28: "Redact"}


def _link_uri(R, page, annot) -> str:
    link = R.FPDFAnnot_GetLink(annot)
    action = R.FPDFLink_GetAction(link) if link else None
    if not action:
        return ""
    pdf_raw = page.pdf.raw
    n = R.FPDFAction_GetURIPath(pdf_raw, action, None, 0)
    if not 0 < n < 1 << 16:
        return ""
    buf = ctypes.create_string_buffer(n)
    R.FPDFAction_GetURIPath(pdf_raw, action, buf, n)
    return buf.raw[:n].rstrip(b"\x00").decode("latin-1", "replace")


def annotations(R, page, page_no: int, doc: Document) -> None:
    """Annotation contents -> comment layer; link targets -> metadata; form field values -> body."""
    for annot in _iter_annots(R, page, 2000):
        sub = ANNOT_SUBTYPES.get(R.FPDFAnnot_GetSubtype(annot), "Other")
        if sub == "Popup":
            continue
        if sub == "Link":
            uri = _link_uri(R, page, annot)
            if uri:
                doc.add("metadata", uri[:2000], page=page_no, field="link", kind="link")
            continue
        if sub == "FileAttachment":
            att = R.FPDFAnnot_GetFileAttachment(annot)
            if att:
                _nest_attachment(R, att, doc, f"page{page_no}-attachment", page=page_no)
        if sub == "Widget":
            value = _wide(R, R.FPDFAnnot_GetStringValue, annot, b"V")
            if value.strip():
                doc.add("body", value, page=page_no, kind="form_field")
            continue
        contents = _wide(R, R.FPDFAnnot_GetStringValue, annot, b"Contents")
        if contents.strip():
            author = _wide(R, R.FPDFAnnot_GetStringValue, annot, b"T")
            doc.add("comment", contents, page=page_no, kind="annotation", subtype=sub, author=author[:200])


INFO_FIELDS = {"Author": "author", "Title": "title", "Subject": "subject", "Keywords": "keywords",
               "Creator": "creator", "Producer": "producer"}
_XMP = re.compile(rb"<x:xmpmeta.{0,200000}?</x:xmpmeta>", re.S)
_XMP_FIELDS = {"dc:creator": "author", "dc:title": "title", "dc:description": "subject", "pdf:Keywords": "keywords",
               "xmp:CreatorTool": "creator", "pdf:Producer": "producer", "photoshop:AuthorsPosition": "author",
               "pdfx:Company": "company", "xmpMM:Manager": "manager"}


def metadata(pdf, data: bytes, doc: Document) -> None:
    seen = set()
    try:
        info = pdf.get_metadata_dict(skip_empty=True)
    except Exception:
        info = {}
    for key, field in INFO_FIELDS.items():
        val = (info.get(key) or "").strip()
        if val:
            seen.add((field, val))
            doc.add("metadata", val[:4000], field=field, part="Info")
    # XMP: usually an uncompressed stream; read it as text without any XML parser
    m = _XMP.search(data[: 32 << 20])
    if m:
        xmp = m.group(0).decode("utf-8", errors="replace")
        for tag, field in _XMP_FIELDS.items():
            for block in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", xmp, re.S)[:20]:
                vals = re.findall(r"<rdf:li[^>]*>(.*?)</rdf:li>", block, re.S) or [block]
                for v in vals:
                    v = re.sub(r"<[^>]+>", "", v).strip()
                    v = _html.unescape(v)
                    if v and (field, v) not in seen:
                        seen.add((field, v))
                        doc.add("metadata", v[:4000], field=field, part="XMP")


def _attachment_bytes(R, att, doc: Document, label: str) -> bytes | None:
    size = ctypes.c_ulong()
    if not R.FPDFAttachment_GetFile(att, None, 0, ctypes.byref(size)):
        doc.errors.append(E.partial(f"{label} not readable"))
        return None
    if size.value > 64 << 20:
        doc.errors.append(E.archive_bomb(f"{label} too large"))
        return None
    buf = ctypes.create_string_buffer(max(size.value, 1))
    R.FPDFAttachment_GetFile(att, buf, size.value, ctypes.byref(size))
    return buf.raw[: size.value]


def _nest_attachment(R, att, doc: Document, fallback_name: str, **loc) -> None:
    name = _wide(R, R.FPDFAttachment_GetName, att) or fallback_name
    data = _attachment_bytes(R, att, doc, "embedded file")
    if data:
        extract_nested(data, name, doc, member=name, kind="embedded_file", **loc)


def attachments(R, pdf, doc: Document) -> None:
    """Embedded files of the document's name tree, extracted recursively."""
    n = R.FPDFDoc_GetAttachmentCount(pdf.raw)
    for k in range(min(n, 100)):
        att = R.FPDFDoc_GetAttachment(pdf.raw, k)
        if att:
            _nest_attachment(R, att, doc, f"attachment-{k}")


FORM_SOURCE_MAX = 64 << 20       # bytes of an ONLYOFFICE form's source package, decoded


def form_source(data: bytes, doc: Document) -> None:
    """An ONLYOFFICE PDF form carries the form's source (a docxf: a docx package) in a stream of
    /Type /MetaOForm that no page draws. It is extracted as an embedded file: what it holds is
    scanned (the form's fields and text, also what the pages no longer show), and a blank form's
    source is read blank (scanner.extract.blank counts that stream as read). A source that cannot
    be found or decoded is extract.partial (review)."""
    if b"/MetaOForm" not in data:
        return
    import io

    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import PDFStream

    from .blank import PDF_MAX_OBJECTS, _bounded_decode
    found = 0
    try:
        pdoc = PDFDocument(PDFParser(io.BytesIO(data)))
        ids = sorted({i for xref in pdoc.xrefs for i in xref.get_objids()})[:PDF_MAX_OBJECTS]
        for objid in ids:
            obj = pdoc.getobj(objid)
            if not isinstance(obj, PDFStream) or getattr(obj.get("Type"), "name", None) != "MetaOForm":
                continue
            found += 1
            raw = _bounded_decode(obj.rawdata or b"", obj.get_filters(), FORM_SOURCE_MAX)
            if raw is None:
                doc.errors.append(E.partial("ONLYOFFICE form source not decoded"))
                continue
            extract_nested(raw, "MetaOForm.docx", doc, member=f"MetaOForm-{objid}.docx", kind="embedded_file")
    except Exception as exc:       # pdfminer's own failure on a damaged file
        doc.errors.append(E.partial(f"ONLYOFFICE form source not parsed: {type(exc).__name__}"))
        return
    if not found:
        doc.errors.append(E.partial("ONLYOFFICE form source not found"))


def javascript(R, pdf, doc: Document) -> None:
    """Document-level JavaScript (never run): scanned for addresses and secrets as script text."""
    n = R.FPDFDoc_GetJavaScriptActionCount(pdf.raw)
    for k in range(min(max(n, 0), 100)):
        js = R.FPDFDoc_GetJavaScriptAction(pdf.raw, k)
        if not js:
            continue
        try:
            name = _wide(R, R.FPDFJavaScriptAction_GetName, js)
            script = _wide(R, R.FPDFJavaScriptAction_GetScript, js)
        finally:
            R.FPDFDoc_CloseJavaScriptAction(js)
        if script.strip():
            doc.add("script", script[:1_000_000], element="javascript", name=name[:200])


def is_garbled(chars: int, bad: int) -> bool:
    """A text layer is unusable when more than 10 % of its characters have no Unicode mapping
    (pdfium's map error, U+FFFD, private use area, control characters)."""
    return chars >= 20 and bad / chars > 0.1


def extract_pdf_layers(data: bytes, pdf, doc: Document, max_pages: int = 2000, deadline: float | None = None,
                       pages=None) -> dict:
    """pages: the extraction's Pages (pages and text pages loaded once)."""
    import time

    import pypdfium2.raw as R

    from .pdf_pages import Pages
    pages = pages if pages is not None else Pages(pdf)
    stats = {"chars": 0, "bad": 0, "truncated_pages": 0, "pages": {}}
    n = min(len(pdf), max_pages)
    for i in range(n):
        if deadline is not None and time.monotonic() > deadline:
            doc.errors.append(E.timeout(f"page analysis stopped at page {i + 1}"))
            break
        chars0, bad0 = stats["chars"], stats["bad"]
        with pages.page(i) as page:
            with pages.textpage(i, page) as tp:
                analyse_page(R, page, i + 1, doc, stats, tp)
            annotations(R, page, i + 1, doc)
        stats["pages"][i + 1] = (stats["chars"] - chars0, stats["bad"] - bad0)
    if stats["truncated_pages"]:
        doc.errors.append(E.truncated(f"{stats['truncated_pages']} pages with too many objects"))
    doc.meta["pdf_chars"] = stats["chars"]
    metadata(pdf, data, doc)
    attachments(R, pdf, doc)
    form_source(data, doc)
    javascript(R, pdf, doc)
    return stats
