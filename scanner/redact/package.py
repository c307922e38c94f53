"""What every redacted OOXML package (docx, xlsx, pptx) shares: the common parts redacted one way
(`common_part`: properties emptied, the thumbnail's relationship dropped, the custom XML data
bound to content controls and cover pages masked), the package written again without its
thumbnail (`write_package`), and embedded files taken out (`strip_embedded`); `redact_package`
walks a package's parts with them, the format's own redaction given as a function.

Embedded files out of a redacted OOXML package: whatever sits under
`<prefix>embeddings/` (OLE objects, embedded workbooks/documents/PDFs) and imported chunks
(w:altChunk) is removed, not redacted: a nested file can hold anything, in any format, and a
redacted copy must not carry a readable copy of it.

For each removed part: the relationships that point at it go, the elements that name those
relationships go (a Word w:object becomes the text 〔嵌入对象已删除〕 in its run; a sheet's
oleObject with its mc:AlternateContent wrapper), the preview pictures only those elements used
go, and the content-type overrides of every deleted part go. The package stays valid."""
from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable

from lxml import etree

from ..extract.xmlsafe import parse_xml
from ..extract.zipsafe import open_zip, read_member

REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_ALT = "{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent"
P_FRAME = "{http://schemas.openxmlformats.org/presentationml/2006/main}graphicFrame"
REMOVED_TEXT = "〔嵌入对象已删除〕"
_CONTAINERS = {W + "object", W + "altChunk", MC_ALT}


def _source_of(rels_name: str) -> str:
    """word/_rels/document.xml.rels -> word/document.xml; _rels/.rels -> ''."""
    folder, base = posixpath.split(rels_name)
    return posixpath.join(posixpath.dirname(folder), base[:-len(".rels")]) if base != ".rels" else ""


