"""OFD (GB/T 33190-2016): a zip of XML. Text objects (ofd:TextObject/ofd:TextCode) per page in
page order — also those inside the CompositeGraphicUnits a page's CompositeObjects draw —,
annotations, custom tags, attachments, and document info (author, title, ...).

A page without a usable text layer that draws paths (text as outlines, scanner.extract.ofd_render)
is rendered and OCR'd like a scanned PDF page; a page that cannot be rendered is unread (review).
The pictures of an electronic seal (Signs/…/Seal.esl, a PNG/JPEG/GIF inside the SES structure) are
read like any embedded picture. A document in which nothing was read, whose pages show ink (drawings
in which OCR found no text region at all), is `extract.no_text` (review) naming those pages, as a PDF
of such pages: what the drawings show was not read. A document whose pages show nothing (no objects,
or paths whose render has no ink), with no picture, seal or annotation, gets the `extract.blank`
note instead (scanner.extract.empty_document).
"""
from __future__ import annotations

import posixpath
import re

from ..model import Document
from . import errors as E
from . import extract_nested, textlayer
from .xmlsafe import local, parse_xml
from .zipsafe import open_zip, read_member

MAX_PAGES = 2000
DOCINFO_FIELDS = {"Title": "title", "Author": "author", "Subject": "subject", "Abstract": "comments",
                  "Keywords": "keywords", "Creator": "creator", "CreatorVersion": "creator_version",
                  "DocUsage": "category"}


def _find(names, base: str, loc: str) -> str | None:
    loc = (loc or "").strip().replace("\\", "/")
    if not loc:
        return None
    cand = [loc.lstrip("/"), posixpath.normpath(posixpath.join(base, loc))]
    for c in cand:
        if c in names:
            return c
    return None


def _texts(root, units: dict | None = None, depth: int = 0) -> list[str]:
    """Text objects under `root` in order; a CompositeObject's unit (units: ID -> Content) adds its own."""
    lines = []
    for obj in root.iter():
        if not isinstance(obj.tag, str):
            continue
        name = local(obj.tag)
        if name == "CompositeObject" and units and depth < 8:
            unit = units.get((obj.get("ResourceID") or "").strip())
            if unit is not None:
                lines.extend(_texts(unit, units, depth + 1))
            continue
        if name != "TextObject":
            continue
        parts = [tc.text or "" for tc in obj.iter() if local(tc.tag) == "TextCode"]
        t = "".join(parts)
        if t.strip():
            lines.append(t)
    return lines


RENDER_DPI = 200
MIN_PAGE_TEXT = 10          # as for PDF pages: fewer usable characters and the page is rendered
SEAL_PICTURES = ((b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"GIF8", ".gif"), (b"PK\x03\x04", ".ofd"))
DRAWN_OBJECTS = ("PathObject", "TextObject", "ImageObject", "CompositeObject", "PageBlock")


def _resources(zf, names, base: str, droot) -> dict:
    """CompositeGraphicUnits (ID -> Content element) of the document's public and document resources."""
    units: dict = {}
    for el in droot.iter():
        if not isinstance(el.tag, str) or local(el.tag) not in ("PublicRes", "DocumentRes") or not el.text:
            continue
        part = _find(names, base, el.text)
        if not part:
            continue
        for unit in parse_xml(read_member(zf, part)).iter():
            if isinstance(unit.tag, str) and local(unit.tag) == "CompositeGraphicUnit" and unit.get("ID"):
                content = next((c for c in unit if isinstance(c.tag, str) and local(c.tag) == "Content"), None)
                if content is not None:
                    units[unit.get("ID").strip()] = content
    return units


def _box(root) -> tuple[float, float, float, float] | None:
    """The PhysicalBox (x, y, w, h in mm) under `root` (a Page's Area or the document's PageArea)."""
    for el in root.iter():
        if isinstance(el.tag, str) and local(el.tag) == "PhysicalBox":
            try:
                x, y, w, h = (float(v) for v in (el.text or "").split())
                return x, y, w, h
            except ValueError:
                return None
    return None


def _content(root):
    return [el for el in root.iter() if isinstance(el.tag, str) and local(el.tag) == "Content"]


def _draws(root) -> bool:
    return any(isinstance(el.tag, str) and local(el.tag) in DRAWN_OBJECTS for el in root.iter())


