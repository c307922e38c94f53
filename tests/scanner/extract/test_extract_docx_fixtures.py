"""../shared/data/docx-fixtures: revisions, comments, hidden runs and metadata persons per file.

docx_fixtures.jsonl counts XML *elements* (every <w:ins>, <w:del>, <w:vanish>), including ones
that carry no text: paragraph-mark and property revisions (<w:ins> inside <w:rPr>), vanished
page-number fields and empty runs. The scanner reports text, so a text-less element cannot be a
finding. This test therefore checks, for every file:
  1. the scanner's counts equal an independent regex count of the text-carrying elements, and
  2. where that differs from the fixture's element count, the difference is exactly the number of
     text-less elements — the files and reasons are listed in DIFFERING below and asserted.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from scanner.detectors.hidden import DEFAULT_VALUES
from scanner.extract import extract

BASE = Path(__file__).resolve().parents[4] / "shared" / "data" / "docx-fixtures"
ROWS = [json.loads(line) for line in (BASE / "docx_fixtures.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()] if (BASE / "docx_fixtures.jsonl").exists() else []

# file -> why the scanner's count differs from the fixture's element count (all: text-less elements)
DIFFERING = {
    "docx/bad-xml.docx": "one <w:ins> marks an inserted paragraph mark (inside w:rPr), no text",
    "docx/test01.docx": "one <w:ins> marks an inserted paragraph mark (inside w:rPr), no text",
    "docx/test14.docx": "one <w:ins> marks an inserted paragraph mark (inside w:rPr), no text",
    "docx/bigfile-01.docx": "paragraph-mark insertions/deletions and revisions of empty runs carry no text",
    "docx/test07.docx": "all 117 <w:vanish> hide page-number fields (w:pgNum), paragraph marks or empty runs",
}
# fixture persons that the scanner cannot read because the package is not a readable document
UNREADABLE = {}

_T = re.compile(r"<w:(?:t|delText)(?:\s[^>]*)?>([^<]*)</w:(?:t|delText)>")


def _text_carrying(xml: str, tag: str) -> tuple[int, int]:
    """(all elements, elements with non-blank text) of a revision tag, by regex on the raw XML."""
    total = len(re.findall(rf"<w:{tag}\b", xml))
    with_text = 0
    for m in re.finditer(rf"<w:{tag}\b[^>]*?(/?)>", xml):
        if m.group(1) == "/":
            continue
        end = xml.find(f"</w:{tag}>", m.end())
        if end >= 0 and any(t.strip() for t in _T.findall(xml[m.end():end])):
            with_text += 1
    return total, with_text


def _vanish_with_text(xml: str) -> tuple[int, int]:
    """(<w:vanish> elements, paragraphs having a vanished run with text) by regex."""
    total = len(re.findall(r"<w:vanish\b(?![^>]*w:val=\"(?:0|false)\")", xml))
    paras = 0
    for p in re.findall(r"<w:p\b.*?</w:p>", xml, re.S):
        runs = re.findall(r"<w:r\b[^>]*>(.*?)</w:r>", p, re.S)
        if any("<w:vanish" in r.split("</w:rPr>")[0] and any(t.strip() for t in _T.findall(r)) for r in runs):
            paras += 1
    return total, paras


def _story_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        parts = [n for n in names if re.fullmatch(r"word/(document\d*|header\d+|footer\d+|footnotes|endnotes)\.xml", n)]
        return "".join(zf.read(n).decode("utf-8", "replace") for n in parts)


@pytest.mark.skipif(not ROWS, reason="shared docx fixtures not present")
def test_docx_fixture_counts():
    mismatches = []
    for row in ROWS:
        path = BASE / row["file"]
        doc = extract(path)
        kinds = [s.locator.get("kind") for s in doc.segments if s.layer == "revision"]
        got = {
            "ins": kinds.count("inserted") + kinds.count("moved_to"),
            "del": kinds.count("deleted") + kinds.count("moved_from"),
            "comments": sum(1 for s in doc.segments if s.layer == "comment"),
            "vanish": len({(s.locator.get("part"), s.locator.get("paragraph")) for s in doc.segments
                           if s.layer == "hidden" and s.locator.get("kind") == "vanish"}),
        }
        xml = _story_xml(path)
        ins_all, ins_text = _text_carrying(xml, "ins")
        del_all, del_text = _text_carrying(xml, "del")
        van_all, van_paras = _vanish_with_text(xml)
        # 1. the scanner reports every text-carrying element (independent count)
        assert got["ins"] == ins_text, (row["file"], got, ins_text)
        assert got["del"] == del_text, (row["file"], got, del_text)
        assert got["vanish"] == van_paras, (row["file"], got, van_paras)
        assert got["comments"] == row["comments"], (row["file"], got)
        # 2. differences from the fixture are exactly the text-less elements, and are listed
        assert ins_all == row["ins"] and del_all == row["del"] and van_all == row["vanish"], row["file"]
        differs = (got["ins"], got["del"]) != (row["ins"], row["del"]) or (got["vanish"] > 0) != (row["vanish"] > 0)
        if differs:
            mismatches.append(row["file"])
        # persons in the core properties are reported as metadata
        meta = {s.locator["field"]: s.text for s in doc.segments if s.layer == "metadata"}
        for key, field in (("creator", "author"), ("lastModifiedBy", "lastModifiedBy")):
            want = (row.get("core") or {}).get(key) or ""
            if want.strip():
                assert meta.get(field, "").strip() == want.strip(), (row["file"], field)
        # a fixture with nothing a reader sees (only form-field codes and properties) has no text
        # (metadata never counts as document text): extract.no_text, and nothing else
        from scanner.extract import has_text
        allowed = ("extract.partial",) if has_text(doc) else ("extract.partial", "extract.no_text")
        assert not [e for e in doc.errors if e.code not in allowed], (row["file"], doc.errors)
    assert sorted(mismatches) == sorted(DIFFERING), mismatches


@pytest.mark.skipif(not ROWS, reason="shared docx fixtures not present")
def test_docx_fixture_hidden_findings():
    """Files with text-carrying revisions/comments/hidden runs get the matching hidden.* finding."""
    from scanner import get_scanner
    scanner = get_scanner(light=True)
    for row in ROWS:
        report = scanner.scan_file(BASE / row["file"])
        cats = {f.category for f in report.findings}
        doc_segments = report.segments
        if any(s.layer == "revision" for s in doc_segments):
            assert "hidden.revision" in cats, row["file"]
        if any(s.layer == "comment" for s in doc_segments):
            assert "hidden.comment" in cats, row["file"]
        creator = ((row.get("core") or {}).get("creator") or "").strip()
        if creator.lower() not in DEFAULT_VALUES and len(creator) >= 2:
            assert "hidden.metadata" in cats, (row["file"], creator)
        assert report.decision != "pass" or not cats & {"hidden.revision", "hidden.comment"}
