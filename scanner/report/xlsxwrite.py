"""A small xlsx writer (Office Open XML SpreadsheetML, standard library only): sheets of rows of
text and numbers, a bold frozen header row, column widths, autofilter. For reports people open in
a spreadsheet (site inspection, archive registers); reading xlsx is scanner/extract/xlsx.py.

    write_xlsx("report.xlsx", [Sheet("检查结果", ["网址", "结论"], [["https://…", "下架"]], widths=[60, 10])])

Strings are inline (no shared-strings table), XML-escaped, and characters XML 1.0 forbids are
dropped, so any page text can be written."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .ooxmlwrite import OFFICE_REL, XML_DECL, content_types, relationships, write_package, xml_escape, xml_text

SHEET_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml."
MAX_CELL = 32767          # Excel's limit on a cell's characters


@dataclass
class Sheet:
    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    widths: Sequence[float] = field(default_factory=list)


def _col(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell(ref: str, v: object, style: int = 0) -> str:
    st = f' s="{style}"' if style else ""
    if v is None or v == "":
        return f'<c r="{ref}"{st}/>'
    if isinstance(v, bool):
        v = "是" if v else "否"
    if isinstance(v, (int, float)):
        return f'<c r="{ref}"{st}><v>{v}</v></c>'
    text = xml_text(v)[:MAX_CELL]
    return f'<c r="{ref}"{st} t="inlineStr"><is><t xml:space="preserve">{xml_escape(text)}</t></is></c>'


def _sheet_xml(sh: Sheet) -> str:
    ncols = max([len(sh.header)] + [len(r) for r in sh.rows]) or 1
    cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>' for i, w in enumerate(sh.widths))
    rows = ['<row r="1">' + "".join(_cell(f"{_col(i)}1", h, 1) for i, h in enumerate(sh.header)) + "</row>"]
    for n, r in enumerate(sh.rows, start=2):
        rows.append(f'<row r="{n}">' + "".join(_cell(f"{_col(i)}{n}", v, 2) for i, v in enumerate(r)) + "</row>")
    last = f"{_col(ncols - 1)}{len(sh.rows) + 1}"
    return (XML_DECL + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            'state="frozen"/></sheetView></sheetViews>'
            + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>" + "".join(rows) + "</sheetData>"
            + (f'<autoFilter ref="A1:{last}"/>' if sh.rows else "") + "</worksheet>")


def _safe_name(name: str, used: set[str]) -> str:
    n = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "Sheet"
    base, k = n, 2
    while n in used:
        n = f"{base[:28]}_{k}"
        k += 1
    used.add(n)
    return n


def write_xlsx(path, sheets: Sequence[Sheet]) -> None:
    used: set[str] = set()
    names = [_safe_name(s.name, used) for s in sheets]
    n = len(sheets)
    ct = content_types({"/xl/workbook.xml": SHEET_MAIN + "sheet.main+xml", "/xl/styles.xml": SHEET_MAIN + "styles+xml",
                        **{f"/xl/worksheets/sheet{i + 1}.xml": SHEET_MAIN + "worksheet+xml" for i in range(n)}})
    rels = relationships([("rId1", OFFICE_REL + "officeDocument", "xl/workbook.xml")])
    wb = (XML_DECL + '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
          + "".join(f'<sheet name="{xml_escape(name, attribute=True)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                    for i, name in enumerate(names)) + "</sheets></workbook>")
    wb_rels = relationships([*((f"rId{i + 1}", OFFICE_REL + "worksheet", f"worksheets/sheet{i + 1}.xml") for i in range(n)),
                             (f"rId{n + 1}", OFFICE_REL + "styles", "styles.xml")])
    styles = (XML_DECL + '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<fonts count="2"><font><sz val="11"/><name val="宋体"/></font>'
              '<font><b/><sz val="11"/><name val="宋体"/></font></fonts>'
              '<fills count="2"><fill><patternFill patternType="none"/></fill>'
              '<fill><patternFill patternType="gray125"/></fill></fills>'
              '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
              '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
              '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
              '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
              '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
              '<alignment vertical="top" wrapText="1"/></xf></cellXfs>'
              '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
    write_package(path, {"[Content_Types].xml": ct, "_rels/.rels": rels, "xl/workbook.xml": wb,
                         "xl/_rels/workbook.xml.rels": wb_rels, "xl/styles.xml": styles,
                         **{f"xl/worksheets/sheet{i + 1}.xml": _sheet_xml(s) for i, s in enumerate(sheets)}})
