"""Severity follows harm (issue 16): every example in lexicons/harm.toml, through the real scanner,
plus the names report modes and the 70,000-character news draft."""
from __future__ import annotations

import json
import tomllib

import pytest

from scanner.engine import Scanner
from scanner.model import Document
from scanner.rules import default_lexicon_dir
from scanner.taxonomy import SEVERITY_RANK

HARM = tomllib.loads((default_lexicon_dir() / "harm.toml").read_text(encoding="utf-8"))


def lines_doc(text: str, layer: str = "body", **locator) -> Document:
    doc = Document(source="x", sha256="0", media_type="application/ofd")
    for line in text.split("\n"):
        doc.add(layer, line, **locator)
    return doc


def worst(report, prefix: str) -> str | None:
    sev = [f.severity for f in report.findings if f.category.startswith(prefix)]
    return max(sev, key=SEVERITY_RANK.__getitem__) if sev else None


@pytest.mark.parametrize("ex", HARM["metadata"]["lowered"], ids=str)
def test_plain_property_is_info_and_passes(light, ex):
    doc = lines_doc("关于举办读书月活动的通知")
    doc.add("metadata", ex["value"], field=ex["field"])
    rep = light.scan_document(doc)
    meta = [f for f in rep.findings if f.category == "hidden.metadata"]
    assert meta and all(f.severity == "info" for f in meta)
    assert rep.decision == "pass"


@pytest.mark.parametrize("ex", HARM["metadata"]["kept"], ids=str)
def test_property_whose_value_is_a_finding_still_decides(light, ex):
    doc = lines_doc("关于举办读书月活动的通知")
    doc.add("metadata", ex["value"], field=ex["field"])
    rep = light.scan_document(doc)
    assert rep.decision in ("review", "block")
    meta = [f for f in rep.findings if f.category == "hidden.metadata"]
    assert meta and meta[0].severity == "medium"


@pytest.mark.parametrize("addr", HARM["email"]["lowered"])
def test_institutional_mailbox_is_low(light, addr):
    rep = light.scan_text(f"联系邮箱：{addr}")
    assert worst(rep, "pii.email") == "low" and rep.decision == "pass"


@pytest.mark.parametrize("addr", HARM["email"]["kept"])
def test_private_mailbox_stays_medium(light, addr):
    rep = light.scan_text(f"联系邮箱：{addr}")
    assert worst(rep, "pii.email") == "medium" and rep.decision == "review"


@pytest.mark.parametrize("addr", HARM["email"]["placeholder_lowered"])
def test_placeholder_mailbox_is_low(light, addr):
    rep = light.scan_text(f"配置示例：发件人邮箱 {addr}")
    assert worst(rep, "pii.email") == "low" and rep.decision == "pass"
    assert any("harm:placeholder_email" in f.evidence for f in rep.findings if f.category == "pii.email")


@pytest.mark.parametrize("addr", HARM["email"]["placeholder_kept"])
def test_a_real_looking_mailbox_is_no_placeholder(light, addr):
    rep = light.scan_text(f"配置示例：发件人邮箱 {addr}")
    assert worst(rep, "pii.email") == "medium" and rep.decision == "review"


@pytest.mark.parametrize("field,value", [("author", "sayi90@163.com"),
                                         ("creator", "数科网维虚拟打印机(chenyj@suwell.cn)")])
def test_author_or_tool_mailbox_in_properties_is_low(light, field, value):
    assert field in HARM["email"]["metadata_person_fields"]
    doc = lines_doc("模板")
    doc.add("metadata", value, field=field)
    rep = light.scan_document(doc)
    assert worst(rep, "pii.email") == "low" and rep.decision == "pass"


@pytest.mark.parametrize("text", HARM["organisation"]["lowered"])
def test_organisation_contact_line_is_low(full, text):
    rep = full.scan_document(lines_doc(text))
    assert rep.decision == "pass", [(f.category, f.text, f.severity) for f in rep.findings]
    assert all(f.severity in ("low", "info") for f in rep.findings if f.category.startswith("pii."))


@pytest.mark.parametrize("text", HARM["organisation"]["kept"])
def test_residence_next_to_an_organisation_still_decides(full, text):
    rep = full.scan_document(lines_doc(text))
    assert rep.decision == "review"
    assert any(worst(rep, c) in ("medium", "high") for c in ("pii.address", "pii.phone", "pii.email"))


