"""What the small Office Open XML writers share (standard library only): text made safe for XML
(characters XML 1.0 forbids dropped, then escaped), the package's [Content_Types].xml and
relationship parts, and the zip that holds the parts. The writers: scanner.report.xlsxwrite
(spreadsheets of reports) and service.wordml (the printable records as docx).

    write_package(path, {"[Content_Types].xml": content_types({"/word/document.xml": WORD_MAIN}),
                         "_rels/.rels": relationships([("rId1", OFFICE_REL + "officeDocument", "word/document.xml")]),
                         "word/document.xml": doc})"""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from xml.sax.saxutils import escape

XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships/"


def xml_text(v: object) -> str:
    """`v` as text XML can hold (None -> ""; forbidden control characters dropped), not escaped."""
    return BAD_XML.sub("", str(v if v is not None else ""))


def xml_escape(v: object, attribute: bool = False) -> str:
    """`v` as XML character data (or, with `attribute`, a double-quoted attribute value)."""
    return escape(xml_text(v), {'"': "&quot;"} if attribute else {})


def content_types(overrides: Mapping[str, str]) -> str:
    """[Content_Types].xml: rels and xml by default, `overrides` part name -> content type."""
    return (XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides.items()) + "</Types>")


def relationships(rels: Iterable[tuple[str, str, str]]) -> str:
    """A relationships part of (id, type, target)."""
    return (XML_DECL + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in rels)
            + "</Relationships>")


def write_package(target, parts: Mapping[str, str | bytes]) -> None:
    """The parts (name -> content) as a deflated zip at `target` (a path or a binary file object)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)


def package_bytes(parts: Mapping[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    write_package(buf, parts)
    return buf.getvalue()
