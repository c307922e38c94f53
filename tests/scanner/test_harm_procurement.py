"""Published tender and procurement documents (lexicons/harm.toml [procurement], harm step 3b):
every example through the real scanner, each checked against the same text outside a tender where
that makes the test fail without the step."""
from __future__ import annotations

import tomllib

import pytest

from scanner.harmrules import PERSONAL
from scanner.model import Document
from scanner.rules import default_lexicon_dir
from scanner.taxonomy import SEVERITY_RANK

P = tomllib.loads((default_lexicon_dir() / "harm.toml").read_text(encoding="utf-8"))["procurement"]
HEADING = P["example_heading"]
CONTACT = ("pii.phone", "pii.email")
CLAUSE = tuple(P["clause_categories"])


def lines_doc(text: str, heading: bool = True) -> Document:
    doc = Document(source="x", sha256="0", media_type="application/pdf")
    for line in ((HEADING + "\n") if heading else "").split("\n")[:-1] + text.split("\n"):
        doc.add("body", line)
    return doc


def table_doc(rows: list[list[str]], heading: bool = True) -> Document:
    doc = Document(source="x", sha256="0", media_type="application/vnd.openxmlformats")
    if heading:
        for line in HEADING.split("\n"):
            doc.add("body", line)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            doc.add("table", cell, table=0, row=r, col=c)
    return doc


def of(report, categories) -> list:
    return [f for f in report.findings if f.category.startswith(categories)]


def worst(findings) -> str | None:
    return max((f.severity for f in findings), key=SEVERITY_RANK.__getitem__) if findings else None


def deciding(report) -> list:
    return [(f.category, f.text, f.severity, f.evidence) for f in report.findings if f.severity not in ("low", "info")]


@pytest.mark.parametrize("text", P["contact_lowered"])
def test_role_cued_contact_in_a_tender_is_low(full, text):
    rep = full.scan_document(lines_doc(text))
    found = of(rep, CONTACT)
    assert found and all(f.severity == "low" for f in found), [(f.text, f.severity) for f in found]
    assert any("harm:procurement" in f.evidence for f in found)
    assert rep.decision == "pass", deciding(rep)


@pytest.mark.parametrize("rows", P["contact_table_lowered"], ids=str)
def test_contact_split_across_table_cells_is_low(full, rows):
    rep = full.scan_document(table_doc(rows))
    found = of(rep, CONTACT)
    assert found and all(f.severity == "low" for f in found), [(f.text, f.severity) for f in found]
    assert rep.decision == "pass", deciding(rep)


@pytest.mark.parametrize("text", P["contact_kept"])
def test_private_data_in_a_tender_still_decides(full, text):
    rep = full.scan_document(lines_doc(text))
    assert worst(of(rep, CONTACT)) in ("medium", "high") and rep.decision == "review"


@pytest.mark.parametrize("rows", P["contact_table_kept"], ids=str)
def test_a_table_of_persons_in_a_tender_still_decides(full, rows):
    rep = full.scan_document(table_doc(rows))
    assert worst(of(rep, CONTACT)) in ("medium", "high") and rep.decision == "review"


@pytest.mark.parametrize("text", P["not_procurement"])
def test_the_same_contact_outside_a_tender_keeps_its_severity(full, text):
    """Not vacuous: the very same lines after a tender's headings are low."""
    rep = full.scan_document(lines_doc(text, heading=False))
    assert worst(of(rep, CONTACT)) == "medium" and rep.decision == "review"
    assert worst(of(full.scan_document(lines_doc(text)), CONTACT)) == "low"


@pytest.mark.parametrize("value", P["mailto_lowered"])
def test_mailto_link_in_a_tenders_properties_is_low(light, value):
    assert "external_reference" in P["mailto_fields"]
    for heading, expected in ((True, "low"), (False, "medium")):
        doc = lines_doc("联系人：张伟", heading=heading)
        doc.add("metadata", value, field="external_reference", rel_type="hyperlink")
        assert worst(of(light.scan_document(doc), ("pii.email",))) == expected


