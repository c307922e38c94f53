"""DOCX hidden layers: what a reader of the printed page does not see but the file carries.

- revision: tracked insertions, deletions, moves (w:ins/w:del/w:moveFrom/w:moveTo), with kind,
  author, date; the body already holds the revisions-accepted view, this is the all-content view.
- comment: word/comments.xml with author, date and the paragraph the comment is anchored to.
- hidden: vanished runs (directly or via a style), white text on no shading, tiny text (<= 1 pt),
  field instructions (kind=field), document variables (kind=docvar), glossary building blocks.
- note: footnotes and endnotes (separators skipped).
- metadata: core/app/custom properties, external relationships, EXIF GPS of images.
- embedded packages (word/embeddings) are extracted recursively with a depth limit.
"""
from __future__ import annotations

import zipfile

from ..model import Document
from . import errors as E
from .wordml import W, RunStyle, paragraph_index, parse_xml, read_part, visible_paragraph_text
from .ooxml_props import add_package_layers

MAX_SEGMENTS_PER_KIND = 5000
_REV = {W + "ins": "inserted", W + "del": "deleted", W + "moveFrom": "moved_from", W + "moveTo": "moved_to"}
_WHITE = {"ffffff", "white"}


def _para_of(el, pindex: dict):
    anc = el.getparent()
    while anc is not None:
        if anc.tag == W + "p":
            return pindex.get(anc)
        anc = anc.getparent()
    return None


def _rev_text(el) -> str:
    out = []
    for node in el.iter(W + "t", W + "delText", W + "tab", W + "br", W + "instrText", W + "delInstrText"):
        tag = node.tag
        if tag in (W + "t", W + "delText"):
            out.append(node.text or "")
        elif tag == W + "tab":
            out.append("\t")
        elif tag == W + "br":
            out.append("\n")
    return "".join(out)


def _run_text(r) -> str:
    out = []
    for node in r.iter(W + "t", W + "delText", W + "tab", W + "br"):
        if node.tag in (W + "t", W + "delText"):
            out.append(node.text or "")
        elif node.tag == W + "tab":
            out.append("\t")
        else:
            out.append("\n")
    return "".join(out)


def _shaded(r, p) -> bool:
    """True when a run, its paragraph or its table cell has a non-white fill or highlight (white
    text on a coloured cell is visible)."""
    rpr = r.find(W + "rPr")
    if rpr is not None:
        if rpr.find(W + "highlight") is not None and (rpr.find(W + "highlight").get(W + "val") or "none") != "none":
            return True
        if _fill(rpr.find(W + "shd")):
            return True
    anc = r.getparent()
    while anc is not None:
        if anc.tag == W + "p":
            ppr = anc.find(W + "pPr")
            if ppr is not None and _fill(ppr.find(W + "shd")):
                return True
        elif anc.tag == W + "tc":
            tcpr = anc.find(W + "tcPr")
            if tcpr is not None and _fill(tcpr.find(W + "shd")):
                return True
        elif anc.tag == W + "tbl":
            tblpr = anc.find(W + "tblPr")
            if tblpr is not None and (_fill(tblpr.find(W + "shd")) or tblpr.find(W + "tblStyle") is not None):
                return True   # table styles often shade header rows
        elif anc.tag in (W + "txbxContent",):
            return True       # a text box can have any fill; do not guess
        anc = anc.getparent()
    return False


def _fill(shd) -> bool:
    if shd is None:
        return False
    fill = (shd.get(W + "fill") or "auto").lower()
    val = (shd.get(W + "val") or "clear").lower()
    return fill not in ("auto", "ffffff") or val not in ("clear", "nil")


def _blacked_out(r) -> bool:
    """Explicitly dark text on a black highlight or a black run shading: a black bar in print, the
    words still in the file. ("auto" text colour turns white on black in Word, so it stays readable.)"""
    rpr = r.find(W + "rPr")
    if rpr is None:
        return False
    color = rpr.find(W + "color")
    if color is None or (color.get(W + "val") or "").lower() not in ("000000", "black"):
        return False
    hl = rpr.find(W + "highlight")
    if hl is not None and (hl.get(W + "val") or "").lower() == "black":
        return True
    shd = rpr.find(W + "shd")
    return shd is not None and (shd.get(W + "fill") or "").lower() == "000000"


