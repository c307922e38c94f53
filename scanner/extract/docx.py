"""DOCX: body paragraphs and tables in reading order, headers and footers, read from the XML.

python-docx's Paragraph.text drops tracked insertions, so the XML is read directly (lxml, no
entities, no network). Deeper layers (revisions, comments, vanished runs, properties, notes,
text boxes) are added by scanner.extract.docx_layers when present.
"""
from __future__ import annotations

import io
import zipfile

from ..model import Document
from . import errors as E

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_PART_BYTES = 64 << 20


def parse_xml(raw: bytes):
    from lxml import etree
    if b"<!DOCTYPE" in raw[:4096] or b"<!ENTITY" in raw[:4096]:
        raise E.ExtractionFailed(E.corrupt("DOCTYPE in OOXML part"))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    return etree.fromstring(raw, parser=parser)


def read_part(zf: zipfile.ZipFile, name: str) -> bytes:
    infos = [i for i in zf.infolist() if i.filename == name]
    if len(infos) > 1:
        raise E.ExtractionFailed(E.corrupt(f"duplicate zip entry {name}"))
    info = infos[0]
    if info.file_size > MAX_PART_BYTES or (info.compress_size and info.file_size / info.compress_size > 200
                                           and info.file_size > 1 << 20):
        raise E.ExtractionFailed(E.resource_limit(f"zip part {name} too large or over-compressed"))
    with zf.open(info) as fh:
        data = fh.read(MAX_PART_BYTES + 1)
    if len(data) > MAX_PART_BYTES:
        raise E.ExtractionFailed(E.resource_limit(f"zip part {name} larger than declared"))
    return data


def visible_paragraph_text(p) -> str:
    """Text a reader sees: w:t (including tracked insertions), tabs/breaks; no deletions, no vanished runs."""
    out = []
    for node in p.iter(W + "t", W + "tab", W + "br", W + "cr", W + "noBreakHyphen"):
        # skip text inside deletions, vanished runs, and nested paragraphs of text boxes
        anc = node.getparent()
        skip = False
        while anc is not None and anc is not p:
            if anc.tag in (W + "del", W + "moveFrom"):
                skip = True
                break
            if anc.tag == W + "r":
                rpr = anc.find(W + "rPr")
                if rpr is not None and rpr.find(W + "vanish") is not None:
                    skip = True
                    break
            if anc.tag == W + "p":   # a text box paragraph inside this paragraph
                skip = True
                break
            anc = anc.getparent()
        if skip:
            continue
        if node.tag == W + "t":
            out.append(node.text or "")
        elif node.tag == W + "tab":
            out.append("\t")
        elif node.tag == W + "noBreakHyphen":
            out.append("-")
        else:
            out.append("\n")
    return "".join(out)


def _walk_block(container, doc: Document, layer: str, counter: dict, **loc) -> None:
    for child in container:
        if child.tag == W + "p":
            text = visible_paragraph_text(child)
            if text.strip():
                doc.add(layer, text, paragraph=counter["p"], **loc)
            counter["p"] += 1
        elif child.tag == W + "tbl":
            t_index = counter["t"]
            counter["t"] += 1
            for r_i, tr in enumerate(child.iter(W + "tr")):
                for c_i, tc in enumerate(tr.findall(W + "tc")):
                    for p in tc.findall(W + "p"):
                        text = visible_paragraph_text(p)
                        if text.strip():
                            doc.add("table" if layer == "body" else layer, text, table=t_index, row=r_i,
                                    col=c_i, paragraph=counter["p"], **loc)
                        counter["p"] += 1
        elif child.tag in (W + "sdt",):
            content = child.find(W + "sdtContent")
            if content is not None:
                _walk_block(content, doc, layer, counter, **loc)


def extract_docx(data: bytes, doc: Document) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise E.ExtractionFailed(E.corrupt(str(exc)))
    with zf:
        names = zf.namelist()
        if "word/document.xml" not in names:
            raise E.ExtractionFailed(E.corrupt("no word/document.xml"))
        root = parse_xml(read_part(zf, "word/document.xml"))
        body = root.find(W + "body")
        if body is None:
            raise E.ExtractionFailed(E.corrupt("no w:body"))
        _walk_block(body, doc, "body", {"p": 0, "t": 0})
        for name in sorted(n for n in names if n.startswith("word/header") and n.endswith(".xml")):
            _walk_block(parse_xml(read_part(zf, name)), doc, "header", {"p": 0, "t": 0}, part=name)
        for name in sorted(n for n in names if n.startswith("word/footer") and n.endswith(".xml")):
            _walk_block(parse_xml(read_part(zf, name)), doc, "footer", {"p": 0, "t": 0}, part=name)
        try:
            from .docx_layers import extract_docx_layers
        except ImportError:
            return
        extract_docx_layers(zf, root, doc)
