"""Precision on real Word files nobody on the project wrote, in CI (issue 16).

The real-document set of tests/realdocs/ is rebuilt from public snapshots by `make realdocs` and is
not on a fresh clone; the shared docx fixtures (../shared/data/docx-fixtures: 59 real files from
two public repositories, with author properties, headers, footnotes, pictures, tracked changes and
comments) are. A reviewer would publish every one of them that carries no tracked change, comment
or hidden text: author names in the properties, headers and pictures are not a reason to hold a file.
So each such file must pass, except the few listed below, each with the reason it is held (all
fail closed: something in the file was not read, or a property has real content)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BASE = Path(__file__).resolve().parents[3] / "shared" / "data" / "docx-fixtures"
ROWS = [json.loads(line) for line in (BASE / "docx_fixtures.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()] if (BASE / "docx_fixtures.jsonl").exists() else []
HELD_CONTENT = {"tracked_changes", "comments", "hidden_text"}

# clean files that go to review, and why that is right
HELD_FOR_A_REASON = {
    "docx/checked_drop1.docx": "extract.no_text: only a checkbox content control, nothing was read",
    "docx/unchecked_drop0.docx": "extract.no_text: only a checkbox content control, nothing was read",
    "docx/nested_paragraphs_in_header3b.docx": "extract.partial: an embedded object could not be read",
    "docx/test06.docx": "the comments property has content (a comment with content is worth a look)",
    "docx/has_pict.docx": "both headers carry the restriction label 'For internal use only' (a company's document): "
                          "marking.internal, like 内部资料 in a header",
}


@pytest.mark.skipif(not ROWS, reason="shared docx fixtures not present")
def test_clean_real_word_files_pass():
    from scanner import get_scanner
    scanner = get_scanner()
    clean = [row for row in ROWS if not set(row["label"]) & HELD_CONTENT]
    held = {}
    for row in clean:
        report = scanner.scan_file(BASE / row["file"])
        if report.decision != "pass":
            held[row["file"]] = sorted({f.category for f in report.findings if f.needs_verdict}
                                       | {e.code for e in report.errors})
    assert len(clean) >= 50
    unexplained = {f: why for f, why in held.items() if f not in HELD_FOR_A_REASON}
    assert not unexplained, unexplained
    share = 1 - len(held) / len(clean)
    assert share >= 0.9, share
    # a listed file that passes now: take it off the list so the list stays true
    assert set(held) == set(HELD_FOR_A_REASON), sorted(set(HELD_FOR_A_REASON) - set(held))