@pytest.mark.parametrize(("code", "is_code"), [(c, True) for c in HARM["organisation"]["uscc_codes"]]
                         + [(c, False) for c in HARM["organisation"]["uscc_not_codes"]])
def test_a_resident_id_number_is_not_an_organisations_code(code, is_code):
    from scanner.harm import is_uscc
    from scanner.harmrules import HarmRules
    rules = HarmRules.load(default_lexicon_dir() / "harm.toml")
    assert rules.uscc.fullmatch(code)                 # the pattern alone takes every one of them
    assert is_uscc(rules, code) is is_code


@pytest.mark.parametrize("text", HARM["address"]["lowered"])
def test_case_numbers_and_masked_addresses_are_not_addresses(full, text):
    rep = full.scan_text(f"本案经审理，{text}，现已生效。")
    assert [f.text for f in rep.findings if f.category == "pii.address"] == []


@pytest.mark.parametrize("text", HARM["address"]["kept"])
def test_a_home_address_is_still_one(full, text):
    rep = full.scan_text(text)
    assert worst(rep, "pii.address") == "medium"


@pytest.mark.parametrize("text", HARM["names"]["relevant_texts"])
def test_name_in_personnel_context_is_reported(full, text):
    names = [f for f in full.scan_text(text).findings if f.category == "pii.name"]
    assert names and names[0].text == "王建国"


@pytest.mark.parametrize("text", HARM["names"]["irrelevant_texts"])
def test_name_that_does_not_matter_is_not_reported_by_default(full, inventory, text):
    assert [f for f in full.scan_text(text).findings if f.category == "pii.name"] == []
    # not vacuous: the tagger does find a name there (a full inventory keeps it)
    assert [f for f in inventory.scan_text(text).findings if f.category == "pii.name"]


def test_group_words_count_only_where_they_label_the_name(full):
    """学生, 职工, 居民 ... anywhere in a line are news words; right before the name they label it."""
    def names(text):
        return [f.text for f in full.scan_text(text).findings if f.category == "pii.name"]
    assert names("学生王建国参加了比赛。") == ["王建国"]
    assert names("王建国参加了学生的比赛。") == []
    assert names("居民：王建国、李秀英") == ["王建国", "李秀英"]
    assert names("居民李秀英说，王建国书记常来社区。") == ["李秀英"]      # only the one labelled


def test_names_report_all_keeps_an_inventory():
    inv = Scanner(names_report="all")
    names = [f for f in inv.scan_text("国务院总理李强主持召开常务会议").findings if f.category == "pii.name"]
    assert [f.text for f in names] == ["李强"] and names[0].severity == "low"
    with pytest.raises(ValueError):
        Scanner(light=True, names_report="everything")


def test_form_words_are_never_names():
    inv = Scanner(names_report="all")
    for word in HARM["names"]["not_names"]:
        doc = lines_doc(f"{word}：")
        assert [f.text for f in inv.scan_document(doc).findings if f.category == "pii.name"
                and f.text == word] == []


def test_name_in_a_table_with_a_name_column(full):
    doc = Document(source="t", sha256="0", media_type="application/vnd.openxmlformats")
    doc.add("table", "姓名", table=0, row=0, col=0)
    doc.add("table", "职务", table=0, row=0, col=1)
    doc.add("table", "王建国", table=0, row=1, col=0)
    doc.add("table", "科员", table=0, row=1, col=1)
    names = [f.text for f in full.scan_document(doc).findings if f.category == "pii.name"]
    assert names == ["王建国"]


@pytest.mark.parametrize("text", HARM["hidden"]["lowered"])
def test_banners_and_templates_in_comments_do_not_decide(light, text):
    doc = lines_doc("正文")
    doc.add("comment", text, kind="html-comment" if "<!--" in text or "Inkscape" in text else "comment")
    rep = light.scan_document(doc)
    assert rep.decision == "pass", [(f.category, f.severity) for f in rep.findings]


@pytest.mark.parametrize("text", HARM["hidden"]["kept"])
def test_a_real_comment_still_decides(light, text):
    doc = lines_doc("正文")
    doc.add("comment", text, kind="comment")
    assert light.scan_document(doc).decision == "review"


