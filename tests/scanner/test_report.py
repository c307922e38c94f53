"""Report writers (one per format, one registry) and the one location/highlight helper."""
from __future__ import annotations

import io
import json

import pytest

from scanner import get_scanner
from scanner.report import WRITERS, open_writer, write
from scanner.report.locate import highlight_html, location_zh, pieces


@pytest.fixture(scope="module")
def reports():
    sc = get_scanner(light=True)
    return [sc.scan_text("机密★10年\n联系电话13912345678，请回电。\n", source="a.txt"),
            sc.scan_text("体育新闻\n主队两球逆转取胜。\n", source="b.txt")]


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_every_writer_writes_one_and_many(reports, fmt):
    for batch in (reports[:1], reports):
        buf = io.StringIO()
        write(batch, fmt, buf)
        out = buf.getvalue()
        assert "a.txt" in out
        if fmt == "jsonl":
            assert [json.loads(x)["source"] for x in out.splitlines()] == [r.source for r in batch]
        elif fmt in ("json", "sarif"):
            json.loads(out)
        elif fmt == "html":
            assert out.startswith("<!DOCTYPE html>") and out.count("<section>") == len(batch)
        else:
            assert "禁止发布" in out and ("共 2 个文件" in out) == (len(batch) == 2)


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        open_writer("xml", io.StringIO())


def test_labels_come_from_the_vocabulary(reports):
    buf = io.StringIO()
    write(reports, "text", buf)
    assert "国家秘密标志（marking.level）" in buf.getvalue() and "电话号码（pii.phone）" in buf.getvalue()
    buf = io.StringIO()
    write(reports, "sarif", buf)
    rules = json.loads(buf.getvalue())["runs"][0]["tool"]["driver"]["rules"]
    assert {r["shortDescription"]["text"] for r in rules} >= {"国家秘密标志", "电话号码"}


def test_location_in_words():
    loc = {"member": "a.docx", "page": 2, "paragraph": 0}
    assert location_zh(loc, "body") == "附件 a.docx，第2页，第1段"
    assert location_zh(loc, "body", with_layer=True) == "正文，附件 a.docx，第2页，第1段"
    assert location_zh({}, "comment") == "批注"
    assert location_zh({"paragraph": 3, "kind": "deleted", "author": "张三"}, "revision") == "第4段，删除，作者 张三"
    assert location_zh({"table": "x", "row": None}, "table") == "表1 第1行第1列"     # stored junk never raises
    assert location_zh("not a dict", "body") == "正文"


def test_overlapping_findings_split_not_dropped():
    f1 = {"start": 0, "end": 6, "category": "pii.phone", "severity": "medium", "explanation": "a"}
    f2 = {"start": 3, "end": 9, "category": "marking.level", "severity": "critical", "explanation": "b"}
    ps = pieces("0123456789", [f1, f2])
    assert [(p.start, p.end, len(p.cover)) for p in ps] == [(0, 3, 1), (3, 6, 2), (6, 9, 1), (9, 10, 0)]
    out = highlight_html("012<45678>", [f1, f2])
    assert out.count("<mark") == 3 and "&lt;" in out and "<4" not in out
    assert '<mark class="c-marking multi"' in out          # the more severe colours the overlap
    assert highlight_html("abc", [{"start": 2, "end": 9, "category": "pii.phone"}]) == "abc"   # invalid span


def test_finding_evolve_is_dataclasses_replace():
    """Finding.evolve (the per-finding copies of every scan) gives what dataclasses.replace gives,
    leaves the original as it was, and refuses a field Finding does not have."""
    import dataclasses

    from scanner.model import Finding
    f = Finding("pii", "pii.mobile.v1", 3, 14, "13800138000", location={"line": 2}, evidence=["rule"],
                allowlisted=None)
    for changes in ({"needs_verdict": True}, {"fingerprint": "ab" * 32, "group": "gabababababab"},
                    {"severity": "high", "confidence": 0.95, "evidence": ["rule", "harm:x"]}):
        got, want = f.evolve(**changes), dataclasses.replace(f, **changes)
        assert got == want and type(got) is Finding
        assert dataclasses.asdict(got) == dataclasses.asdict(want)
        assert got is not f and f.needs_verdict is False and f.fingerprint == "" and f.severity == "medium"
    with pytest.raises(TypeError):
        f.evolve(nonsense=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.evolve(needs_verdict=True).severity = "low"      # still frozen
