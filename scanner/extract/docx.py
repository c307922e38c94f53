"""DOCX: every paragraph of every story, read from the XML (python-docx drops tracked insertions).

The visible view ("as published", revisions accepted) goes to body/table/header/footer; text
boxes and content controls are body text with a `kind`. Deeper layers (revisions, comments,
vanished/white/tiny runs, fields, notes, properties, embedded objects) come from
scanner.extract.docx_layers. Paragraph numbers in locators are the index of the w:p in its part,
in document order, the same numbering for every layer.
"""
from __future__ import annotations

import zipfile

from ..model import Document
from . import errors as E
from .docx_layers import extract_docx_layers
from .wordml import MC, W, RunStyle, hidden_styles_from, paragraph_index, parse_xml, read_part, visible_paragraph_text
from .zipsafe import open_zip


def main_part(zf: zipfile.ZipFile, names) -> str | None:
    """The main document part, found through the package relationships (it may be renamed)."""
    if "word/document.xml" in names:
        return "word/document.xml"
    if "_rels/.rels" not in names:
        return None
    root = parse_xml(read_part(zf, "_rels/.rels"))
    for rel in root:
        if (rel.get("Type") or "").endswith("/officeDocument"):
            target = (rel.get("Target") or "").lstrip("/")
            if target in names:
                return target
    return None


def paragraph_context(p, tables: dict) -> dict:
    """Where a paragraph sits: table cell (table/row/col), text box, content control.
    `tables` caches table numbering and row/cell positions (big tables stay linear)."""
    loc: dict = {}
    kinds = []
    cell = row = None
    anc = p.getparent()
    while anc is not None:
        tag = anc.tag
        if tag == W + "txbxContent" and "textbox" not in kinds:
            kinds.append("textbox")
        elif tag == W + "sdtContent" and "content_control" not in kinds:
            kinds.append("content_control")
        elif tag == W + "tc" and cell is None:
            cell = anc
        elif tag == W + "tr" and row is None and cell is not None:
            row = anc
        elif tag == W + "tbl" and row is not None and "table" not in loc:
            if anc not in tables:
                rows = [c for c in anc.iter(W + "tr") if _nearest(c, W + "tbl") is anc]
                tables[anc] = (sum(1 for k in tables if not isinstance(k, tuple)), {r: i for i, r in enumerate(rows)})
            t_index, rows_of = tables[anc]
            loc["table"] = t_index
            loc["row"] = rows_of.get(row, 0)
            key = ("cells", row)
            if key not in tables:
                cells = [c for c in row.iter(W + "tc") if _nearest(c, W + "tr") is row]
                tables[key] = {c: i for i, c in enumerate(cells)}
            loc["col"] = tables[key].get(cell, 0)
        anc = anc.getparent()
    if kinds:
        loc["kind"] = kinds[0]
    return loc


def _nearest(el, tag):
    anc = el.getparent()
    while anc is not None and anc.tag != tag:
        anc = anc.getparent()
    return anc


def in_fallback(p) -> bool:
    """mc:Fallback repeats the mc:Choice content (e.g. a VML copy of a text box): read it once,
    from the Choice, unless the Choice has no paragraphs of its own."""
    anc = p.getparent()
    while anc is not None:
        if anc.tag == MC + "Fallback":
            alt = anc.getparent()
            choice = alt.find(MC + "Choice") if alt is not None else None
            return choice is not None and next(choice.iter(W + "p"), None) is not None
        anc = anc.getparent()
    return False


def walk_story(root, doc: Document, layer: str, rs: RunStyle, part: str, pindex: dict | None = None) -> None:
    """Add every visible paragraph of one story (document, header, footer, note part)."""
    pindex = pindex if pindex is not None else paragraph_index(root)
    tables: dict = {}
    for p, i in pindex.items():
        if in_fallback(p):
            continue
        text = visible_paragraph_text(p, rs)
        if not text.strip():
            continue
        ctx = paragraph_context(p, tables)
        seg_layer = layer
        if "table" in ctx and layer == "body":
            seg_layer = "table"
        loc = {"part": part, "paragraph": i}
        loc.update(ctx)
        doc.add(seg_layer, text, **loc)


WP_DOCPR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"


def _alt_texts(root, doc: Document, part: str) -> None:
    """Alternative text of pictures and shapes (shown by screen readers, kept in the file)."""
    for i, el in enumerate(root.iter(WP_DOCPR)):
        for attr in ("descr", "title"):
            val = (el.get(attr) or "").strip()
            if val:
                doc.add("body", val[:4000], part=part, kind="alt_text", drawing=i)


def story_parts(names, prefix: str) -> list[str]:
    def num(n):
        digits = "".join(ch for ch in n[len(prefix):] if ch.isdigit())
        return (int(digits) if digits else 0, n)
    return sorted((n for n in names if n.startswith(prefix) and n.endswith(".xml") and "/" not in n[5:]), key=num)


def extract_docx(data: bytes, doc: Document) -> None:
    zf = open_zip(data)
    with zf:
        names = set(zf.namelist())
        main = main_part(zf, names)
        if main is None:
            if "EncryptedPackage" in names:
                raise E.ExtractionFailed(E.encrypted())
            raise E.ExtractionFailed(E.corrupt("no main document part"))
        rs = RunStyle(hidden_styles_from(zf, names))
        root = parse_xml(read_part(zf, main))
        body = root.find(W + "body")
        if body is None:
            raise E.ExtractionFailed(E.corrupt("no w:body"))
        pindex = paragraph_index(root)
        walk_story(root, doc, "body", rs, main, pindex)
        _alt_texts(root, doc, main)
        stories = {main: (root, pindex)}
        for layer, prefix in (("header", "word/header"), ("footer", "word/footer")):
            for name in story_parts(names, prefix):
                proot = parse_xml(read_part(zf, name))
                pi = paragraph_index(proot)
                walk_story(proot, doc, layer, rs, name, pi)
                stories[name] = (proot, pi)
        extract_docx_layers(zf, root, doc, stories=stories, run_style=rs, names=names)
        if not any(s.layer != "metadata" for s in doc.segments):
            from .blank import docx_blank
            how = docx_blank(zf, names, [r for r, _pi in stories.values()])
            if how:
                doc.meta["textless"] = {"kind": "blank", "detail": how}
