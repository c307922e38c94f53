"""XLSX: cells of every sheet (present cells only: a far-away cell costs nothing), sheet names,
hidden sheets / rows / columns, comments (legacy and threaded), defined names, properties.

Streaming lxml iterparse over each sheet part, never openpyxl (a 1.6 kB file hung openpyxl > 30 s).
Cells in a hidden sheet, row or column go to the `hidden` layer (kind hidden_sheet/row/col), except
the cells a visible sheet's drop-down list shows (data validation of type list, by range or defined
name): what the list offers is what a reader sees when opening it, so those cells are read as
`table` (kind list_source), with the header cell directly above a list; a hidden sheet holding only
such lists (a 下拉选项 sheet) has its name read as `body` (kind list_source_sheet) too.
"""
from __future__ import annotations

import io
import re

from ..model import Document
from . import errors as E
from .ooxml_props import add_package_layers, part_rels, require_part
from .xmlsafe import check_no_dtd, local, parse_xml
from .zipsafe import open_zip, read_member

S_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
S = "{" + S_NS + "}"
R_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
MAX_CELLS = 1_000_000
MAX_SHARED = 2_000_000
_COL = re.compile(r"^([A-Z]+)(\d+)$")
X14 = "{http://schemas.microsoft.com/office/spreadsheetml/2009/9/main}"
XM = "{http://schemas.microsoft.com/office/excel/2006/main}"
# Sheet!$A$2:$A$9, 'My sheet'!A2, or a bare range (the validating sheet itself)
_RANGE = re.compile(r"^=?(?:(?:'((?:[^']|'')+)'|([^!'\s,]+))!)?\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


# Names Excel itself writes (a query table's ExternalData_1, the autofilter's _FilterDatabase, a
# custom view's Z_<GUID>_.wvu.*, slicers, chart and lambda helpers): when such a name only points
# at cells it says nothing a person wrote. A name a person gave (内部口径) is read whatever it holds.
GENERATED_NAME = re.compile(r"^(?:ExternalData_\d+|_FilterDatabase|Z_[0-9A-Fa-f-]{36}_\.wvu\..+|Slicer_.+|_xlchart\..+|_xlpm\..+)$")
# a value that is only cell references: 'sheet'!$A$1:$D$38, Sheet1!$A:$A, several joined by commas
_REF = r"(?:(?:'(?:[^']|'')+'|[^'!,=\s]+)!)?(?:\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?|\$?[A-Z]{1,3}:\$?[A-Z]{1,3}|\$?\d+:\$?\d+|#REF!)"
CELL_REFERENCE = re.compile(rf"^=?{_REF}(?:,{_REF})*$")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _parse_range(ref: str, default_sheet: str):
    """(sheet, c1, r1, c2, r2) of a cell or range reference, or None (formulas, INDIRECT, lists typed in)."""
    m = _RANGE.match(ref.strip())
    if not m:
        return None
    sheet = (m.group(1) or "").replace("''", "'") or m.group(2) or default_sheet
    c1, r1 = _col_index(m.group(3)), int(m.group(4))
    c2, r2 = (_col_index(m.group(5)), int(m.group(6))) if m.group(5) else (c1, r1)
    return sheet, min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


def _list_sources(zf, sheets, names, defined: dict[str, str]) -> dict[str, list[tuple[int, int, int, int]]]:
    """Ranges shown by the drop-down lists (data validation of type list) of the visible sheets:
    sheet name -> [(c1, r1, c2, r2)]."""
    out: dict[str, list[tuple[int, int, int, int]]] = {}
    for sname, state, part in sheets:
        if state != "visible" or not part or part not in names:
            continue
        raw = read_member(zf, part)
        if b"dataValidation" not in raw:
            continue
        for el in _iter(raw, (S + "dataValidation", X14 + "dataValidation")):
            if el.get("type") != "list":
                continue
            f1 = el.find(S + "formula1")
            if f1 is None:
                f1 = el.find(X14 + "formula1/" + XM + "f")
            ref = (f1.text or "").strip() if f1 is not None else ""
            ref = defined.get(ref, ref)
            got = _parse_range(ref, sname)
            if got:
                out.setdefault(got[0], []).append(got[1:])
    return out


def _in_lists(ref: str, lists) -> bool:
    """A cell of a list range, or the header cell directly above one."""
    m = _COL.match(ref)
    if not m or not lists:
        return False
    c, r = _col_index(m.group(1)), int(m.group(2))
    return any(c1 <= c <= c2 and r1 - 1 <= r <= r2 for c1, r1, c2, r2 in lists)


def _iter(raw: bytes, tags):
    from lxml import etree
    check_no_dtd(raw)
    try:
        for _ev, el in etree.iterparse(io.BytesIO(raw), events=("end",), tag=tags, resolve_entities=False,
                                       no_network=True, load_dtd=False, huge_tree=False):
            yield el
    except etree.XMLSyntaxError as exc:
        if "depth" in str(exc).lower():
            raise E.ExtractionFailed(E.xml_too_deep("XML nesting deeper than 256"))
        raise E.ExtractionFailed(E.corrupt("sheet XML not well-formed"))


def _shared_strings(zf, names) -> list[str]:
    name = "xl/sharedStrings.xml"
    if name not in names:
        return []
    out = []
    for si in _iter(read_member(zf, name), S + "si"):
        # rich text runs: concatenate t of r, skip phonetic (rPh) runs
        parts = [t.text or "" for t in si.iter(S + "t") if t.getparent().tag != S + "rPh"]
        out.append("".join(parts))
        si.clear()
        if len(out) > MAX_SHARED:
            raise E.ExtractionFailed(E.resource_limit("too many shared strings"))
    return out


def extract_xlsx(data: bytes, doc: Document) -> None:
    zf = open_zip(data)
    with zf:
        names = set(zf.namelist())
        require_part(names, "xl/workbook.xml")
        wb = parse_xml(read_member(zf, "xl/workbook.xml"))
        rels = {rid: target for rid, (target, _t) in part_rels(zf, names, "xl/workbook.xml").items()}
        shared = _shared_strings(zf, names)
        invisible = _invisible_styles(zf, names)
        sheets = []
        for sh in wb.iter(S + "sheet"):
            sheets.append((sh.get("name") or "", sh.get("state") or "visible", rels.get(sh.get(R_NS + "id") or "")))
        defined = {}
        for dn in wb.iter(S + "definedName"):
            val = (dn.text or "").strip()
            nm = dn.get("name") or ""
            defined[nm] = val
            if nm.startswith("_xlnm.") or (GENERATED_NAME.match(nm) and CELL_REFERENCE.match(val)):
                continue        # print areas, filters, query tables, custom views: generated
            layer = "hidden" if (dn.get("hidden") or "0") in ("1", "true") else "metadata"
            if val:
                doc.add(layer, f"{nm}: {val}"[:4000], field="defined_name", kind="defined_name", name=nm[:200])
        lists = _list_sources(zf, sheets, names, defined) if any(st != "visible" for _n, st, _p in sheets) else {}
        persons = _persons(zf, names)
        threads = {name: _threaded_comments(zf, name, persons)
                   for name in sorted(n for n in names if n.startswith("xl/threadedComments/"))}
        thread_sheet = {target: sname for sname, _st, part in sheets if part and part in names
                        for target, rtype in part_rels(zf, names, part).values() if rtype == "threadedComment"}
        cells = 0
        for sname, state, part in sheets:
            hidden_sheet = state in ("hidden", "veryHidden")
            if not hidden_sheet:
                doc.add("body", sname, sheet=sname, kind="sheet_name", field="sheet_name")
            if not part or part not in names:
                if hidden_sheet:
                    doc.add("hidden", sname, sheet=sname, kind="hidden_sheet", field="sheet_name")
                continue
            counts = {"hidden": 0, "list": 0}
            cells = _sheet(zf, part, sname, hidden_sheet, shared, doc, cells, invisible, lists.get(sname), counts)
            if hidden_sheet:
                only_lists = counts["list"] and not counts["hidden"]
                doc.add("body" if only_lists else "hidden", sname, sheet=sname,
                        kind="list_source_sheet" if only_lists else "hidden_sheet", field="sheet_name")
            _sheet_comments(zf, names, part, sname, doc, threads)
            if cells > MAX_CELLS:
                doc.errors.append(E.truncated(f"more than {MAX_CELLS} cells"))
                break
        for name in sorted(n for n in names if n.startswith("xl/threadedComments/")):
            sname = thread_sheet.get(name, "")
            for tc in threads[name]:
                doc.add("comment", tc.text, part=name, cell=tc.ref, kind="threaded_comment",
                        **({"sheet": sname} if sname else {}), **({"author": tc.author} if tc.author else {}))
        _caches(zf, names, doc)
        add_package_layers(zf, names, doc, "xl/")


def _invisible_styles(zf, names) -> dict[int, str]:
    """Cell style (xf) index -> why its value does not show: the ';;;' number format, or a white
    font on an unfilled cell."""
    if "xl/styles.xml" not in names:
        return {}
    root = parse_xml(read_member(zf, "xl/styles.xml"))
    blank_fmts = {int(f.get("numFmtId") or -1) for f in root.iter(S + "numFmt")
                  if re.fullmatch(r'(?:"?\s*"?;){3}\s*', (f.get("formatCode") or "").replace("@", ""))
                  or (f.get("formatCode") or "").strip() == ";;;"}
    fonts = root.find(S + "fonts")
    white_fonts = set()
    for i, font in enumerate(fonts if fonts is not None else []):
        color = font.find(S + "color")
        if color is not None and (color.get("rgb") or "").upper() in ("FFFFFFFF", "FFFFFF"):
            white_fonts.add(i)
    fills = root.find(S + "fills")
    filled = set()
    for i, fill in enumerate(fills if fills is not None else []):
        pf = fill.find(S + "patternFill")
        if fill.find(S + "gradientFill") is not None or (pf is not None and (pf.get("patternType") or "none") != "none"):
            filled.add(i)
    out = {}
    xfs = root.find(S + "cellXfs")
    for i, xf in enumerate(xfs if xfs is not None else []):
        try:
            num, font, fill = (int(xf.get(k) or 0) for k in ("numFmtId", "fontId", "fillId"))
        except ValueError:
            continue
        if num in blank_fmts:
            out[i] = "hidden_format"
        elif font in white_fonts and fill not in filled:
            out[i] = "white"
    return out


def _sheet(zf, part, sname, hidden_sheet, shared, doc, cells, invisible=None, lists=None, counts=None) -> int:
    invisible = invisible or {}
    counts = counts if counts is not None else {"hidden": 0, "list": 0}
    raw = read_member(zf, part)
    hidden_cols: list[tuple[int, int]] = []
    rows: dict[int, tuple[bool, int]] = {}                  # row number -> (hidden, outline level)
    grouped: list[tuple[int, int, dict]] = []               # hidden rows of a group: (row, level, locator)
    summary_below = True
    for el in _iter_all(raw):
        tag = el.tag
        if tag == S + "outlinePr":
            summary_below = (el.get("summaryBelow") or "1") not in ("0", "false")
        elif tag == S + "col":
            if (el.get("hidden") or "0") in ("1", "true"):
                try:
                    hidden_cols.append((int(el.get("min") or 0), int(el.get("max") or 0)))
                except ValueError:
                    pass
        elif tag in _HF_TAGS:
            _header_footer(el, sname, doc)
        elif tag == S + "row":
            row_hidden = (el.get("hidden") or "0") in ("1", "true")
            try:    # a hidden row of an outline group
                outline = int(el.get("outlineLevel") or 0)
                rnum = int(el.get("r") or 0)
            except ValueError:
                outline, rnum = 0, 0
            if rnum:
                rows[rnum] = (row_hidden, outline)
            for c in el.iter(S + "c"):
                cells += 1
                if cells > MAX_CELLS:
                    return cells
                text = _cell_text(c, shared)
                if not text or not text.strip():
                    continue
                ref = c.get("r") or ""
                m = _COL.match(ref)
                col_hidden = bool(m) and any(a <= _col_index(m.group(1)) <= b for a, b in hidden_cols)
                try:
                    style_kind = invisible.get(int(c.get("s") or 0))
                except ValueError:
                    style_kind = None
                kind = "hidden_sheet" if hidden_sheet else "hidden_row" if row_hidden else \
                    "hidden_col" if col_hidden else style_kind
                loc = {"sheet": sname, "cell": ref}
                if kind == "hidden_sheet" and _in_lists(ref, lists):
                    counts["list"] += 1
                    doc.add("table", text, kind="list_source", **loc)
                elif kind:
                    counts["hidden"] += 1
                    seg = doc.add("hidden", text, kind=kind, **loc)
                    if seg is not None and kind == "hidden_row" and outline and rnum:
                        grouped.append((rnum, outline, seg.locator))
                else:
                    doc.add("table", text, **loc)
                f = c.find(S + "f")
                if f is not None and f.text and re.search(r"\[|https?:|\\\\", f.text):
                    doc.add("metadata", f.text[:2000], field="formula_link", kind="formula", **loc)
            el.clear()
    if grouped:
        shown = _groups_shown(rows, summary_below)
        for rnum, level, loc in grouped:
            if rnum in shown:
                loc["outline"] = level
    return cells


OUTLINE_SCAN = 5000     # a group's summary row at most this many rows away (beyond: not marked, fail closed)
OUTLINE_LEVELS = 8      # outline levels 0-7 (Excel's range); a larger one counts as 8


def _groups_shown(rows: dict[int, tuple[bool, int]], summary_below: bool) -> set[int]:
    """The hidden rows of an outline group that belong to a collapsed group the reader sees (its +
    button): the group's summary row, the nearest row below (or above, summaryBelow="0") with a lower
    outline level, at most OUTLINE_SCAN rows away, is itself visible. A row absent from the XML is a
    visible row of level 0. One pass over the rows (each row's nearest lower-level row per level kept
    as it goes), so a sheet of a million hidden grouped rows costs a million steps, not 5,000 each."""
    order = sorted(rows, reverse=summary_below)
    step = 1 if summary_below else -1
    # nearest[L]: (row, hidden) of the nearest row already passed with a level under L
    nearest: list[tuple[int, bool] | None] = [None] * (OUTLINE_LEVELS + 1)
    if summary_below and order:
        nearest = [(order[0] + 1, False)] * (OUTLINE_LEVELS + 1)    # the rows after the last one
    prev = None if summary_below else 0
    shown: set[int] = set()
    for r in order:
        if prev is not None and abs(prev - r) > 1:                  # the absent row next to r
            nearest = [(r + step, False)] * (OUTLINE_LEVELS + 1)
        hidden, level = rows[r]
        level = min(max(level, 0), OUTLINE_LEVELS)
        near = nearest[level]
        if hidden and level and near is not None and abs(near[0] - r) <= OUTLINE_SCAN and not near[1]:
            shown.add(r)
        for lv in range(level + 1, OUTLINE_LEVELS + 1):
            nearest[lv] = (r, hidden)
        prev = r
    return shown


_HF_TAGS = {S + t: ("header" if "Header" in t else "footer") for t in
            ("oddHeader", "evenHeader", "firstHeader", "oddFooter", "evenFooter", "firstFooter")}
_HF_CODES = re.compile(r'&"[^"]*"|&\d+|&[LCRPNDTZFAGBIUESHKXYlcrpndtzfagbiueshkxy&]')


def _iter_all(raw: bytes):
    return _iter(raw, (S + "outlinePr", S + "col", S + "row", *_HF_TAGS))


def _header_footer(el, sname: str, doc: Document) -> None:
    text = _HF_CODES.sub(" ", el.text or "").strip()
    if text:
        doc.add(_HF_TAGS[el.tag], " ".join(text.split()), sheet=sname, kind=el.tag.rsplit("}", 1)[-1])


def _cell_text(c, shared) -> str:
    t = c.get("t") or "n"
    if t == "s":
        v = c.find(S + "v")
        try:
            return shared[int(v.text)] if v is not None and v.text else ""
        except (ValueError, IndexError):
            return ""
    if t == "inlineStr":
        is_ = c.find(S + "is")
        return "".join(x.text or "" for x in is_.iter(S + "t")) if is_ is not None else ""
    v = c.find(S + "v")
    return (v.text or "") if v is not None else ""


TC_NS = "{http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments}"
XR_UID = "{http://schemas.microsoft.com/office/spreadsheetml/2014/revision}uid"
# The legacy copy Excel (2019/365) writes of every threaded comment into comments1.xml, for older
# versions: a bracketed label line ("[Threaded comment]"), a notice line ending in Microsoft's
# fwlink 870924, then a label line ("Comment:") before the thread's text, each reply after a
# "Reply:" line. Other languages translate the labels and the notice, never the link.
_TC_BOILERPLATE = re.compile(r"\A\s*\[[^\]\n]{1,60}\]\s*\n[^\n]{0,400}https?://go\.microsoft\.com/fwlink/\?linkid=870924"
                             r"\s*\n\s*[^\n:：]{1,30}[:：][ \t]*\n?")
_TC_LABEL = re.compile(r"[^\s:：]{1,30}[:：]")


class _Thread:
    __slots__ = ("ref", "text", "author", "id", "parent")

    def __init__(self, ref: str, text: str, author: str, id_: str, parent: str):
        self.ref, self.text, self.author, self.id, self.parent = ref, text, author, id_, parent


def _persons(zf, names) -> dict[str, str]:
    """Threaded comments' authors: person id -> display name (xl/persons/*.xml)."""
    out: dict[str, str] = {}
    for name in sorted(n for n in names if n.startswith("xl/persons/") and n.endswith(".xml")):
        for p in _iter(read_member(zf, name), TC_NS + "person"):
            if p.get("id"):
                out[p.get("id") or ""] = (p.get("displayName") or "")[:200]
    return out


def _threaded_comments(zf, name: str, persons: dict[str, str]) -> list[_Thread]:
    out = []
    for tc in _iter(read_member(zf, name), TC_NS + "threadedComment"):
        text = "".join(t.text or "" for t in tc.iter() if local(t.tag) == "text")
        if text.strip():
            out.append(_Thread(tc.get("ref") or "", text, persons.get(tc.get("personId") or "", ""),
                               tc.get("id") or "", tc.get("parentId") or ""))
    return out


def _legacy_copy(text: str, uid: str, threads: dict[str, list[_Thread]]) -> tuple[int, bool, str]:
    """A legacy comment that is Excel's copy of a threaded comment: (where the thread's text starts
    after the boilerplate, whether the copy says nothing the threaded part does not, the thread's
    author); (0, False, "") for any other comment."""
    m = _TC_BOILERPLATE.match(text)
    if not m:
        return 0, False, ""
    thread = [t for ts in threads.values() for t in ts if uid and (t.id == uid or t.parent == uid)]
    rest = _SPACE.sub("", text[m.end():])
    for t in sorted(thread, key=lambda t: -len(t.text)):
        rest = rest.replace(_SPACE.sub("", t.text), "", 1)
    same = bool(thread) and not _TC_LABEL.sub("", rest)
    author = next((t.author for t in thread if t.id == uid), "")
    return m.end(), same, author


_SPACE = re.compile(r"\s+")


def _sheet_comments(zf, names, part, sname, doc, threads=None) -> None:
    threads = threads or {}
    for target, rtype in part_rels(zf, names, part).values():
        if rtype != "comments" or target not in names:
            continue
        root = parse_xml(read_member(zf, target))
        authors = [a.text or "" for a in root.iter(S + "author")]
        for cm in root.iter(S + "comment"):
            text = "".join(t.text or "" for t in cm.iter(S + "t"))
            try:
                author = authors[int(cm.get("authorId") or 0)]
            except (ValueError, IndexError):
                author = ""
            # Excel's copy of a threaded comment: the threaded part holds the same text with its
            # author; a copy that says more (edited in an older Excel) is kept, without the notice
            uid = cm.get(XR_UID) or (author[3:] if author.startswith("tc=") else "")
            start, same, thread_author = _legacy_copy(text, uid, threads)
            if same:
                continue
            if start:
                text = text[start:]
                author = thread_author or ("" if author.startswith("tc=") else author)
            if text.strip():
                doc.add("comment", text, sheet=sname, cell=cm.get("ref") or "", author=author[:200],
                        part=target, kind="comment")


MAX_CACHE_VALUES = 200_000


def _caches(zf, names, doc: Document) -> None:
    """Values kept in pivot caches and external-link caches that no visible cell shows: data of a
    deleted source sheet or of another workbook, still inside the file (hidden layer)."""
    shown = {s.text.strip() for s in doc.segments if s.layer in ("table", "hidden")}
    seen: set[str] = set()
    count = 0
    parts = sorted(n for n in names if n.endswith(".xml") and (n.startswith("xl/pivotCache/")
                   or n.startswith("xl/externalLinks/externalLink")))
    for name in parts:
        kind = "pivot_cache" if "pivotCache" in name else "external_link_cache"
        if zf.getinfo(name).file_size > 32 << 20:
            doc.errors.append(E.partial(f"{name} too large to inspect"))
            continue
        for el in _iter(read_member(zf, name), None):
            tag = local(el.tag)
            if kind == "pivot_cache" and tag == "s":
                val = el.get("v") or ""
            elif kind == "external_link_cache" and tag == "v" and local(el.getparent().tag) == "cell":
                val = el.text or ""
            else:
                continue
            val = val.strip()
            if not val or val in shown or val in seen:
                continue
            seen.add(val)
            count += 1
            if count > MAX_CACHE_VALUES:
                doc.errors.append(E.truncated("too many cached values"))
                return
            doc.add("hidden", val[:4000], part=name, kind=kind)
