"""Redacted XLSX in the original format: cell values (shared strings, inline strings, plain
values and cached formula results), header/footer text, comments and properties.

A cell's findings come with (sheet, cell) and offsets into the cell text; a shared string can
serve many cells, so the matched texts are masked wherever they occur in any string item (a
string that holds the matched text is the same disclosure in every cell that shows it). Values
that are not strings (a phone number typed as a number) become inline strings holding the mask,
their formula dropped. Comments are emptied, core/app/custom properties and the saved-in folder
(absPath) cleared, embedded files
(xl/embeddings/) removed with their references (`package.strip_embedded`).
"""
from __future__ import annotations

from lxml import etree

from .docx import XML_SPACE, spread
from .ops import mask
from .package import redact_package

S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def mask_occurrences(nodes: list, texts: dict[str, str]) -> bool:
    """Mask every occurrence of the keys of `texts` in the text that `nodes` (elements whose
    .text is the content, in order) make together; a match may span nodes. True if changed."""
    cmap = [(n, i) for n in nodes for i in range(len(n.text or ""))]
    whole = "".join(n.text or "" for n in nodes)
    edits: dict = {}
    for t in sorted(texts, key=len, reverse=True):
        start = whole.find(t)
        while start >= 0:
            spread(cmap[start:start + len(t)], texts[t], edits)
            start = whole.find(t, start + len(t))
    for n, chars in edits.items():
        n.text = "".join(chars)
        n.set(XML_SPACE, "preserve")
    return bool(edits)


def _string_nodes(el) -> list:
    return [t for t in el.iter(S + "t") if not any(a.tag == S + "rPh" for a in t.iterancestors())]


def _sheet(root, texts: dict[str, str]) -> None:
    for c in root.iter(S + "c"):
        kind = c.get("t") or "n"
        if kind == "s":
            continue
        if kind == "inlineStr":
            is_ = c.find(S + "is")
            if is_ is not None:
                mask_occurrences(_string_nodes(is_), texts)
            continue
        v = c.find(S + "v")
        if v is None or not v.text or not any(t in v.text for t in texts):
            continue
        value = v.text
        for t in sorted(texts, key=len, reverse=True):
            value = value.replace(t, texts[t])
        for child in list(c):
            c.remove(child)
        c.set("t", "inlineStr")
        is_ = etree.SubElement(c, S + "is")
        t_el = etree.SubElement(is_, S + "t")
        t_el.text = value
        t_el.set(XML_SPACE, "preserve")


def _drop_abs_path(root) -> None:
    """The folder the workbook was last saved in (x15ac:absPath, C:\\Users\\<name>\\...), with
    its mc:AlternateContent wrapper."""
    for el in list(root.iter("{http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac}absPath")):
        box = el
        while box.getparent() is not None and box.getparent() is not root \
                and etree.QName(box.getparent()).localname in ("Choice", "AlternateContent"):
            box = box.getparent()
        box.getparent().remove(box)


def _comments(root) -> None:
    for t in root.iter(S + "t"):
        t.text = ""
    for a in root.iter(S + "author"):
        a.text = ""


def redact_xlsx(data: bytes, findings: list, mode: str = "block") -> bytes:
    texts = {f.text: mask(f.text, f.category, mode) for f in findings if f.text}

    def edit(name: str, root) -> bool:
        tag = root.tag
        if tag == S + "sst":
            for si in root.iter(S + "si"):
                mask_occurrences(_string_nodes(si), texts)
        elif tag in (S + "worksheet", S + "chartsheet"):
            _sheet(root, texts)
        elif tag == S + "comments":
            _comments(root)
        if tag == S + "workbook":
            _drop_abs_path(root)
            return False                  # sheet names are references: left alone
        return True

    return redact_package(data, "xl/", texts, edit,
                          lambda name: "threadedComment" in name or name.startswith("xl/persons/"))
