"""Cached cells of an external link (xl/externalLinks/externalLinkN.xml: the values another workbook's
cells had, kept to show this one's formulas) are read and rated like visible cells: a private
person's name list with mobiles there is the same review, with the same personal-data findings, as
the same list typed into a sheet; a list of names alone decides the same as in a sheet (shown, not
deciding), and each cached value is read (a hidden segment of kind external_link_cache)."""
from __future__ import annotations

import io
import zipfile

import pytest

NAMES = ["王建国", "李秀英", "张伟", "刘振华", "陈晓明", "赵雅琴"]
MOBILES = ["13812345678", "13987654321", "13611112222", "13755556666", "15012348888", "18623459999"]


def _visible(rows: list[list[str]]) -> bytes:
    import openpyxl
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cached(rows: list[list[str]]) -> bytes:
    """A workbook whose only sheet holds a formula into another workbook, and the external link's
    cached values of that workbook's cells (`rows`), as Excel writes them."""
    base = zipfile.ZipFile(io.BytesIO(_visible([["汇总"], ["=[1]Sheet1!A2"]])))
    cells = "".join(f'<row r="{i}">' + "".join(f'<cell r="{chr(65 + j)}{i}" t="str"><v>{v}</v></cell>'
                                            for j, v in enumerate(r)) + "</row>" for i, r in enumerate(rows, 1))
    ext = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1">'
           '<sheetNames><sheetName val="Sheet1"/></sheetNames>'
           f'<sheetDataSet><sheetData sheetId="0">{cells}</sheetData></sheetDataSet></externalBook></externalLink>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in base.infolist():
            z.writestr(info, base.read(info))
        z.writestr("xl/externalLinks/externalLink1.xml", ext)
    return out.getvalue()


def _personal(rep) -> list[tuple[str, str, str]]:
    return sorted((f.category, f.severity, f.text) for f in rep.findings if f.category.startswith("pii."))


@pytest.mark.parametrize("rows", [
    [["姓名", "手机"]] + [[n, m] for n, m in zip(NAMES, MOBILES)],
    [["姓名", "部门"]] + [[n, "办公室"] for n in NAMES],
], ids=["names_with_mobiles", "names_alone"])
def test_cached_external_cells_are_rated_like_visible_cells(full, rows):
    shown = full.scan_bytes(_visible(rows), "shown.xlsx")
    cached = full.scan_bytes(_cached(rows), "cached.xlsx")
    assert cached.decision == shown.decision
    assert _personal(cached) == _personal(shown)
    read = {s.text for s in cached.segments if s.layer == "hidden" and s.locator.get("kind") == "external_link_cache"}
    assert {v for r in rows[1:] for v in r} <= read
    if rows[0][1] == "手机":
        assert shown.decision == "review"
        assert {f.text for f in cached.findings if f.category == "pii.phone" and f.severity == "medium"} == set(MOBILES)