def _run_visual(r) -> str | None:
    """'white' or 'tiny' when the run's own properties make it unreadable on a white page."""
    rpr = r.find(W + "rPr")
    if rpr is None:
        return None
    color = rpr.find(W + "color")
    if color is not None and (color.get(W + "val") or "").lower() in _WHITE:
        return "white"
    sz = rpr.find(W + "sz")
    if sz is not None:
        try:
            if int(sz.get(W + "val") or "24") <= 2:      # half-points: <= 1 pt
                return "tiny"
        except ValueError:
            pass
    return None


def _in(el, tags) -> bool:
    anc = el.getparent()
    while anc is not None:
        if anc.tag in tags:
            return True
        anc = anc.getparent()
    return False


def scan_story(root, pindex: dict, part: str, doc: Document, rs: RunStyle, page_white: bool = True) -> None:
    """Revisions, hidden runs and field instructions of one story part."""
    # tracked changes
    n = 0
    for el in root.iter(*_REV):
        if _in(el, (W + "rPr", W + "pPr", W + "trPr", W + "tcPr")):
            continue          # paragraph-mark / property revisions carry no text
        text = _rev_text(el)
        if not text.strip():
            continue
        n += 1
        if n > MAX_SEGMENTS_PER_KIND:
            doc.errors.append(E.truncated("too many tracked changes"))
            break
        doc.add("revision", text, part=part, paragraph=_para_of(el, pindex), kind=_REV[el.tag],
                author=(el.get(W + "author") or "")[:200], date=el.get(W + "date") or "",
                revision_id=el.get(W + "id") or "")
    # vanished / white / tiny runs, grouped per paragraph and kind
    groups: dict = {}
    for r in root.iter(W + "r"):
        if _in(r, (W + "del", W + "moveFrom")):
            continue
        p = r.getparent()
        while p is not None and p.tag != W + "p":
            p = p.getparent()
        kind = None
        if rs.vanished(r, p):
            kind = "vanish"
        elif _blacked_out(r):
            kind = "black_highlight"
        else:
            vis = _run_visual(r)
            if vis == "tiny" or (vis == "white" and page_white and not _shaded(r, p)):
                kind = vis
        if kind is None:
            continue
        text = _run_text(r)
        if not text:
            continue
        key = (pindex.get(p), kind)
        groups.setdefault(key, []).append(text)
    for (pi, kind), parts in list(groups.items())[:MAX_SEGMENTS_PER_KIND]:
        text = "".join(parts)
        if text.strip():
            # text "blacked out" with a black highlight is still in the file: a failed redaction
            doc.add("redaction" if kind == "black_highlight" else "hidden", text, part=part, paragraph=pi, kind=kind)
    # field instructions (HYPERLINK targets, INCLUDETEXT paths, DOCVARIABLE names, ...)
    instr: dict = {}
    for node in root.iter(W + "instrText"):
        instr.setdefault(_para_of(node, pindex), []).append(node.text or "")
    for fs in root.iter(W + "fldSimple"):
        instr.setdefault(_para_of(fs, pindex), []).append(fs.get(W + "instr") or "")
    for pi, parts in instr.items():
        text = " ".join(" ".join(parts).split())
        if text:
            doc.add("hidden", text[:4000], part=part, paragraph=pi, kind="field")


def _comment_anchors(stories) -> dict[str, tuple[str, int | None]]:
    anchors = {}
    for part, (root, pindex) in stories.items():
        for el in root.iter(W + "commentRangeStart", W + "commentReference"):
            cid = el.get(W + "id")
            if cid is not None and cid not in anchors:
                anchors[cid] = (part, _para_of(el, pindex) if el.tag == W + "commentReference"
                                else _next_para(el, pindex))
    return anchors


