"""Redacted DOCX in the original format, edited in the OOXML parts with lxml.

- Findings of the visible stories (body, tables, headers, footers, and the header and footer
  parts no page shows, read into the hidden layer) are replaced character by
  character inside the w:t nodes they cover (a match may span runs; each run keeps its
  formatting): the paragraph's visible text is rebuilt exactly as scanner.extract.wordml reads
  it, so finding offsets land on the same characters.
- Then every selected finding's text is replaced wherever else it still occurs in a single text
  node or attribute of any part (notes, text boxes, alt text, document variables, the custom XML
  data bound to content controls and cover pages...).
- Embedded files (word/embeddings/: OLE objects, nested workbooks/documents/PDFs) and imported
  chunks (altChunk) are removed with their references (`package.strip_embedded`).
- Tracked changes are accepted (deleted and moved-from text removed, insertions kept as plain
  text), comments emptied and their anchors removed, vanished runs removed, core/app/custom
  properties emptied, the attached template's path removed, the thumbnail dropped.
"""
from __future__ import annotations


from ..extract.docx import header_footer_parts, main_part
from ..extract.wordml import MC, W, RunStyle, hidden_styles_from, paragraph_index, parse_xml, read_part
from ..extract.zipsafe import open_zip
from .ops import apply_spans, mask, removes, spans_by_paragraph
from .package import redact_package

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
STORY_LAYERS = ("body", "table", "header", "footer", "note")
_CLEARED_PARTS = ("word/comments.xml", "word/commentsExtended.xml", "word/commentsIds.xml",
                  "word/commentsExtensible.xml", "word/people.xml")


def char_map(p, rs: RunStyle) -> list[tuple]:
    """One (w:t node, index) per character of the paragraph's visible text, (None, None) for
    tabs and breaks; the same walk as wordml.visible_paragraph_text."""
    out: list[tuple] = []
    for node in p.iter(W + "t", W + "tab", W + "br", W + "cr", W + "noBreakHyphen", W + "sym"):
        anc = node.getparent()
        skip = False
        while anc is not None and anc is not p:
            if anc.tag in (W + "del", W + "moveFrom", W + "p", MC + "Fallback", W + "rPr", W + "pPr"):
                skip = True
                break
            if anc.tag == W + "r" and rs.vanished(anc, p):
                skip = True
                break
            anc = anc.getparent()
        if skip or node.tag == W + "sym":
            continue
        if node.tag == W + "t":
            out.extend((node, i) for i in range(len(node.text or "")))
        else:
            out.append((None, None))
    return out


def spread(cells: list[tuple], rep: str, edits: dict) -> None:
    """Write `rep` over the characters `cells` ((node, index) pairs, None for tabs/breaks): one
    character per position when the lengths agree (each run keeps its share), else all of it at
    the first position and nothing at the others."""
    same = len(rep) == len(cells)
    first = True
    for k, (n, i) in enumerate(cells):
        if n is None:
            continue
        chars = edits.setdefault(n, list(n.text or ""))
        chars[i] = rep[k] if same else (rep if first else "")
        first = False


def redact_spans(cmap: list[tuple], text: str, spans: list[tuple[int, int, str, str]], mode: str) -> set[str]:
    """Replace the spans (start, end, category, text) of a paragraph whose `text` the character
    map `cmap` ((text node, index), None for breaks) covers, in place; a span whose text is not
    where the finding said is looked for in the paragraph. -> the texts not found (they go to the
    text-wide pass)."""
    edits: dict = {}
    missed: set[str] = set()
    for a, b, cat, ftext in spans:
        if text[a:b] != ftext:
            k = text.find(ftext) if ftext else -1
            if k < 0:
                missed.add(ftext)
                continue
            a, b = k, k + len(ftext)
        spread(cmap[a:b], mask(text[a:b], cat, mode), edits)
    for n, chars in edits.items():
        n.text = "".join(chars)
        n.set(XML_SPACE, "preserve")
    return missed


def _redact_paragraph(p, rs: RunStyle, spans: list[tuple[int, int, str, str]], mode: str) -> set[str]:
    cmap = char_map(p, rs)
    return redact_spans(cmap, "".join((n.text[i] if n is not None else "\t") for n, i in cmap), spans, mode)


