"""WordprocessingML helpers shared by the docx readers (docx.py: the visible view; docx_layers.py:
revisions, comments, hidden runs, notes): namespaces, safe part parsing (ISO Strict read as
Transitional), on/off properties, hidden-run styles, the visible text of a paragraph, paragraph
numbering."""
from __future__ import annotations

import zipfile

from .xmlsafe import parse_xml as _safe_parse
from .zipsafe import read_member

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = "{" + W_NS + "}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
MAX_PART_BYTES = 64 << 20
_FALSY = {"0", "false", "off"}


STRICT_NS = {
    b"http://purl.oclc.org/ooxml/wordprocessingml/main": W_NS.encode(),
    b"http://purl.oclc.org/ooxml/officeDocument/relationships": b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    b"http://purl.oclc.org/ooxml/drawingml/main": b"http://schemas.openxmlformats.org/drawingml/2006/main",
}


def parse_xml(raw: bytes):
    """Parse a part safely; ISO Strict namespaces are read as their Transitional equivalents."""
    if b"purl.oclc.org/ooxml/" in raw[:4096]:
        for strict, trans in STRICT_NS.items():
            raw = raw.replace(strict, trans)
    return _safe_parse(raw)


def read_part(zf: zipfile.ZipFile, name: str) -> bytes:
    return read_member(zf, name, MAX_PART_BYTES)


def on(el) -> bool:
    """A WordprocessingML on/off property element is on unless w:val says otherwise."""
    if el is None:
        return False
    return (el.get(W + "val") or "true").lower() not in _FALSY


class RunStyle:
    """Decides whether a run is hidden (w:vanish directly or through a character/paragraph style)."""

    def __init__(self, hidden_styles: set[str] | None = None):
        self.hidden_styles = hidden_styles or set()

    def vanished(self, r, p=None) -> bool:
        rpr = r.find(W + "rPr")
        if rpr is not None:
            v = rpr.find(W + "vanish")
            if v is not None:
                return on(v)
            rs = rpr.find(W + "rStyle")
            if rs is not None and rs.get(W + "val") in self.hidden_styles:
                return True
        if p is not None and self.hidden_styles:
            ppr = p.find(W + "pPr")
            ps = ppr.find(W + "pStyle") if ppr is not None else None
            if ps is not None and ps.get(W + "val") in self.hidden_styles:
                return True
        return False


def hidden_styles_from(zf: zipfile.ZipFile, names) -> set[str]:
    if "word/styles.xml" not in names:
        return set()
    root = parse_xml(read_part(zf, "word/styles.xml"))
    out = set()
    for st in root.iter(W + "style"):
        rpr = st.find(W + "rPr")
        if rpr is not None and on(rpr.find(W + "vanish")):
            sid = st.get(W + "styleId")
            if sid:
                out.add(sid)
    return out


def visible_paragraph_text(p, rs: RunStyle | None = None) -> str:
    """Text a reader sees: w:t (including tracked insertions), tabs/breaks; no deletions, no
    vanished runs, no text of nested paragraphs (text boxes are their own paragraphs)."""
    rs = rs or RunStyle()
    out = []
    for node in p.iter(W + "t", W + "tab", W + "br", W + "cr", W + "noBreakHyphen", W + "sym"):
        anc = node.getparent()
        skip = False
        while anc is not None and anc is not p:
            tag = anc.tag
            if tag in (W + "del", W + "moveFrom", W + "p", MC + "Fallback", W + "rPr", W + "pPr"):
                skip = True
                break
            if tag == W + "r" and rs.vanished(anc, p):
                skip = True
                break
            anc = anc.getparent()
        if skip:
            continue
        tag = node.tag
        if tag == W + "t":
            out.append(node.text or "")
        elif tag == W + "tab":
            out.append("\t")
        elif tag == W + "noBreakHyphen":
            out.append("-")
        elif tag == W + "sym":
            continue
        else:
            out.append("\n")
    return "".join(out)


def paragraph_index(root) -> dict:
    return {p: i for i, p in enumerate(root.iter(W + "p"))}