def _next_para(el, pindex):
    pi = _para_of(el, pindex)
    if pi is not None:
        return pi
    nxt = el.getnext()
    while nxt is not None:
        if nxt.tag == W + "p":
            return pindex.get(nxt)
        found = next(nxt.iter(W + "p"), None)
        if found is not None:
            return pindex.get(found)
        nxt = nxt.getnext()
    return None


def _comments(zf, names, doc: Document, rs: RunStyle, anchors) -> None:
    for name in ("word/comments.xml",):
        if name not in names:
            continue
        root = parse_xml(read_part(zf, name))
        for i, c in enumerate(root.iter(W + "comment")):
            if i >= MAX_SEGMENTS_PER_KIND:
                doc.errors.append(E.truncated("too many comments"))
                break
            paras = [_rev_text(p) for p in c.iter(W + "p")]
            text = "\n".join(t for t in paras if t.strip())
            if not text.strip():
                continue
            cid = c.get(W + "id") or ""
            anchor_part, anchor_p = anchors.get(cid, (None, None))
            loc = {"part": name, "kind": "comment", "comment_id": cid,
                   "author": (c.get(W + "author") or "")[:200], "date": c.get(W + "date") or ""}
            if anchor_part:
                loc["anchor_part"] = anchor_part
                loc["paragraph"] = anchor_p
            doc.add("comment", text, **loc)


def _notes(zf, names, doc: Document, rs: RunStyle) -> None:
    for name, tag, kind in (("word/footnotes.xml", "footnote", "footnote"),
                            ("word/endnotes.xml", "endnote", "endnote")):
        if name not in names:
            continue
        root = parse_xml(read_part(zf, name))
        pindex = paragraph_index(root)
        for note in root.iter(W + tag):
            if (note.get(W + "type") or "normal") != "normal":
                continue          # separator / continuationSeparator
            text = "\n".join(t for t in (visible_paragraph_text(p, rs) for p in note.iter(W + "p")) if t.strip())
            if text.strip():
                first = next(note.iter(W + "p"), None)
                doc.add("note", text, part=name, kind=kind, note_id=note.get(W + "id") or "",
                        paragraph=pindex.get(first))
        scan_story(root, pindex, name, doc, rs)


def _settings(zf, names, doc: Document) -> None:
    if "word/settings.xml" not in names:
        return
    root = parse_xml(read_part(zf, "word/settings.xml"))
    for dv in root.iter(W + "docVar"):
        val = (dv.get(W + "val") or "").strip()
        if val:
            doc.add("hidden", val[:4000], part="word/settings.xml", kind="docvar",
                    name=(dv.get(W + "name") or "")[:200])


def _glossary(zf, names, doc: Document, rs: RunStyle) -> None:
    name = "word/glossary/document.xml"
    if name not in names:
        return
    root = parse_xml(read_part(zf, name))
    pindex = paragraph_index(root)
    for p, i in pindex.items():
        text = visible_paragraph_text(p, rs)
        if text.strip():
            doc.add("hidden", text, part=name, paragraph=i, kind="glossary")


def _page_is_white(root) -> bool:
    bg = root.find(W + "background")
    if bg is None:
        return True
    return (bg.get(W + "color") or "ffffff").lower() in ("ffffff", "auto")


def extract_docx_layers(zf: zipfile.ZipFile, document_root, doc: Document, stories=None, run_style=None,
                        names=None) -> None:
    names = names if names is not None else set(zf.namelist())
    rs = run_style or RunStyle()
    if stories is None:
        stories = {"word/document.xml": (document_root, paragraph_index(document_root))}
    white = _page_is_white(document_root)
    for part, (root, pindex) in stories.items():
        scan_story(root, pindex, part, doc, rs, page_white=white)
    _comments(zf, names, doc, rs, _comment_anchors(stories))
    _notes(zf, names, doc, rs)
    _settings(zf, names, doc)
    _glossary(zf, names, doc, rs)
    add_package_layers(zf, names, doc, "word/")

