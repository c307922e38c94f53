"""Blank is not unread: structural proof that an office file shows nothing at all.

The empty-document rule (scanner.extract.empty_document) makes a file with no visible text a
review (`extract.no_text`), unless its extractor verified that nothing visible was left unread.
These checks are that verification for pptx and docx, strict by construction: anything that could
draw on a page or slide (a picture, a chart or table, a shape, a filled or outlined placeholder,
a picture or pattern background, a drawing, a text box, an embedded object, a media file in the
package) makes the file *not* blank, and it stays `extract.no_text`. Each check returns a short
English detail of what was verified, or None.
"""
from __future__ import annotations

import re
import zipfile

from .ooxml_props import part_rels
from .xmlsafe import local, parse_xml
from .zipsafe import read_member

A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
PAINTS = ("solidFill", "gradFill", "blipFill", "pattFill", "grpFill")
PICTURE_BG = ("blipFill", "pattFill")       # a background that can carry content (not one colour/gradient)


def _has_text(el) -> bool:
    return any((t.text or "").strip() for t in el.iter(A + "t"))


def _painted(sp) -> bool:
    """A shape that draws something even when empty: a fill or outline of its own, or a theme style."""
    sppr = next((c for c in sp if local(c.tag) == "spPr"), None)
    if any(local(c.tag) == "style" for c in sp):
        return True
    if sppr is None:
        return False
    for c in sppr:
        name = local(c.tag)
        if name in PAINTS:
            return True
        if name == "ln" and any(local(x.tag) != "noFill" for x in c if local(x.tag).endswith("Fill")):
            return True
        if name in ("effectLst", "scene3d", "sp3d") and len(c):
            return True
    return False


def _placeholder(sp) -> bool:
    nv = next((c for c in sp if local(c.tag) == "nvSpPr"), None)
    nvpr = next((c for c in nv if local(c.tag) == "nvPr"), None) if nv is not None else None
    return nvpr is not None and any(local(c.tag) == "ph" for c in nvpr)


def _tree_blank(root, placeholders_only_empty: bool) -> bool:
    """The shape tree shows nothing: only group properties and, when allowed, empty unpainted
    placeholders (a slideshow does not show an empty placeholder's prompt)."""
    tree = next(root.iter(P + "spTree"), None)
    if tree is None:
        return True
    for el in tree:
        name = local(el.tag)
        if name in ("nvGrpSpPr", "grpSpPr", "extLst"):
            continue
        if name == "sp" and _placeholder(el) and not _painted(el) and (
                not placeholders_only_empty or not _has_text(el)):
            continue
        return False
    return True


def _background_blank(root, zf, names, theme: str | None) -> bool:
    bg = next(root.iter(P + "bg"), None)
    if bg is None:
        return True
    if any(local(x.tag) in PICTURE_BG for x in bg.iter()):
        return False
    ref = next((x for x in bg if local(x.tag) == "bgRef"), None)
    if ref is None:
        return True
    try:
        idx = int(ref.get("idx") or 0)
    except ValueError:
        return False
    if idx < 1001:
        return True
    if theme is None or theme not in names:
        return False
    troot = parse_xml(read_member(zf, theme))
    lst = next((x for x in troot.iter(A + "bgFillStyleLst")), None)
    styles = list(lst) if lst is not None else []
    return idx - 1001 < len(styles) and local(styles[idx - 1001].tag) not in PICTURE_BG


def _related(zf, names, part: str, rtype: str) -> str | None:
    return next((t for t, r in part_rels(zf, names, part).values() if r == rtype and t in names), None)


def pptx_blank(zf: zipfile.ZipFile, names, order: list[str]) -> str | None:
    """Every slide (hidden ones too) shows nothing: its shapes are empty unpainted placeholders, and
    its layout and master add no shape, picture or picture background; no media in the package."""
    if any(n.startswith(("ppt/media/", "ppt/embeddings/")) for n in names):
        return None
    for part in order:
        root = parse_xml(read_member(zf, part))
        if not _tree_blank(root, placeholders_only_empty=True):
            return None
        layout = _related(zf, names, part, "slideLayout")
        master = _related(zf, names, layout, "slideMaster") if layout else None
        theme = _related(zf, names, master, "theme") if master else None
        if not _background_blank(root, zf, names, theme):
            return None
        for inherited in (layout, master):
            if inherited is None:
                return None
            iroot = parse_xml(read_member(zf, inherited))
            # a layout's or master's placeholders are not shown on the slide (only the slide's own,
            # which inherit their paint: so those must be unpainted too); anything else is
            if not _tree_blank(iroot, placeholders_only_empty=False) or not _background_blank(iroot, zf, names, theme):
                return None
    return f"pptx: {len(order)} slide(s) with only empty placeholders" if order else "pptx: no slides"


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DRAWN = {"drawing", "pict", "object", "tbl", "background", "pgBorders", "txbxContent", "AlternateContent",
         "control", "fldSimple", "fldChar", "ruby", "sym", "ptab", "dayLong", "monthLong", "pgNum"}


def docx_blank(zf: zipfile.ZipFile, names, roots: list) -> str | None:
    """The document body, headers and footers show nothing: no text, no drawing, picture, VML, OLE
    object, table (its borders show), page border, background, field or symbol; no media in the
    package. roots: the parsed document, header and footer parts."""
    if any(n.startswith(("word/media/", "word/embeddings/")) for n in names):
        return None
    for root in roots:
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            name = local(el.tag)
            if name in DRAWN:
                return None
            if name in ("t", "delText", "instrText") and (el.text or "").strip():
                return None
    return f"docx: {len(roots)} part(s) without content"