def _target(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _xml(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


PROPERTY_PARTS = ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml")


def cleared(raw: bytes) -> bytes:
    """The part with its root element emptied (properties, comments: nothing of them is kept)."""
    root = parse_xml(raw)
    for child in list(root):
        root.remove(child)
    return _xml(root)


def drop_thumbnail_rel(raw: bytes) -> bytes:
    """The package relationships without the thumbnail's (the thumbnail itself is not written)."""
    root = parse_xml(raw)
    for rel in list(root):
        if (rel.get("Type") or "").endswith("/thumbnail"):
            root.remove(rel)
    return _xml(root)


def replace_everywhere(root, texts: dict[str, str]) -> None:
    """Every key of `texts` replaced by its mask wherever it occurs in one text node or attribute."""
    if not texts:
        return
    order = sorted(texts, key=len, reverse=True)
    for el in root.iter():
        if isinstance(el.tag, str):
            if el.text and any(t in el.text for t in order):
                for t in order:
                    el.text = el.text.replace(t, texts[t])
            for k, v in el.attrib.items():
                if any(t in v for t in order):
                    for t in order:
                        v = v.replace(t, texts[t])
                    el.set(k, v)


def common_part(name: str, raw: bytes, texts: dict[str, str], is_cleared: Callable[[str], bool]) -> bytes | None:
    """A part every OOXML package may have, redacted: the properties (PROPERTY_PARTS) and the parts
    `is_cleared` names emptied, the package relationships without the thumbnail, the custom XML
    data items (data bound to content controls, cover-page properties: company phone, address ...)
    with `texts` masked. None: not one of those parts (the format's own code redacts it)."""
    if name in PROPERTY_PARTS or is_cleared(name):
        return cleared(raw)
    if name == "_rels/.rels":
        return drop_thumbnail_rel(raw)
    if name.startswith("customXml/item") and "Props" not in name:
        root = parse_xml(raw)
        replace_everywhere(root, texts)
        return _xml(root)
    return None


def redact_package(data: bytes, prefix: str, texts: dict[str, str], edit: Callable[[str, object], bool],
                   is_cleared: Callable[[str], bool] = lambda name: False, read=read_member) -> bytes:
    """The redaction walk every OOXML format shares: each XML part once, a common part as
    `common_part` redacts it, a part of the format's folder `prefix` (word/, xl/, ppt/) parsed and
    given to `edit(name, root)` (the format's own redaction, in place; True: `texts` are then also
    masked wherever they still occur in the part); then the package written again without its
    thumbnail and without embedded files. `read(zf, name)`: how a part is read (its size cap)."""
    zf = open_zip(data)
    with zf:
        out: dict[str, bytes] = {}
        for name in zf.namelist():
            if not name.endswith((".xml", ".rels")) or name.startswith("docProps/thumbnail"):
                continue
            raw = read(zf, name)
            common = common_part(name, raw, texts, is_cleared)
            if common is not None:
                out[name] = common
                continue
            if not name.startswith(prefix):
                continue
            root = parse_xml(raw)
            if edit(name, root):
                replace_everywhere(root, texts)
            out[name] = _xml(root)
        redacted = write_package(zf, out)
    return strip_embedded(redacted, prefix)[0]


def write_package(zf: zipfile.ZipFile, parts: dict[str, bytes]) -> bytes:
    """The package of `zf` again, `parts` in place of the parts they name, the thumbnail left out."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in zf.infolist():
            if info.filename.startswith("docProps/thumbnail"):
                continue
            body = parts.get(info.filename)
            out.writestr(info.filename, body if body is not None else zf.read(info.filename))
    return buf.getvalue()


def _container(el):
    """The element to remove for a reference to a removed part (on a slide: the whole frame)."""
    node, found = el, None
    while node is not None:
        if node.tag == P_FRAME:
            return node
        if found is None and node.tag in _CONTAINERS:
            found = node
        node = node.getparent()
    return found if found is not None else el


def _remove(el) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tag == W + "object" and parent.tag == W + "r":
        t = etree.SubElement(parent, W + "t")
        t.text = REMOVED_TEXT
        parent.replace(el, t)
        return
    parent.remove(el)
    # a sheet's <oleObjects>/<controls> must not be left empty
    if etree.QName(parent).localname in ("oleObjects", "controls") and not len(parent) and parent.getparent() is not None:
        parent.getparent().remove(parent)


def strip_embedded(data: bytes, prefix: str) -> tuple[bytes, int]:
    """-> (package without its embedded files, number of parts removed)."""
    zf = open_zip(data)
    with zf:
        names = zf.namelist()
        removed = {n for n in names if n.startswith(prefix + "embeddings/") and not n.endswith("/")}
        rels_names = [n for n in names if n.endswith(".rels")]
        rels = {n: parse_xml(read_member(zf, n)) for n in rels_names}
        for n, root in rels.items():          # imported chunks (altChunk) are embedded files too
            for rel in root:
                if (rel.get("Type") or "").endswith("/aFChunk") and rel.get("TargetMode") != "External":
                    removed.add(_target(_source_of(n), rel.get("Target") or ""))
        if not removed:
            return data, 0
        edited: dict[str, bytes] = {}
        deleted = set(removed)
        for n, root in rels.items():
            source = _source_of(n)
            gone = {rel.get("Id") for rel in root if rel.get("TargetMode") != "External"
                    and _target(source, rel.get("Target") or "") in removed}
            if not gone or source not in names:
                if gone:
                    for rel in list(root):
                        if rel.get("Id") in gone:
                            root.remove(rel)
                    edited[n] = _xml(root)
                continue
            doc = parse_xml(read_member(zf, source))
            dropped: set[str] = set(gone)
            for el in list(doc.iter()):
                if not isinstance(el.tag, str):
                    continue
                if any(etree.QName(k).namespace == R_NS and v in gone for k, v in el.attrib.items()):
                    box = _container(el)
                    # preview pictures and other parts named only inside the removed element
                    for sub in box.iter():
                        if isinstance(sub.tag, str):
                            dropped.update(v for k, v in sub.attrib.items() if etree.QName(k).namespace == R_NS)
                    _remove(box)
            still = {v for el in doc.iter() if isinstance(el.tag, str)
                     for k, v in el.attrib.items() if etree.QName(k).namespace == R_NS}
            dropped -= still
            for rel in list(root):
                if rel.get("Id") in dropped:
                    if rel.get("TargetMode") != "External":
                        deleted.add(_target(source, rel.get("Target") or ""))
                    root.remove(rel)
            edited[n] = _xml(root)
            edited[source] = _xml(doc)
        # a part still named by another relationship stays
        for n, root in rels.items():
            src = _source_of(n)
            for rel in root:
                t = _target(src, rel.get("Target") or "")
                if t in deleted and t not in removed and rel.get("TargetMode") != "External":
                    deleted.discard(t)
        if "[Content_Types].xml" in names:
            ct = parse_xml(read_member(zf, "[Content_Types].xml"))
            for o in list(ct):
                if o.tag == f"{{{CT_NS}}}Override" and (o.get("PartName") or "").lstrip("/") in deleted:
                    ct.remove(o)
            edited["[Content_Types].xml"] = _xml(ct)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
            for info in zf.infolist():
                if info.filename in deleted:
                    continue
                body = edited.get(info.filename)
                out.writestr(info.filename, body if body is not None else zf.read(info.filename))
    return buf.getvalue(), len(deleted & set(names))