def _read_drawn_page(doc: Document, no: int, layers: list, box, units: dict) -> str:
    """Render the page's paths and OCR them: 'text' (OCR read something), 'drawing' (it shows ink and
    OCR found no text region at all: not read, extract.no_text), 'faint' (the render shows no ink,
    as a PDF page rendered without ink), 'unread' (not rendered or not read: recorded)."""
    from . import ocr
    from .ofd_render import RenderError, Resources, render
    opts = ocr.options()
    if not opts.enabled:            # no rendering without OCR to read it (light mode): unread
        ocr.unread(doc, ("page", no), "extract.ocr_unavailable", opts.reason or "off")
        return "unread"
    if opts.remaining() <= 0:
        ocr.unread(doc, ("page", no), "extract.timeout", "budget")
        return "unread"
    x, y, w, h = box
    try:
        img, _scale = render(layers, (w, h), Resources(units), dpi=RENDER_DPI, origin_mm=(x, y))
    except (RenderError, MemoryError, ValueError) as exc:
        ocr.unread(doc, ("page", no), "extract.image_unreadable", f"OFD page not rendered: {str(exc)[:80]}")
        return "unread"
    from .image import blank
    if blank(img):
        return "faint"          # hairlines or paint too faint to show at this resolution: no ink
    before = len(doc.segments)
    res = ocr.read_into(doc, img, place=("page", no), page=no, kind="drawn_page")
    if res is None:
        return "unread"
    if len(doc.segments) > before:
        return "text"
    return "drawing" if not res.lines and not res.low_confidence else "unread_text"


def _seals(zf, names, doc: Document) -> int:
    """OCR the pictures of the electronic seals (Seal.esl members); returns how many seals there are."""
    from .image import read_embedded
    seals = sorted(n for n in names if n.lower().endswith(".esl"))
    for name in seals:
        data = read_member(zf, name, 16 << 20)
        at = [(data.find(magic), ext) for magic, ext in SEAL_PICTURES if data.find(magic) >= 0]
        if not at:
            from . import ocr
            ocr.unread(doc, ("image", name), "extract.image_unreadable", "seal picture not found")
            continue
        off, ext = min(at)
        if ext == ".ofd":       # a vector seal: an OFD of its own, rendered and read like any OFD
            extract_nested(data[off:], name + ext, doc, member=name, kind="seal")
        else:
            read_embedded(data[off:], name + ext, doc, member=name)
    return len(seals)


def extract_ofd(data: bytes, doc: Document) -> None:
    zf = open_zip(data)
    with zf:
        names = set(zf.namelist())
        if "OFD.xml" not in names:
            raise E.ExtractionFailed(E.corrupt("no OFD.xml"))
        root = parse_xml(read_member(zf, "OFD.xml"))
        for body in (el for el in root.iter() if local(el.tag) == "DocBody"):
            for el in body.iter():
                name = local(el.tag)
                if name in DOCINFO_FIELDS and (el.text or "").strip():
                    doc.add("metadata", el.text.strip()[:4000], field=DOCINFO_FIELDS[name], part="OFD.xml")
                elif name == "CustomData" and (el.text or "").strip():
                    doc.add("metadata", el.text.strip()[:4000], field="custom", name=(el.get("Name") or "")[:200],
                            part="OFD.xml")
            roots = [el.text.strip() for el in body.iter() if local(el.tag) == "DocRoot" and el.text]
            for doc_root in roots:
                _document(zf, names, doc_root.lstrip("/"), doc)
        # text anywhere else (annotations, templates) that the page walk did not cover
        if not any(s.layer == "body" for s in doc.segments):
            for name in sorted(n for n in names if n.endswith("Content.xml")):
                for i, t in enumerate(_texts(parse_xml(read_member(zf, name)))):
                    doc.add("body", t, part=name, paragraph=i)
        # pictures (scanned pages, photographs, stamps with text) read by OCR
        from .image import MEDIA_EXT, add_package_media
        add_package_media(zf, names, doc, "")
        seals = _seals(zf, names, doc)
        states = doc.meta.pop("_ofd_pages", [])
        pictures = any(n.lower().endswith(MEDIA_EXT) for n in names)
        annotations = any(s.locator.get("kind") == "annotation" for s in doc.segments) or any(
            "Annot" in n.rsplit("/", 1)[-1] for n in names)
        drawn = [i + 1 for i, st in enumerate(states) if st == "drawing"]
        if states and not pictures and not seals and not annotations and set(states) <= {"empty", "faint", "drawing"}:
            if drawn:   # ink, and OCR found no text in it: not blank, as a PDF of drawn pages
                from .ocr import _ranges
                doc.meta["textless"] = {"kind": "drawing", "where": f"第 {_ranges(drawn)} 页",
                                        "detail": f"ofd: {len(drawn)} drawn page(s) rendered, no text region"}
            else:
                doc.meta["textless"] = {"kind": "blank", "detail": f"ofd: {len(states)} page(s) without objects or ink"}