def test_mailbox_of_a_tender_contact_is_low_wherever_it_stands(full):
    """same_mailbox_steps holds "procurement": the contact's mailbox far from any role cue is low too."""
    text = ("采购代理机构联系人：张伟\n邮箱：zhangwei1978@163.com\n第三章 评标办法\n一、评审原则\n二、评分标准\n"
            "三、价格分\n四、技术分\n投标文件的电子版请同时抄送 zhangwei1978@163.com")
    rep = full.scan_document(lines_doc(text))
    mails = of(rep, ("pii.email",))
    assert len(mails) == 2 and all(f.severity == "low" for f in mails), [(f.severity, f.evidence) for f in mails]
    assert any("harm:same_mailbox" in f.evidence for f in mails)


@pytest.mark.parametrize("text", P["account_lowered"])
def test_organisations_bid_bond_account_is_low(light, text):
    rep = light.scan_document(lines_doc(text))
    found = of(rep, tuple(P["account_categories"]))
    assert found and all(f.severity == "low" for f in found), [(f.text, f.severity) for f in found]
    assert any("harm:procurement_account" in f.evidence for f in found)
    assert rep.decision == "pass", deciding(rep)


@pytest.mark.parametrize("text", P["account_kept"])
def test_a_persons_account_in_a_tender_still_decides(light, text):
    rep = light.scan_document(lines_doc(text))
    assert worst(of(rep, tuple(P["account_categories"]))) in ("medium", "high") and rep.decision == "review"


@pytest.mark.parametrize("text", P["clause_lowered"])
def test_confidentiality_clause_binding_supplier_or_evaluators_does_not_decide(full, text):
    rep = full.scan_document(lines_doc(text))
    found = of(rep, CLAUSE)
    assert all(f.severity in ("low", "info") for f in found), [(f.category, f.severity) for f in found]
    assert rep.decision == "pass", deciding(rep)


@pytest.mark.parametrize("text", P["clause_lowered"])
def test_the_clause_is_a_finding_before_the_step(full, text):
    """Not vacuous: outside a tender each clause example is a deciding finding of clause_categories."""
    rep = full.scan_document(lines_doc(text, heading=False))
    assert worst(of(rep, CLAUSE)) in ("medium", "high"), [(f.category, f.severity) for f in rep.findings]


@pytest.mark.parametrize("text", P["clause_kept"])
def test_a_draft_restricting_itself_still_decides(full, text):
    rep = full.scan_document(lines_doc(text))
    assert worst(of(rep, CLAUSE)) in ("medium", "high") and rep.decision == "review", deciding(rep)


def test_a_travel_record_raises_a_name_beside_it(inventory):
    """harmrules.PERSONAL holds the travel record: a passenger's name beside the e-ticket number is
    medium (a name beside a number that is not personal data stays low)."""
    assert "pii.travel_record" in PERSONAL
    rep = inventory.scan_text("航空运输电子客票行程单 旅客姓名 李秀英 航班号 CA1234 电子客票号码 999-2345678901")
    assert any(f.category == "pii.travel_record" for f in rep.findings)
    names = [f for f in rep.findings if f.category == "pii.name" and f.text == "李秀英"]
    assert names and names[0].severity == "medium", [(f.category, f.text, f.severity) for f in rep.findings]


@pytest.mark.parametrize("text", P["purchaser_lowered"])
def test_a_units_number_as_the_tenders_purchaser_is_low(light, text):
    rep = light.scan_document(lines_doc(text))
    found = of(rep, tuple(P["purchaser_categories"]))
    assert found and all("harm:procurement_purchaser" in f.evidence and f.severity == "low" for f in found), \
        [(f.text, f.severity, f.evidence) for f in found]
    assert rep.decision == "pass", deciding(rep)
    # not vacuous: outside a tender the number decides
    assert light.scan_document(lines_doc(text, heading=False)).decision == "review"


@pytest.mark.parametrize("text", P["purchaser_kept"])
def test_a_units_number_elsewhere_in_a_tender_still_decides(light, text):
    rep = light.scan_document(lines_doc(text))
    assert worst(of(rep, tuple(P["purchaser_categories"]))) == "medium" and rep.decision == "review", deciding(rep)