# -- PDF: a page rendered without ink is blank only if everything it could draw was read -----------
PDF_DECODED_MAX = 4 << 20      # bytes of decoded content streams in all (a blank page has a few hundred)
PDF_FILTERS = {"FlateDecode", "Fl", "ASCIIHexDecode", "AHx", "ASCII85Decode", "A85"}


def _bounded_decode(raw: bytes, filters: list, budget: int) -> bytes | None:
    """Decode a stream through its filters, never producing more than `budget` bytes; None when a
    filter is not one of PDF_FILTERS (strict: an unusual filter is not taken for nothing), has
    parameters (a predictor), or the output would exceed the budget (a decompression bomb)."""
    import base64
    import binascii
    import zlib
    data = raw
    for name, params in filters:
        fname = getattr(name, "name", name)
        if fname not in PDF_FILTERS or params:
            return None
        try:
            if fname in ("FlateDecode", "Fl"):
                d = zlib.decompressobj()
                data = d.decompress(data, budget + 1)
                if len(data) > budget or d.unconsumed_tail:
                    return None
            elif fname in ("ASCIIHexDecode", "AHx"):
                hexd = bytes(c for c in data.split(b">", 1)[0] if chr(c) in "0123456789abcdefABCDEF")
                data = binascii.unhexlify(hexd + b"0" * (len(hexd) % 2))
            else:
                body = data.strip()
                body = body[2:] if body.startswith(b"<~") else body
                data = base64.a85decode(body.split(b"~>", 1)[0], adobe=False)
        except (zlib.error, ValueError, binascii.Error):
            return None
    return data if len(data) <= budget else None


# what could show something: a string (text shown by any operator, or by one a damaged file misspells),
# a text-showing, XObject, inline-image or shading operator, or a path painted by fill or stroke. A
# blank page's content has none of them (empty, q/Q, or reportlab's `BT /F1 12 Tf 14.4 TL ET`).
PAINTING = re.compile(
    rb"[(]|(?<!<)<(?!<)|(?<![A-Za-z0-9*'\"/])(?:Tj|TJ|'|\"|Do|BI|ID|sh|f\*?|F|S|s|B\*?|b\*?)(?![A-Za-z0-9*'\"])")


def pdf_contents_readable(data: bytes, max_pages: int, page_count: int | None = None) -> bool:
    """Every page's content streams decode within PDF_DECODED_MAX bytes in all and hold nothing that
    could show (PAINTING), no other stream of the file would show anything, and no page has an
    XObject (picture or form) or an annotation: then pdfium's ink-free rendering is a reading of
    everything the page could show. Otherwise (a bomb pdfium silently drops, an undecodable filter,
    a damaged /Contents reference, a form or picture, an annotation's appearance, fewer or more pages
    than pdfium's `page_count`) the page is not proven blank."""
    import io

    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import PDFStream, resolve1
    seen = 0
    try:
        pdoc = PDFDocument(PDFParser(io.BytesIO(data)))
        for page in PDFPage.create_pages(pdoc):
            seen += 1
            if seen > max_pages:
                return False
            if resolve1(page.attrs.get("Annots")):
                return False
            res = resolve1(page.resources) or {}
            if resolve1(res.get("XObject")) if isinstance(res, dict) else False:
                return False
            raw = resolve1(page.attrs.get("Contents"))
            streams = [] if raw is None else [resolve1(x) for x in raw] if isinstance(raw, list) else [raw]
            if not all(isinstance(stm, PDFStream) for stm in streams):
                return False        # a damaged reference: what it pointed at is unknown
        # every stream of the file once, the pages' contents and any a page does not draw (a damaged
        # /Contents key orphans the page's text): only metadata, or streams that show nothing
        if not _no_stream_shows_anything(pdoc):
            return False
    except Exception:       # anything pdfminer cannot parse is not proven blank
        return False
    return seen > 0 and (page_count is None or seen == page_count)


PDF_MAX_OBJECTS = 5000


def _no_stream_shows_anything(pdoc) -> bool:
    """Every stream decodes within PDF_DECODED_MAX bytes in all and has nothing PAINTING finds
    (metadata, cross-reference and object streams aside)."""
    from pdfminer.pdftypes import PDFStream
    budget = PDF_DECODED_MAX
    ids = {i for xref in pdoc.xrefs for i in xref.get_objids()}
    if len(ids) > PDF_MAX_OBJECTS:
        return False
    for objid in sorted(ids):
        try:
            obj = pdoc.getobj(objid)
        except Exception:
            return False
        # MetaOForm: an ONLYOFFICE form's source package, read as an embedded file by
        # scanner.extract.pdf_layers.form_source (what it holds is scanned; not read, it is an error)
        if not isinstance(obj, PDFStream) or getattr(obj.get("Type"), "name", None) in (
                "Metadata", "XRef", "ObjStm", "MetaOForm"):
            continue
        out = _bounded_decode(obj.rawdata or b"", obj.get_filters(), budget)
        if out is None or PAINTING.search(out):
            return False
        budget -= len(out)
    return True