def _drop_if_empty(p, rs: RunStyle) -> None:
    """A paragraph that held only the mark goes too (a cell keeps its one paragraph)."""
    par = p.getparent()
    if par is None or par.tag != W + "body":
        return
    if not "".join((n.text[i] if n is not None else "") for n, i in char_map(p, rs)).strip():
        par.remove(p)


def _accept_revisions(root) -> None:
    for tag in (W + "del", W + "moveFrom"):
        for el in list(root.iter(tag)):
            par = el.getparent()
            if par is not None and par.tag not in (W + "rPr", W + "pPr"):
                par.remove(el)
    for tag in (W + "ins", W + "moveTo"):
        for el in list(root.iter(tag)):
            par = el.getparent()
            if par is None:
                continue
            if par.tag in (W + "rPr", W + "pPr", W + "trPr"):
                par.remove(el)
                continue
            idx = par.index(el)
            for child in list(el):
                par.insert(idx, child)
                idx += 1
            par.remove(el)
    for tag in (W + "rPrChange", W + "pPrChange", W + "sectPrChange", W + "tblPrChange", W + "trPrChange",
                W + "tcPrChange", W + "tblGridChange", W + "numberingChange", W + "moveFromRangeStart",
                W + "moveFromRangeEnd", W + "moveToRangeStart", W + "moveToRangeEnd", W + "del"):
        for el in list(root.iter(tag)):
            el.getparent().remove(el)
    for el in list(root.iter(W + "delText", W + "delInstrText")):
        el.getparent().remove(el)


def _drop_comments_and_hidden(root, rs: RunStyle) -> None:
    for el in list(root.iter(W + "commentRangeStart", W + "commentRangeEnd")):
        el.getparent().remove(el)
    for ref in list(root.iter(W + "commentReference")):
        run = ref.getparent()
        if run is not None and run.tag == W + "r" and run.getparent() is not None:
            run.getparent().remove(run)
        elif run is not None:
            run.remove(ref)
    for r in list(root.iter(W + "r")):
        if rs.vanished(r) and r.getparent() is not None:
            r.getparent().remove(r)


def _drop_template_path(root) -> None:
    """The attached template's path (settings.xml and its relationship) names the author's folders
    (C:\\Users\\<name>\\...): a property, cleaned with the others."""
    for el in list(root.iter(W + "attachedTemplate")):
        el.getparent().remove(el)
    for rel in list(root.iter("{http://schemas.openxmlformats.org/package/2006/relationships}Relationship")):
        if (rel.get("Type") or "").endswith("/attachedTemplate"):
            rel.getparent().remove(rel)


def redact_docx(data: bytes, findings: list, mode: str = "block") -> bytes:
    zf = open_zip(data)
    with zf:
        nameset = set(zf.namelist())
        main = main_part(zf, nameset)
        rs = RunStyle(hidden_styles_from(zf, nameset))
        # every header and footer part; one no page shows is read into the hidden layer
        # (scanner.extract.docx): its paragraphs are redacted like a displayed one's
        hf = header_footer_parts(zf, nameset, main, parse_xml(read_part(zf, main))) if main else {}
    stories = [main] + list(hf) + [n for n in ("word/footnotes.xml", "word/endnotes.xml") if n in nameset]
    everywhere = {f.text: mask(f.text, f.category, mode) for f in findings if f.text}

    def edit(part: str, root) -> bool:
        _drop_template_path(root)
        if part in stories:
            pindex = {i: p for p, i in paragraph_index(root).items()}
            layers = STORY_LAYERS + ("hidden",) if hf.get(part, (None, None))[1] else STORY_LAYERS
            for i, spans in spans_by_paragraph(findings, part, layers).items():
                p = pindex.get(i)
                if p is not None:
                    _redact_paragraph(p, rs, spans, mode)
                    if any(removes(s[2]) for s in spans):
                        _drop_if_empty(p, rs)
            _accept_revisions(root)
            _drop_comments_and_hidden(root, rs)
        return True

    return redact_package(data, "word/", everywhere, edit, _CLEARED_PARTS.__contains__, read=read_part)


__all__ = ["redact_docx", "apply_spans", "removes"]
