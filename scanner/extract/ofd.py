"""OFD (GB/T 33190-2016): a zip of XML. Text objects (ofd:TextObject/ofd:TextCode) per page in
page order, annotations, custom tags, attachments, and document info (author, title, ...).
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


def _texts(root) -> list[str]:
    lines = []
    for obj in root.iter():
        if local(obj.tag) != "TextObject":
            continue
        parts = [tc.text or "" for tc in obj.iter() if local(tc.tag) == "TextCode"]
        t = "".join(parts)
        if t.strip():
            lines.append(t)
    return lines


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
        from .image import add_package_media
        add_package_media(zf, names, doc, "")


def _document(zf, names, doc_path: str, doc: Document) -> None:
    if doc_path not in names:
        raise E.ExtractionFailed(E.corrupt("OFD DocRoot missing"))
    base = posixpath.dirname(doc_path)
    droot = parse_xml(read_member(zf, doc_path))
    pages = [el for el in droot.iter() if local(el.tag) == "Page"]
    if len(pages) > MAX_PAGES:
        doc.errors.append(E.truncated(f"{len(pages)} pages > {MAX_PAGES}"))
    garbled = {}
    for no, pg in enumerate(pages[:MAX_PAGES], start=1):
        part = _find(names, base, pg.get("BaseLoc") or "")
        if not part:
            continue
        texts = _texts(parse_xml(read_member(zf, part)))
        for i, t in enumerate(texts):
            doc.add("body", t, page=no, paragraph=i, part=part)
        why = textlayer.problem("\n".join(texts))
        if why:
            garbled[no] = why
    if garbled:
        # no OFD renderer here: the page cannot be OCR'd in place of its text, so it fails closed
        from .ocr import _ranges
        doc.errors.append(E.garbled(f"OFD pages {_ranges(sorted(garbled))}: {','.join(sorted(set(garbled.values())))}"))
    # templates (a text in a template page shows on every page using it)
    for tp in (el for el in droot.iter() if local(el.tag) == "TemplatePage"):
        part = _find(names, base, tp.get("BaseLoc") or "")
        if part:
            for i, t in enumerate(_texts(parse_xml(read_member(zf, part)))):
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
        sroot = parse_xml(read_member(zf, sub))
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
