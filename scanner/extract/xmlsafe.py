"""Safe XML parsing for OOXML/OFD parts: no DTDs, no entities, no network, bounded depth.

A DOCTYPE (and so any entity declaration) in an OOXML part is rejected outright: Office never
writes one, and without the rejection an XXE part "succeeds" while silently losing text.
libxml2 without XML_PARSE_HUGE refuses nesting deeper than 256 levels; that becomes
extract.xml_too_deep. Error details are fixed English strings, never the parser's message
(which can quote document text).
"""
from __future__ import annotations

import re

from . import errors as E

_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)


def _as_utf8_probe(raw: bytes) -> bytes:
    """UTF-16 parts would hide a DOCTYPE from a byte search; decode them for the check."""
    head = raw[:4]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) >= 2 and (head[0] == 0 or head[1] == 0)):
        enc = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-16-be" if head[0] == 0 else "utf-16-le")
        return raw.decode(enc, errors="ignore").encode("utf-8")
    return raw


def check_no_dtd(raw: bytes) -> None:
    if _DTD.search(_as_utf8_probe(raw)):
        raise E.ExtractionFailed(E.dtd_forbidden("DOCTYPE or ENTITY in XML part"))


def _parser():
    from lxml import etree
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, recover=False, remove_comments=False)


def parse_xml(raw: bytes):
    """Parse one XML part safely; raise ExtractionFailed with a stable code on anything odd."""
    from lxml import etree
    check_no_dtd(raw)
    try:
        root = etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as exc:
        msg = str(exc).lower()
        if "depth" in msg or "nest" in msg:
            raise E.ExtractionFailed(E.xml_too_deep("XML nesting deeper than 256"))
        if "entity" in msg or "doctype" in msg:
            raise E.ExtractionFailed(E.dtd_forbidden("entity reference in XML part"))
        raise E.ExtractionFailed(E.corrupt("XML part not well-formed"))
    except ValueError:
        raise E.ExtractionFailed(E.corrupt("XML part not parseable"))
    if root is None:
        raise E.ExtractionFailed(E.corrupt("empty XML part"))
    di = root.getroottree().docinfo
    if di.doctype or di.internalDTD is not None or di.externalDTD is not None:
        raise E.ExtractionFailed(E.dtd_forbidden("DOCTYPE in XML part"))
    return root


def local(tag) -> str:
    """Local name of an element tag ('{ns}p' -> 'p'); '' for comments/PIs."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]
