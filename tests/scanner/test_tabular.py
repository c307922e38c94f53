"""Tables of private records (scanner/detectors/tabular.py, lexicons/tabular.toml): every example of
the lexicon through `find`, and real files built here (an openpyxl workbook, a python-docx table)
through the light scanner: a pay sheet, a customer ledger and a quotation comparison go to review
with a finding over the header cell; templates, statistics, price lists and published results pass."""
from __future__ import annotations

import io

import pytest

from scanner.detectors.tabular import RULE_FILE, TabularRules, find, table_from_rows
from scanner.rules import default_lexicon_dir

RULES = TabularRules.load(default_lexicon_dir() / RULE_FILE)
KINDS = {k["name"]: k for k in RULES.raw["kind"]}
FOUND = [(n, t) for n, k in KINDS.items() for t in k["found"]]
NOT_FOUND = [(n, t) for n, k in KINDS.items() for t in k["not_found"]]
NOT_FOUND_IN = [(n, e["text"], e["table"]) for n, k in KINDS.items() for e in k.get("not_found_in", [])]


@pytest.mark.parametrize(("kind", "rows"), FOUND, ids=str)
def test_found_examples(kind, rows):
    hit = find(RULES, table_from_rows(rows))
    assert hit is not None and hit.kind.name == kind
    assert hit.records == len({r[hit.party_col] for r in rows[hit.header + 1:]})


@pytest.mark.parametrize(("kind", "rows"), NOT_FOUND, ids=str)
def test_not_found_examples(kind, rows):
    assert find(RULES, table_from_rows(rows)) is None


@pytest.mark.parametrize(("kind", "text", "rows"), NOT_FOUND_IN, ids=str)
def test_published_results_are_not_found(kind, text, rows):
    assert find(RULES, table_from_rows(rows)) is not None         # the same table alone is found
    assert find(RULES, table_from_rows(rows), text) is None


def _xlsx(rows, title=None) -> bytes:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    if title:
        ws.append([title])
    for r in rows:
        ws.append([float(c) if c.replace(".", "", 1).isdigit() and len(c) < 9 else c for c in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _docx(rows, title=None) -> bytes:
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph(title or "附表")
    t = d.add_table(rows=len(rows), cols=len(rows[0]))
    for i, r in enumerate(rows):
        for j, c in enumerate(r):
            t.cell(i, j).text = c
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _tabular(rep):
    return [f for f in rep.findings if f.rule_id.startswith("tabular.")]


@pytest.mark.parametrize("make", [_xlsx, _docx], ids=["xlsx", "docx"])
@pytest.mark.parametrize(("kind", "rows"), FOUND, ids=str)
def test_real_files_with_records_go_to_review(light, make, kind, rows):
    ext = ".xlsx" if make is _xlsx else ".docx"
    rep = light.scan_bytes(make(rows, "2026年3月明细"), "t" + ext)
    found = _tabular(rep)
    assert len(found) == 1, [(f.rule_id, f.text) for f in rep.findings]
    f = found[0]
    assert f.rule_id == f"tabular.{kind}" and f.severity == "medium"
    assert rep.decision == "review"
    hit = find(RULES, table_from_rows(rows))
    assert f.text == rows[hit.header][hit.party_col]           # the offsets cover the party column's header cell
    assert f"{hit.records}行" in f.explanation and rows[hit.header][hit.party_col] in f.explanation


@pytest.mark.parametrize("make", [_xlsx, _docx], ids=["xlsx", "docx"])
@pytest.mark.parametrize(("kind", "rows"), NOT_FOUND, ids=str)
def test_real_files_without_records_have_no_table_finding(light, make, kind, rows):
    ext = ".xlsx" if make is _xlsx else ".docx"
    rep = light.scan_bytes(make(rows), "t" + ext)
    assert not _tabular(rep)


@pytest.mark.parametrize("make", [_xlsx, _docx], ids=["xlsx", "docx"])
@pytest.mark.parametrize(("kind", "text", "rows"), NOT_FOUND_IN, ids=str)
def test_real_published_results_have_no_table_finding(light, make, kind, text, rows):
    ext = ".xlsx" if make is _xlsx else ".docx"
    assert _tabular(light.scan_bytes(make(rows, "采购项目报价"), "t" + ext))
    assert not _tabular(light.scan_bytes(make(rows, text), "t" + ext))



# a quotation comparison of a negotiation round as a picture (a screenshot pasted into a draft):
# OCR reads each cell as a line with its box; the detector rebuilds rows and columns from the boxes
QUOTE_ROWS = [["序号", "供应商", "数量", "单价（元）", "总价（元）"],
              ["1", "极限思维", "73600", "12.33", "907488"],
              ["2", "予同文化", "73600", "11.95", "879520"],
              ["3", "盛世炜烨", "73600", "12.52", "921472"]]
QUOTE_WIDTHS = [110, 260, 170, 210, 210]


def test_a_picture_of_suppliers_quotations_goes_to_review(full):
    from support.pictures import encode, table_picture
    img = table_picture(QUOTE_ROWS, QUOTE_WIDTHS, title="第一轮报价（限价12.55元/条）")
    rep = full.scan_bytes(encode(img), "报价表.png")
    found = _tabular(rep)
    assert [f.rule_id for f in found] == ["tabular.quotations"], [(f.rule_id, f.text) for f in rep.findings]
    f = found[0]
    assert f.layer == "ocr" and f.text == "供应商"          # over the party column's header box
    assert "3行具名记录" in f.explanation
    assert rep.decision == "review"


def test_a_picture_of_a_published_result_or_a_price_list_passes(full):
    from support.pictures import encode, table_picture
    published = full.scan_bytes(encode(table_picture(QUOTE_ROWS, QUOTE_WIDTHS, title="成交结果公告")), "结果.png")
    assert _tabular(published) == []
    prices = [["序号", "商品名称", "规格", "单价（元）", "库存"], ["1", "打印纸", "70g", "25.00", "120"],
              ["2", "签字笔", "0.5mm", "2.00", "800"], ["3", "文件夹", "A4", "6.50", "300"]]
    rep = full.scan_bytes(encode(table_picture(prices, QUOTE_WIDTHS)), "价目表.png")
    assert _tabular(rep) == [] and rep.decision == "pass", [(f.rule_id, f.text) for f in rep.findings]


def test_a_lexicon_directory_without_the_rules_file_is_a_configuration_error(tmp_path):
    """The detector is always on: without lexicons/tabular.toml the scanner refuses to start (a
    silent None would pass every pay sheet) and the error names the missing file."""
    import shutil

    from scanner.engine import Scanner
    from scanner.errors import ConfigError

    lex = tmp_path / "lexicons"
    shutil.copytree(default_lexicon_dir(), lex)
    (lex / RULE_FILE).unlink()
    with pytest.raises(ConfigError) as exc:
        Scanner(lexicon_dir=lex, light=True)
    assert exc.value.file == RULE_FILE and str(lex / RULE_FILE) in str(exc.value)
    shutil.copy(default_lexicon_dir() / RULE_FILE, lex / RULE_FILE)      # with it back, the scanner starts
    assert "tabular" in [d.name for d in Scanner(lexicon_dir=lex, light=True).detectors]