def test_trivial_box_is_low_but_a_covered_id_is_not(light):
    doc = lines_doc("电子客票行程单")
    doc.add("redaction", "49", page=1, kind="covered")
    assert light.scan_document(doc).decision == "pass"
    doc.add("redaction", "1234", page=1, kind="covered")
    assert light.scan_document(doc).decision == "review"


@pytest.mark.parametrize("text", HARM["copy_terms"]["lowered"])
def test_copy_line_of_a_standard_is_low(light, text):
    assert light.scan_document(lines_doc(text)).decision == "pass"


@pytest.mark.parametrize("text", HARM["copy_terms"]["kept"])
def test_copy_restriction_with_other_restrictions_still_decides(light, text):
    assert light.scan_document(lines_doc(text)).decision == "review"


def news_text(shared_dir, n_chars: int = 70_000) -> str:
    parts, total = [], 0
    with (shared_dir / "data" / "news" / "peoplesdaily_dev.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            t = json.loads(line)["text"]
            parts.append(t)
            total += len(t) + 1
            if total >= n_chars:
                break
    return "\n".join(parts)


def test_70k_news_draft_needs_at_most_10_verdicts(full, shared_dir):
    """A 70,000-character public news draft (People's Daily sentences) with one line of personal
    data: at most 10 items need a verdict, and the personal data is one of them."""
    text = news_text(shared_dir)
    assert len(text) >= 70_000
    text += "\n联系人：刘振华，身份证号码330106197904082160，家住杭州市滨江区滨康路1037号3幢502室。"
    rep = full.scan_text(text)
    deciding = [f for f in rep.findings if f.severity not in ("low", "info")]
    groups = {(f.rule_id, "".join(f.text.split())) for f in deciding}
    assert len(groups) <= 10, sorted(groups)[:20]
    assert any(f.category == "pii.id_card" for f in deciding) and rep.decision == "review"


NORMATIVE = tuple(HARM["normative"]["categories"])


def _worst_of(report, categories) -> str | None:
    sev = [f.severity for f in report.findings if f.category in categories]
    return max(sev, key=SEVERITY_RANK.__getitem__) if sev else None


@pytest.mark.parametrize("text", HARM["normative"]["lowered"])
def test_status_words_of_a_law_or_judgment_are_low(full, text):
    """The full scanner (the passage classifier too): every status-word and unpublished-passage
    finding of a law, judgment or standard is low, and there is at least one."""
    rep = full.scan_document(lines_doc(text, layer="body"))
    assert _worst_of(rep, NORMATIVE) == "low"
    assert rep.decision == "pass"


@pytest.mark.parametrize("text", HARM["normative"]["kept"])
def test_status_words_of_a_draft_still_decide(full, text):
    rep = full.scan_document(lines_doc(text, layer="body"))
    assert _worst_of(rep, NORMATIVE) == "medium"
    assert rep.decision == "review"


@pytest.mark.parametrize("text", HARM["boilerplate"]["lowered"])
def test_fixed_notes_of_an_e_invoice_format_are_low(full, text):
    rep = full.scan_document(lines_doc(text, layer="body"))
    assert worst(rep, "passage.") == "low" and rep.decision == "pass"


@pytest.mark.parametrize("text", HARM["boilerplate"]["kept"])
def test_a_passage_saying_more_than_the_note_still_decides(full, text):
    rep = full.scan_document(lines_doc(text, layer="body"))
    assert worst(rep, "passage.") == "medium" and rep.decision == "review"


@pytest.mark.parametrize("text", HARM["email"]["paper_lowered"])
def test_authors_mailbox_on_a_papers_first_page_is_low(light, text):
    rep = light.scan_document(lines_doc(text, page=1))
    mails = [f for f in rep.findings if f.category == "pii.email"]
    assert mails and all(f.severity == "low" for f in mails), [(f.text, f.severity) for f in mails]
    assert rep.decision == "pass"


@pytest.mark.parametrize("text", HARM["email"]["paper_kept"])
def test_mailbox_outside_a_papers_author_block_still_decides(light, text):
    rep = light.scan_document(lines_doc(text, page=1))
    assert worst(rep, "pii.email") == "medium" and rep.decision == "review"


@pytest.mark.parametrize("text", HARM["email"]["paper_phone_lowered"])
def test_authors_mobile_in_a_papers_author_footnote_is_low(light, text):
    rep = light.scan_document(lines_doc(text, page=1))
    phones = [f for f in rep.findings if f.category == "pii.phone"]
    assert phones and all(f.severity == "low" for f in phones), [(f.text, f.severity) for f in phones]
    assert rep.decision == "pass", [(f.category, f.text, f.severity) for f in rep.findings]


@pytest.mark.parametrize("text", HARM["email"]["paper_phone_kept"])
def test_mobile_outside_a_papers_author_footnote_still_decides(light, text):
    rep = light.scan_document(lines_doc(text, page=1))
    assert worst(rep, "pii.phone") == "medium" and rep.decision == "review"


def test_paper_mailbox_on_a_later_page_keeps_its_severity(light):
    doc = lines_doc("TableFormer\nAbstract\nUnderstanding tables is important.", page=1)
    doc.add("body", "Contact the first author at li.na@gmail.com", page=3)
    rep = light.scan_document(doc)
    assert worst(rep, "pii.email") == "medium" and rep.decision == "review"


@pytest.mark.parametrize("text", HARM["email"]["organisation_lowered"] + HARM["email"]["analyst_lowered"])
def test_organisations_mailbox_on_a_domain_the_document_names_is_low(light, text):
    """Also an analyst's work mailbox in a research report that prints 执业证书编号 (analyst_lowered)."""
    rep = light.scan_document(lines_doc(text))
    assert worst(rep, "pii.email") == "low" and rep.decision == "pass", \
        [(f.category, f.text, f.severity) for f in rep.findings]


@pytest.mark.parametrize("text", HARM["email"]["organisation_kept"] + HARM["email"]["analyst_kept"])
def test_mailbox_on_a_domain_the_document_does_not_name_keeps_its_severity(light, text):
    rep = light.scan_document(lines_doc(text))
    assert worst(rep, "pii.email") == "medium" and rep.decision == "review"


@pytest.mark.parametrize("text", HARM["email"]["shared_lowered"])
def test_a_mailbox_several_contacts_share_and_its_alternative_are_low(full, text):
    rep = full.scan_document(lines_doc(text))
    mails = [f for f in rep.findings if f.category == "pii.email"]
    assert len(mails) >= 4 and all(f.severity == "low" for f in mails), [(f.text, f.severity, f.evidence) for f in mails]
    assert {"harm:shared_mailbox", "harm:alternative_mailbox"} <= {e for f in mails for e in f.evidence}
    assert rep.decision == "pass", [(f.category, f.text, f.severity) for f in rep.findings]


@pytest.mark.parametrize("text", HARM["email"]["shared_kept"])
def test_a_persons_mailbox_printed_again_or_beside_a_home_still_decides(full, text):
    rep = full.scan_document(lines_doc(text))
    assert worst(rep, "pii.email") == "medium" and rep.decision == "review"


def hidden_doc(ex: dict) -> Document:
    doc = Document(source="x", sha256="0", media_type="application/pdf")
    for page in range(1, int(ex.get("pages", 1)) + 1):
        for line in ex["visible"].split("\n"):
            doc.add("body", line, page=page)
        extra = {"outline": ex["outline"]} if "outline" in ex else {}
        doc.add("hidden", ex["hidden"], page=page, kind=ex["kind"], **extra)
    return doc


@pytest.mark.parametrize("ex", HARM["hidden_text"]["lowered"], ids=str)
def test_hidden_text_that_hides_nothing_is_low(light, ex):
    rep = light.scan_document(hidden_doc(ex))
    hid = [f for f in rep.findings if f.category == "hidden.text"]
    assert hid and all(f.severity == "low" for f in hid), [(f.text, f.severity) for f in hid]
    assert rep.decision == "pass", [(f.category, f.text, f.severity) for f in rep.findings]


@pytest.mark.parametrize("ex", HARM["hidden_text"]["kept"], ids=str)
def test_hidden_text_with_content_still_decides(light, ex):
    rep = light.scan_document(hidden_doc(ex))
    assert worst(rep, "hidden.text") == "medium" and rep.decision == "review"


def test_pdf_hidden_text_must_be_visible_beside_its_own_copy_in_the_page_text(light):
    """A PDF's white characters are in the page text too: that one copy does not make them visible."""
    doc = Document(source="x", sha256="0", media_type="application/pdf")
    doc.add("body", "Table 2 9021.4 wheat yield", page=1)
    doc.add("hidden", "9021.4wheat", page=1, kind="white", bbox=[1, 1, 2, 2])
    assert worst(light.scan_document(doc), "hidden.text") == "medium"
    doc.add("body", "summary: 9021.4 wheat", page=1)
    assert worst(light.scan_document(doc), "hidden.text") == "low"


@pytest.mark.parametrize("text", HARM["organisation"]["holder_lowered"])
def test_address_on_a_licence_of_an_organisation_is_low(full, text):
    rep = full.scan_document(lines_doc(text))
    adr = [f for f in rep.findings if f.category == "pii.address"]
    assert adr and all(f.severity == "low" for f in adr), [(f.text, f.severity) for f in adr]
    assert rep.decision == "pass", [(f.category, f.text, f.severity) for f in rep.findings]


@pytest.mark.parametrize("text", HARM["organisation"]["holder_kept"])
def test_address_on_a_persons_certificate_still_decides(full, text):
    rep = full.scan_document(lines_doc(text))
    assert worst(rep, "pii.address") == "medium" and rep.decision == "review"


@pytest.mark.parametrize("text", HARM["organisation"]["same_mailbox_lowered"])
def test_a_mailbox_lowered_as_an_organisations_is_low_wherever_it_stands(full, text):
    rep = full.scan_document(lines_doc(text))
    mails = [f for f in rep.findings if f.category == "pii.email"]
    assert len(mails) >= 2 and all(f.severity == "low" for f in mails), [(f.text, f.severity, f.evidence) for f in mails]
    assert any("harm:same_mailbox" in f.evidence for f in mails)
    assert rep.decision == "pass", [(f.category, f.text, f.severity) for f in rep.findings]


@pytest.mark.parametrize("text", HARM["organisation"]["same_mailbox_kept"])
def test_the_same_mailbox_beside_personal_data_or_on_free_mail_still_decides(full, text):
    rep = full.scan_document(lines_doc(text))
    assert worst(rep, "pii.email") == "medium" and rep.decision == "review"


def test_free_mail_exemption_is_data(full):
    """[organisation] email_keep_free_mail is what keeps a free-mail address in a contact line."""
    from scanner.harm import apply
    from scanner.harmrules import HarmRules
    text = "招标人：武汉光谷建设开发有限公司\n联系人：李建国\n邮箱：lijianguo1978@163.com"
    rep = full.scan_document(lines_doc(text))
    mail = [f for f in rep.findings if f.category == "pii.email"]
    assert mail and mail[0].severity == "medium"
    rules = HarmRules.load(default_lexicon_dir() / "harm.toml")
    doc = lines_doc(text)
    assert apply(mail, doc.segments, rules)[0].severity == "medium"
    rules.org_keep_free_mail = False
    assert apply(mail, doc.segments, rules)[0].severity == "low"



def test_name_and_address_far_apart_in_a_paragraph_are_no_record():
    """[names] combination_window: a tagger's name and an address hundreds of characters apart in one
    paragraph stay low; with the window wide enough to reach, the same pair is raised (not vacuous)."""
    text = HARM["names"]["combination_far"]
    inv = Scanner(names_report="all")
    rep = inv.scan_text(text)
    sev = {f.category: f.severity for f in rep.findings if f.category in ("pii.name", "pii.address")}
    assert sev == {"pii.name": "low", "pii.address": "low"} and rep.decision == "pass"
    inv.postprocess.harm.combination_window = len(text)
    rep = inv.scan_text(text)
    assert {f.category: f.severity for f in rep.findings if f.category in ("pii.name", "pii.address")} \
        == {"pii.name": "medium", "pii.address": "medium"}


@pytest.mark.parametrize("text", HARM["specimen_card"]["lowered"])
def test_address_of_a_joke_id_card_is_low(full, text):
    rep = full.scan_document(lines_doc(text, layer="ocr"))
    assert rep.decision == "pass", [(f.category, f.text, f.severity) for f in rep.findings]


@pytest.mark.parametrize("text", HARM["specimen_card"]["kept"])
def test_address_of_a_real_id_card_still_decides(full, text):
    rep = full.scan_document(lines_doc(text, layer="ocr"))
    assert worst(rep, "pii.address") in ("medium", "high") and rep.decision == "review", \
        [(f.category, f.text, f.severity) for f in rep.findings]
