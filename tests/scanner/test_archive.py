"""档案保密审查 (scanner/archive): the examples of lexicons/archive.toml, and `baomi archive scan` on a
sample archive of real files (docx, pdf, an image of a marked page read by OCR, txt) with a catalogue,
read back from the register xlsx: suggestions, 保密期限 run out or not, 开放审核 candidates, catalogue
links, resume, ZIP input with a CSV catalogue, fail closed on an unreadable file."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scanner.archive import Catalog, load_rules
from scanner.archive.register import COLUMNS
from scanner.config import ScanConfig
from support.archive_samples import AS_OF, EXPECTED, catalog_csv, catalog_xlsx, make_dir, zip_bytes

ROOT = Path(__file__).resolve().parents[2]
BAOMI = [sys.executable, "-m", "scanner.cli"]
RULES = load_rules(ScanConfig.from_env().lexicons)


def baomi(*args):
    return subprocess.run(BAOMI + [str(a) for a in args], capture_output=True, cwd=ROOT, timeout=600)


def register(path: Path) -> tuple[dict[str, dict], dict[str, object], list]:
    wb = load_workbook(path, read_only=True)
    rows = list(wb["登记表"].iter_rows(values_only=True))
    assert tuple(rows[0]) == COLUMNS
    items = {r[3]: dict(zip(COLUMNS, r)) for r in rows[1:]}
    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True) if r[0]}
    unmatched = list(wb["目录未匹配"].iter_rows(values_only=True))[1:]
    return items, summary, unmatched


# -- the data file's own examples ----------------------------------------------------------------

@pytest.mark.parametrize("ex", RULES.examples["marks"], ids=lambda e: e["text"])
def test_mark_examples(ex):
    p = RULES.parse_mark(ex["text"])
    assert p is not None and p.level == ex["level"] and p.kind == ex["kind"]
    if "months" in ex:
        assert p.months == ex["months"]
    if "until" in ex:
        assert p.until == dt.date.fromisoformat(ex["until"])


@pytest.mark.parametrize("ex", RULES.examples["expiry"], ids=lambda e: e["mark"])
def test_expiry_examples(ex):
    from scanner.archive import assess
    rec = {"decision": "block", "findings": [{"category": "marking.level", "severity": "critical", "text": ex["mark"]}],
           "archive": {"text_date": ex["date"], "date_source": "正文落款日期"}}
    a = assess(RULES, rec, dt.date.fromisoformat(ex["as_of"]))
    assert a.level and a.doc_date == ex["date"]
    if "expired" not in ex:
        assert a.expiry in ("long", "check") and not a.expires
    else:
        assert (a.expiry == "expired") is ex["expired"] and a.expires == ex["until"]
        assert a.attribute == ("secret_expired" if ex["expired"] else "secret")


@pytest.mark.parametrize("ex", RULES.examples["dates"], ids=lambda e: e["text"][:12])
def test_date_examples(ex):
    d, how = RULES.find_date(ex["text"])
    assert (d.isoformat() if d else None) == ex.get("date")
    assert bool(how) is ("date" in ex)


def test_statutory_defaults_and_opening_age():
    assert RULES.default_years == {"绝密": 30, "机密": 20, "秘密": 10}
    assert RULES.opening_age_years == 25
    # the levels come from the marking rules, not a second list
    from scanner.rules import Ruleset
    assert set(RULES.levels) == set(Ruleset.load(ScanConfig.from_env().lexicons).marking.marking.levels)


def test_pii_is_private_and_errors_fail_closed():
    from scanner.archive import assess
    a = assess(RULES, {"decision": "review", "findings": [{"category": "pii.id_card", "severity": "high", "text": "x"}]},
               AS_OF)
    assert (a.attribute, a.access, a.reasons) == ("non_secret", "控制使用", ["个人隐私"])
    b = assess(RULES, {"decision": "review", "findings": [], "errors": [{"code": "extract.corrupt"}]}, AS_OF)
    assert (b.attribute, b.access) == ("unknown", "控制使用")
    c = assess(RULES, {"decision": "pass", "findings": []}, AS_OF)
    assert (c.attribute, c.access, c.opening_review) == ("non_secret", "开放", False)


def test_catalogue_matching(tmp_path):
    cat = Catalog.load(catalog_xlsx(tmp_path / "目录.xlsx"))
    assert len(cat.entries) == 7 and cat.entries[0].get("档号") == "WS-2015-001"
    assert cat.match("/a/WS-2015-001.docx")[1] == "dh"
    assert cat.match("/a/扫描件-WS-2020-002-第1页.pdf")[0].get("档号") == "WS-2020-002"
    assert cat.match("/a/关于开展植树活动的通知.txt")[1] == "title_name"
    e, how = cat.match("/a/x.docx", "秘密\n二〇一〇年第一次办公会议纪要\n会议研究了……")
    assert how == "title_text" and e.get("档号") == "WS-2010-006"
    assert cat.match("/a/unrelated.txt", "别的内容") == (None, "")
    assert Catalog.load(catalog_csv(tmp_path / "目录.csv")).entries[5].get("形成日期") == "2010-01-15"


# -- the command on real files --------------------------------------------------------------------

def check_register(items: dict[str, dict], expected=EXPECTED) -> None:
    assert set(items) == set(expected)
    for name, (attr, access, expiry, opening) in expected.items():
        row = items[name]
        assert (row["建议保密属性"] or "").startswith(attr), (name, row)
        assert row["开放建议"] == access, (name, row)
        assert (row["到期情况"] or "").startswith(expiry), (name, row)
        assert (row["开放审核候选"] or "") == opening, (name, row)
        assert row["档号"], (name, "not linked to the catalogue")


@pytest.mark.slow          # real OCR of the picture and the models (full mode)
def test_cli_register_with_catalogue_and_resume(tmp_path):
    make_dir(tmp_path / "档案")
    catalog_xlsx(tmp_path / "目录.xlsx")
    out = tmp_path / "result.xlsx"
    proc = baomi("archive", "scan", tmp_path / "档案", "--catalog", tmp_path / "目录.xlsx", "-o", out,
                 "--as-of", AS_OF.isoformat(), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    items, summary, unmatched = register(out)
    check_register(items)
    r1 = items["WS-2015-001.docx"]
    assert (r1["密级"], r1["保密期限"], r1["成文日期"], r1["保密期限届满日"]) == ("秘密", "5年", "2015-03-01", "2020-03-01")
    assert "自行解密候选" in r1["理由"] and r1["目录匹配"] == "档号与文件名一致"
    r2 = items["WS-2020-002.pdf"]
    assert (r2["密级"], r2["保密期限届满日"], r2["理由"].split("：")[0]) == ("机密", "2040-05-01", "国家秘密")
    r4 = items["WS-2021-004.png"]            # read by OCR from the picture of the page
    assert (r4["密级"], r4["保密期限"]) == ("绝密", "长期")
    r6 = items["会议纪要.docx"]
    assert r6["档号"] == "WS-2010-006" and r6["目录匹配"] == "题名见于正文"
    assert r6["保密期限"].startswith("未标明") and r6["保密期限届满日"] == "2020-01-15"
    assert "个人隐私" in items["WS-2022-005.txt"]["理由"]
    assert items["WS-1995-003.txt"]["形成日期"] == "1995-06-01"
    assert [u[1] for u in unmatched] == ["WS-2019-007"]
    assert summary["档案件数"] == 6 and summary["开放审核候选（形成满25年）"] == 1
    assert summary["密级：秘密"] == 2 and summary["审查基准日"] == AS_OF.isoformat()
    # resume: the second run scans nothing again and writes the same register
    proc = baomi("archive", "scan", tmp_path / "档案", "--catalog", tmp_path / "目录.xlsx", "-o", out,
                 "--as-of", AS_OF.isoformat())
    assert proc.returncode == 0
    items2, summary2, _ = register(out)
    assert summary2["续扫跳过"] == "6" and summary2["本次扫描文件数"] == "0"
    assert {k: v["建议保密属性"] for k, v in items2.items()} == {k: v["建议保密属性"] for k, v in items.items()}


def test_cli_zip_with_csv_catalogue_and_unreadable_item(tmp_path):
    import zipfile
    z = tmp_path / "档案.zip"
    z.write_bytes(zip_bytes())
    with zipfile.ZipFile(z, "a") as zf:
        zf.writestr("档案/WS-2019-007.pdf", b"%PDF-1.4\nnot really a pdf")
    catalog_csv(tmp_path / "目录.csv")
    out = tmp_path / "r.xlsx"
    proc = baomi("archive", "scan", z, "-c", tmp_path / "目录.csv", "-o", out, "--as-of", AS_OF.isoformat(),
                 "--light")
    assert proc.returncode == 3, proc.stderr.decode()[-3000:]      # an item could not be read: exit 3
    items, summary, unmatched = register(out)
    bad = items["档案/WS-2019-007.pdf"]
    assert (bad["建议保密属性"], bad["开放建议"], bad["档号"]) == ("待人工确定", "控制使用", "WS-2019-007")
    assert items["档案/WS-2015-001.docx"]["到期情况"].startswith("已到期")
    assert items["档案/WS-2021-004.png"]["建议保密属性"] == "待人工确定"     # light mode: no OCR, fail closed
    assert unmatched == []


def test_cli_usage_errors(tmp_path):
    assert baomi("archive", "scan", tmp_path / "missing", "-o", tmp_path / "o.xlsx").returncode == 64
    (tmp_path / "d").mkdir()
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    proc = baomi("archive", "scan", tmp_path / "d", "-c", bad, "-o", tmp_path / "o.xlsx")
    assert proc.returncode == 64 and "档号" in proc.stderr.decode()
