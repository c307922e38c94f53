"""DOCX: every paragraph of every story, read from the XML (python-docx drops tracked insertions).

The visible view ("as published", revisions accepted) goes to body/table/header/footer; text
boxes and content controls are body text with a `kind`. A header or footer part that no section
displays (referenced by none; a first-page one without w:titlePg; an even-page one without
w:evenAndOddHeaders in the settings) is read into the `hidden` layer (kind undisplayed_header /
undisplayed_footer, `story` header/footer, `why`): the file carries it, the reader never sees it. Deeper layers (revisions, comments,
vanished/white/tiny runs, fields, notes, properties, embedded objects) come from
scanner.extract.docx_layers. Paragraph numbers in locators are the index of the w:p in its part,
in document order, the same numbering for every layer.
"""
from __future__ import annotations

import zipfile

from ..model import Document
from . import errors as E
from .docx_layers import extract_docx_layers
from .ooxml_props import part_rels
from .wordml import MC, W, RunStyle, hidden_styles_from, on, paragraph_index, parse_xml, read_part, visible_paragraph_text
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


def walk_story(root, doc: Document, layer: str, rs: RunStyle, part: str, pindex: dict | None = None,
               extra: dict | None = None) -> None:
    """Add every visible paragraph of one story (document, header, footer, note part); `extra`
    locator fields win over the paragraph's context (whose kind, if any, becomes `container`)."""
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
        if extra:
            if "kind" in extra and "kind" in loc:
                loc["container"] = loc.pop("kind")
            loc.update(extra)
        doc.add(seg_layer, text, **loc)


WP_DOCPR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"


def _alt_texts(root, doc: Document, part: str) -> None:
    """Alternative text of pictures and shapes (shown by screen readers, kept in the file)."""
    for i, el in enumerate(root.iter(WP_DOCPR)):
        for attr in ("descr", "title"):
            val = (el.get(attr) or "").strip()
            if val:
                doc.add("body", val[:4000], part=part, kind="alt_text", drawing=i)


def _part_number(n: str) -> tuple[int, str]:
    digits = "".join(ch for ch in n.rsplit("/", 1)[-1] if ch.isdigit())
    return (int(digits) if digits else 0, n)


def story_parts(names, prefix: str) -> list[str]:
    return sorted((n for n in names if n.startswith(prefix) and n.endswith(".xml") and "/" not in n[5:]),
                  key=_part_number)


HF_CONTENT = {"application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml": "header",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml": "footer"}
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _setting_on(zf: zipfile.ZipFile, names, settings: str | None, tag: str) -> bool:
    if not settings or settings not in names:
        return False
    el = parse_xml(read_part(zf, settings)).find(W + tag)
    return on(el)


def header_footer_parts(zf: zipfile.ZipFile, names, main: str, root) -> dict[str, tuple[str, str | None]]:
    """Every header and footer part of the package -> (story "header"/"footer", why it is not
    displayed or None). Shown: each section's default header/footer (inherited from the section
    before when it names none), its first-page one when the section has w:titlePg, its even-page
    one when the settings have w:evenAndOddHeaders. Not shown: "first_page_off", "even_pages_off",
    "unreferenced" (left in the package, referenced by no section)."""
    rels = part_rels(zf, names, main)
    parts: dict[str, str] = {}
    for n in story_parts(names, "word/header"):
        parts[n] = "header"
    for n in story_parts(names, "word/footer"):
        parts[n] = "footer"
    for target, rtype in rels.values():
        if rtype in ("header", "footer") and target in names:
            parts.setdefault(target, rtype)
    if "[Content_Types].xml" in names:
        for ov in parse_xml(read_part(zf, "[Content_Types].xml")).iter(CT + "Override"):
            story = HF_CONTENT.get((ov.get("ContentType") or "").strip())
            name = (ov.get("PartName") or "").lstrip("/")
            if story and name in names:
                parts.setdefault(name, story)
    settings = next((t for t, rtype in rels.values() if rtype == "settings"), "word/settings.xml")
    even_on = _setting_on(zf, names, settings, "evenAndOddHeaders")
    shown: set[str] = set()
    referenced: dict[str, str] = {}         # part -> the type it is referenced as (first seen)
    current: dict[tuple[str, str], str] = {}
    for sect in root.iter(W + "sectPr"):
        anc = sect.getparent()
        if anc is not None and anc.tag == W + "sectPrChange":
            continue            # a tracked change's former section properties
        for ref in sect:
            story = {W + "headerReference": "header", W + "footerReference": "footer"}.get(ref.tag)
            if story is None:
                continue
            kind = ref.get(W + "type") or "default"
            target = rels.get(ref.get(R_ID) or "", ("", ""))[0]
            if target in names:
                current[(story, kind)] = target
                referenced.setdefault(target, kind)
        title_pg = on(sect.find(W + "titlePg"))
        for story in ("header", "footer"):
            for kind in ("default", "first", "even"):
                part = current.get((story, kind))
                if part and (kind == "default" or kind == "first" and title_pg or kind == "even" and even_on):
                    shown.add(part)
    out: dict[str, tuple[str, str | None]] = {}
    for part, story in parts.items():
        if part in shown:
            out[part] = (story, None)
        else:
            kind = referenced.get(part)
            out[part] = (story, {"first": "first_page_off", "even": "even_pages_off"}.get(kind or "", "unreferenced"))
    return out


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
        hf = header_footer_parts(zf, names, main, root)
        for story_name in ("header", "footer"):
            for name in sorted((n for n, (st, _w) in hf.items() if st == story_name),
                               key=lambda n: (hf[n][1] is not None, _part_number(n))):
                why = hf[name][1]
                proot = parse_xml(read_part(zf, name))
                pi = paragraph_index(proot)
                if why is None:
                    walk_story(proot, doc, story_name, rs, name, pi)
                else:       # in the file, never on a page
                    walk_story(proot, doc, "hidden", rs, name, pi,
                               extra={"kind": f"undisplayed_{story_name}", "story": story_name, "why": why})
                stories[name] = (proot, pi)
        extract_docx_layers(zf, root, doc, stories=stories, run_style=rs, names=names)
        if not any(s.layer != "metadata" for s in doc.segments):
            from .blank import docx_blank
            how = docx_blank(zf, names, [r for r, _pi in stories.values()])
            if how:
                doc.meta["textless"] = {"kind": "blank", "detail": how}
