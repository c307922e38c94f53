"""A small WordprocessingML (docx) writer for the printable records: paragraphs and bordered
tables in a CJK font, A4, written with the standard library (no python-docx at run time).

Only what the records need: a paragraph (size, bold, centred), a table (column widths, optional
row heights, a header row that repeats on every page, a shaded first column, cells spanning
columns), and the core properties (title). Text is escaped; characters XML cannot hold are
dropped; a line break in a text becomes w:br."""
from __future__ import annotations

import datetime as dt

from scanner.report.ooxmlwrite import (OFFICE_REL, PACKAGE_REL, XML_DECL, content_types, package_bytes,
                                       relationships, xml_escape, xml_text)

TWIP_PER_MM = 56.6929
FONT = "宋体"

_CONTENT_TYPES = content_types({
    "/word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "/word/styles.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml",
    "/docProps/core.xml": "application/vnd.openxmlformats-package.core-properties+xml"})
_RELS = relationships([("rId1", OFFICE_REL + "officeDocument", "word/document.xml"),
                       ("rId2", PACKAGE_REL + "metadata/core-properties", "docProps/core.xml")])
_DOC_RELS = relationships([("rId1", OFFICE_REL + "styles", "styles.xml")])
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_STYLES = XML_DECL + f"""
<w:styles xmlns:w="{_W}"><w:docDefaults><w:rPrDefault><w:rPr>
<w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" w:cs="{FONT}"/><w:sz w:val="21"/><w:szCs w:val="21"/>
<w:lang w:val="zh-CN" w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault>
<w:pPrDefault><w:pPr><w:spacing w:after="60" w:line="276" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>
<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>
<w:tblPr><w:tblCellMar><w:left w:w="80" w:type="dxa"/><w:right w:w="80" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>
</w:styles>"""


def _runs(text: str, size: float, bold: bool) -> str:
    rpr = (f"<w:rPr>{'<w:b/>' if bold else ''}<w:sz w:val=\"{round(size * 2)}\"/>"
           f"<w:szCs w:val=\"{round(size * 2)}\"/></w:rPr>")
    parts = []
    for i, line in enumerate(xml_text(text).split("\n")):
        if i:
            parts.append("<w:br/>")
        parts.append(f'<w:t xml:space="preserve">{xml_escape(line)}</w:t>')
    return f"<w:r>{rpr}{''.join(parts)}</w:r>"


def _para(text: str, size: float = 10.5, bold: bool = False, align: str | None = None,
          before: int = 0, after: int = 60, keep_next: bool = False) -> str:
    jc = '<w:jc w:val="%s"/>' % align if align else ""
    keep = "<w:keepNext/>" if keep_next else ""
    ppr = f'<w:pPr>{keep}<w:spacing w:before="{before}" w:after="{after}"/>{jc}</w:pPr>'
    return f"<w:p>{ppr}{_runs(text, size, bold) if text else ''}</w:p>"


class Docx:
    """Build a document block by block, then `to_bytes()`."""

    def __init__(self, title: str = "", margin_mm: float = 18.0):
        self.title = title
        self.margin = round(margin_mm * TWIP_PER_MM)
        self.body: list[str] = []

    def paragraph(self, text: str, size: float = 10.5, bold: bool = False, center: bool = False,
                  before_pt: float = 0, after_pt: float = 3, keep_next: bool = False) -> None:
        """`keep_next`: on the same page as what follows (a heading)."""
        self.body.append(_para(text, size, bold, "center" if center else None, round(before_pt * 20), round(after_pt * 20),
                               keep_next))

    def table(self, rows: list[list[str]], widths_mm: list[float], header: bool = False, size: float = 9.5,
              heights_mm: list[float] | None = None, shade_first_col: bool = False,
              spans: dict[tuple[int, int], int] | None = None) -> None:
        """`rows` of cell texts; `spans[(r, c)] = n`: cell c of row r spans n columns (the row
        then lists one text for it and none for the n-1 columns it covers)."""
        widths = [round(w * TWIP_PER_MM) for w in widths_mm]
        borders = "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                          for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
        out = [f'<w:tbl><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblBorders>{borders}</w:tblBorders>'
               f'<w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>'
               + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid>"]
        for r, row in enumerate(rows):
            trpr = ["<w:cantSplit/>"]             # a row stays on one page
            if header and r == 0:
                trpr.append("<w:tblHeader/>")
            if heights_mm and r < len(heights_mm) and heights_mm[r]:
                trpr.append(f'<w:trHeight w:val="{round(heights_mm[r] * TWIP_PER_MM)}" w:hRule="atLeast"/>')
            cells, col = [], 0
            for text in row:
                n = (spans or {}).get((r, len(cells)), 1)
                width = sum(widths[col:col + n])
                tcpr = f'<w:tcW w:w="{width}" w:type="dxa"/>' + (f'<w:gridSpan w:val="{n}"/>' if n > 1 else "")
                if (header and r == 0) or (shade_first_col and col == 0):
                    tcpr += '<w:shd w:val="clear" w:color="auto" w:fill="EEEEEE"/>'
                cells.append(f"<w:tc><w:tcPr>{tcpr}</w:tcPr>{_para(text, size, header and r == 0, after=0)}</w:tc>")
                col += n
            out.append(f"<w:tr><w:trPr>{''.join(trpr)}</w:trPr>{''.join(cells)}</w:tr>")
        out.append("</w:tbl>")
        self.body.append("".join(out))
        self.body.append(_para("", after=0))       # Word needs a paragraph between two tables

    def to_bytes(self) -> bytes:
        m = self.margin
        sect = (f'<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="{m}" w:right="{m}" w:bottom="{m}" '
                f'w:left="{m}" w:header="567" w:footer="567" w:gutter="0"/></w:sectPr>')
        doc = (XML_DECL + f'\n<w:document xmlns:w="{_W}"><w:body>'
               + "".join(self.body) + sect + "</w:body></w:document>")
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        core = (XML_DECL + '\n<cp:coreProperties '
                'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
                'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                f"<dc:title>{xml_escape(self.title)}</dc:title><dc:creator>保密审查系统</dc:creator>"
                f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created></cp:coreProperties>')
        return package_bytes({"[Content_Types].xml": _CONTENT_TYPES, "_rels/.rels": _RELS,
                              "word/_rels/document.xml.rels": _DOC_RELS, "word/document.xml": doc,
                              "word/styles.xml": _STYLES, "docProps/core.xml": core})
