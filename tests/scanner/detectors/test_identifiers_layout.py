"""Identifiers split by the layout: a number across a line break (a PDF line wrap) and a value in a
table cell whose label is the column header, rows away (issue 12)."""
from __future__ import annotations

import sys
from pathlib import Path

from scanner.model import Document, Segment

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "shared" / "eval"))
from synth import id_number  # noqa: E402

ID = id_number("510104", "19920211", "047")


def _doc(*segments: Segment) -> Document:
    doc = Document(source="t", sha256="", media_type="application/pdf")
    doc.segments.extend(segments)
    return doc


def test_id_number_across_a_line_break_is_found_on_both_lines(light_scanner):
    a = "经查，申请人张某某的公民身份号码为" + ID[:9]
    b = ID[9:] + "，符合条件。"
    report = light_scanner.scan_document(_doc(Segment(0, "body", a, {"page": 1, "line": 0}),
                                              Segment(1, "body", b, {"page": 1, "line": 1})))
    ids = [f for f in report.findings if f.category == "pii.id_card"]
    assert [(f.segment_id, f.text) for f in ids] == [(0, ID[:9]), (1, ID[9:])]
    assert all("position:across-line-break" in f.evidence for f in ids)
    assert report.decision == "review"


def test_two_numbers_on_consecutive_lines_are_not_joined(light_scanner):
    # a line ending in a date and the next starting with an amount: no valid ID across the break
    report = light_scanner.scan_document(_doc(Segment(0, "body", "统计截至20260315", {"line": 0}),
                                              Segment(1, "body", "1203人次参加培训。", {"line": 1})))
    assert not [f for f in report.findings if f.category.startswith("pii")]


def test_table_cell_takes_its_column_header_as_label(light_scanner):
    cells = [("姓名", 0, 0), ("护照号码", 0, 1), ("出访国家", 0, 2),
             ("李某", 1, 0), ("E12345678", 1, 1), ("新加坡", 1, 2),
             ("王某", 2, 0), ("E87654321", 2, 1), ("泰国", 2, 2)]
    segs = [Segment(k, "table", t, {"table": 0, "row": r, "col": c}) for k, (t, r, c) in enumerate(cells)]
    report = light_scanner.scan_document(_doc(*segs))
    found = {f.text for f in report.findings if f.category == "pii.passport"}
    assert found == {"E12345678", "E87654321"}       # the second row is beyond the 16-character window


def test_same_number_without_a_passport_header_is_not_a_passport(light_scanner):
    cells = [("设备", 0, 0), ("型号", 0, 1), ("投影仪", 1, 0), ("E12345678", 1, 1)]
    segs = [Segment(k, "table", t, {"table": 0, "row": r, "col": c}) for k, (t, r, c) in enumerate(cells)]
    report = light_scanner.scan_document(_doc(*segs))
    assert not [f for f in report.findings if f.category == "pii.passport"]