def _document(zf, names, doc_path: str, doc: Document) -> None:
    if doc_path not in names:
        raise E.ExtractionFailed(E.corrupt("OFD DocRoot missing"))
    base = posixpath.dirname(doc_path)
    droot = parse_xml(read_member(zf, doc_path))
    pages = [el for el in droot.iter() if local(el.tag) == "Page"]
    if len(pages) > MAX_PAGES:
        doc.errors.append(E.truncated(f"{len(pages)} pages > {MAX_PAGES}"))
    garbled = {}
    units = _resources(zf, names, base, droot)
    templates = {}
    for tp in (el for el in droot.iter() if isinstance(el.tag, str) and local(el.tag) == "TemplatePage"):
        tpart = _find(names, base, tp.get("BaseLoc") or "")
        if tpart and tp.get("ID"):
            templates[tp.get("ID").strip()] = tpart
    doc_box = _box(next((el for el in droot.iter() if isinstance(el.tag, str) and local(el.tag) == "PageArea"),
                        droot)) or (0.0, 0.0, 210.0, 297.0)
    states = doc.meta.setdefault("_ofd_pages", [])
    from . import ocr
    for no, pg in enumerate(pages[:MAX_PAGES], start=1):
        part = _find(names, base, pg.get("BaseLoc") or "")
        if not part:
            states.append("unread")
            continue
        proot = parse_xml(read_member(zf, part))
        texts = _texts(proot, units)
        for i, t in enumerate(texts):
            doc.add("body", t, page=no, paragraph=i, part=part)
        why = textlayer.problem("\n".join(texts))
        if why:
            garbled[no] = why
        tparts = [templates[t.get("TemplateID").strip()] for t in proot.iter()
                  if isinstance(t.tag, str) and local(t.tag) == "Template" and (t.get("TemplateID") or "").strip()
                  in templates]
        troots = [parse_xml(read_member(zf, tp)) for tp in tparts]
        if textlayer.usable_chars("\n".join(texts)) >= MIN_PAGE_TEXT:
            states.append("text")
            continue
        from .ofd_render import Resources, has_paths
        layers = [c for r in troots for c in _content(r)] + _content(proot)
        if any(has_paths(layer, Resources(units)) for layer in layers):
            box = _box(next((el for el in proot if isinstance(el.tag, str) and local(el.tag) == "Area"), proot)
                       ) or doc_box
            states.append(_read_drawn_page(doc, no, layers, box, units))
            ocr.progress(no, len(pages))
        elif texts:
            states.append("text")
        else:
            states.append("empty" if not any(_draws(r) for r in [proot, *troots]) else "other")
    if garbled:
        # no OFD renderer here: the page cannot be OCR'd in place of its text, so it fails closed
        from .ocr import _ranges
        doc.errors.append(E.garbled(f"OFD pages {_ranges(sorted(garbled))}: {','.join(sorted(set(garbled.values())))}"))
    # templates (a text in a template page shows on every page using it)
    for tp in (el for el in droot.iter() if local(el.tag) == "TemplatePage"):
        part = _find(names, base, tp.get("BaseLoc") or "")
        if part:
            for i, t in enumerate(_texts(parse_xml(read_member(zf, part)), units)):
                doc.add("body", t, part=part, paragraph=i, kind="template")
    for el in droot.iter():
        name = local(el.tag)
        if name in ("Annotations", "CustomTags", "Attachments") and (el.text or "").strip():
            part = _find(names, base, el.text)
            if not part:
                continue
            _index(zf, names, part, name, doc)


def _index(zf, names, part: str, kind: str, doc: Document) -> None:
    base = posixpath.dirname(part)
    root = parse_xml(read_member(zf, part))
    if kind == "Attachments":
        for att in (el for el in root.iter() if local(el.tag) == "Attachment"):
            floc = next((el.text for el in att.iter() if local(el.tag) == "FileLoc" and el.text), "")
            member = _find(names, base, floc)
            if member:
                extract_nested(read_member(zf, member), member, doc, member=member, kind="attachment")
        return
    for el in root.iter():
        loc = el.get("FileLoc") or (el.text if local(el.tag) == "FileLoc" else None)
        if not loc:
            continue
        sub = _find(names, base, loc)
        if not sub:
            continue
        raw = read_member(zf, sub)
        try:
            sroot = parse_xml(raw)
        except E.ExtractionFailed as exc:
            if kind != "CustomTags" or exc.error.code != "extract.corrupt":
                raise
            # a malformed custom tag part (not shown on any page; ofdrw writes `<:params>`): its
            # characters are read as text, tags stripped, so nothing in it goes unscanned
            text = re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", raw.decode("utf-8", "replace"))).strip()
            if text:
                doc.add("metadata", text[:4000], field="custom_tag", part=sub, kind="malformed_xml")
            continue
        if kind == "Annotations":
            for an in (a for a in sroot.iter() if local(a.tag) == "Annot"):
                remark = " ".join((r.text or "").strip() for r in an.iter() if local(r.tag) == "Remark")
                texts = _texts(an)
                text = "\n".join(t for t in [remark] + texts if t.strip())
                if text.strip():
                    atype = an.get("Type") or ""
                    layer = "comment" if atype in ("Highlight", "Stamp", "Path", "") or remark.strip() else "body"
                    doc.add(layer, text, part=sub, kind="annotation", subtype=atype,
                            author=(an.get("Creator") or "")[:200])
        else:
            text = "".join(t for t in sroot.itertext())
            text = re.sub(r"\s+", " ", text).strip()
            if text:
                doc.add("metadata", text[:4000], field="custom_tag", part=sub)
