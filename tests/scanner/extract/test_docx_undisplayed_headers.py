"""Word header and footer parts that no page shows (issue 16: inspect what readers don't see).

Built with python-docx and, for a part no section references, by rewriting the package
(tests/support/zipread.rewrite): a header part left in the file, a first-page header without
w:titlePg, an even-page footer without w:evenAndOddHeaders are read into the hidden layer; a mark
in one is still a mark in the header position, and its finding says the page does not show it. An
ordinary displayed header behaves as before."""
from __future__ import annotations

import io

import docx

from scanner.extract import extract_bytes
from scanner.redact.docx import redact_docx
from tests.support.zipread import nothing_readable, rewrite

HEADER_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
HEADER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _save(d) -> bytes:
    b = io.BytesIO()
    d.save(b)
    return b.getvalue()


def _base(header: str = "某某市教育局") -> docx.document.Document:
    d = docx.Document()
    d.add_paragraph("关于举办读书月活动的通知")
    d.add_paragraph("各学校：为营造良好的读书氛围，定于下月举办读书月活动，请各校认真组织。")
    d.sections[0].header.paragraphs[0].text = header
    return d


def _with_unreferenced_header(data: bytes, text: str, name: str = "word/header9.xml") -> bytes:
    """The package plus a header part with a relationship and a content type, that no w:sectPr
    references (what Word leaves when a section is deleted)."""
    part = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:hdr xmlns:w="{W_NS}">'
            f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p></w:hdr>').encode()

    def rels(body: bytes) -> bytes:
        return body.replace(b"</Relationships>", f'<Relationship Id="rIdX9" Type="{HEADER_REL}" '
                            f'Target="{name.split("/", 1)[1]}"/></Relationships>'.encode())

    def types(body: bytes) -> bytes:
        return body.replace(b"</Types>", f'<Override PartName="/{name}" ContentType="{HEADER_CT}"/></Types>'.encode())

    return rewrite(data, {"word/_rels/document.xml.rels": rels, "[Content_Types].xml": types}, add={name: part})


def _seg(doc, text):
    return next(s for s in doc.segments if s.text.strip() == text)


def _scan(light_scanner, data: bytes):
    return light_scanner.scan_document(extract_bytes(data, "t.docx"))


def test_a_header_part_no_section_references_is_hidden_and_its_mark_still_found(light_scanner):
    data = _with_unreferenced_header(_save(_base()), "秘密★6个月")
    doc = extract_bytes(data, "t.docx")
    hidden = _seg(doc, "秘密★6个月")
    assert hidden.layer == "hidden"
    assert (hidden.locator["kind"], hidden.locator["story"], hidden.locator["why"]) == \
        ("undisplayed_header", "header", "unreferenced")
    assert _seg(doc, "某某市教育局").layer == "header"      # the section's own header is displayed
    report = light_scanner.scan_document(doc)
    mark = [f for f in report.findings if f.category == "marking.level"]
    assert len(mark) == 1 and mark[0].severity == "critical" and mark[0].layer == "hidden"
    assert "position:header" in mark[0].evidence and "undisplayed:header" in mark[0].evidence
    assert "不显示的页眉" in mark[0].explanation
    shown = [f for f in report.findings if f.category == "hidden.text"]
    assert len(shown) == 1 and "没有任何一节使用的页眉" in shown[0].explanation
    assert report.decision == "block"


def test_first_page_header_and_even_footer_are_undisplayed_only_while_their_settings_are_off(light_scanner):
    def build(first_on: bool, even_on: bool) -> bytes:
        d = _base()
        s = d.sections[0]
        s.different_first_page_header_footer = True
        s.first_page_header.paragraphs[0].text = "内部资料"
        s.different_first_page_header_footer = first_on
        d.settings.odd_and_even_pages_header_footer = True
        s.even_page_footer.paragraphs[0].text = "联系人：王建国 13572468013"
        d.settings.odd_and_even_pages_header_footer = even_on
        return _save(d)

    off = extract_bytes(build(False, False), "t.docx")
    first, even = _seg(off, "内部资料"), _seg(off, "联系人：王建国 13572468013")
    assert (first.layer, first.locator["why"]) == ("hidden", "first_page_off")
    assert (even.layer, even.locator["kind"], even.locator["why"]) == ("hidden", "undisplayed_footer", "even_pages_off")
    report = light_scanner.scan_document(off)
    internal = [f for f in report.findings if f.category == "marking.internal"]
    assert len(internal) == 1 and internal[0].layer == "hidden" and "不显示的页眉" in internal[0].explanation
    # the mobile in the even-page footer is found (the text is scanned), and its part says it is not shown
    assert any(f.category.startswith("pii.") and "13572468013" in f.text for f in report.findings)
    assert any(f.category == "hidden.text" and "偶数页页脚" in f.explanation for f in report.findings)
    assert report.decision != "pass"

    on = extract_bytes(build(True, True), "t.docx")
    assert _seg(on, "内部资料").layer == "header" and _seg(on, "联系人：王建国 13572468013").layer == "footer"
    report = light_scanner.scan_document(on)
    internal = [f for f in report.findings if f.category == "marking.internal"]
    assert len(internal) == 1 and internal[0].layer == "header"
    assert not [e for e in internal[0].evidence if e.startswith("undisplayed")]
    assert not [f for f in report.findings if f.category == "hidden.text"]


def test_a_displayed_header_mark_behaves_as_before(light_scanner):
    report = _scan(light_scanner, _save(_base("秘密★6个月")))
    mark = [f for f in report.findings if f.category == "marking.level"]
    assert len(mark) == 1 and mark[0].layer == "header" and mark[0].severity == "critical"
    assert mark[0].evidence == ["position:header", "form:star"]
    assert mark[0].explanation.startswith("在页眉出现")
    assert not [f for f in report.findings if f.category.startswith("hidden.")]
    assert report.decision == "block"


def test_an_undisplayed_header_without_anything_in_it_does_not_decide(light_scanner):
    """A template's leftover header (the title, an old form number) is shown low, never deciding."""
    data = _with_unreferenced_header(_save(_base()), "Form No.: CS_FM_RSU0035 Revision 1")
    report = _scan(light_scanner, data)
    hidden = [f for f in report.findings if f.category == "hidden.text"]
    assert len(hidden) == 1 and hidden[0].severity == "low" and "unshown:header" in hidden[0].evidence
    assert report.decision == "pass"


def test_sections_inherit_the_header_before_them_and_show_a_first_page_header_of_their_own():
    """Section 2 names no default header: it shows section 1's (still displayed). Its first-page
    header with w:titlePg set is displayed; section 1 has no w:titlePg and no first-page header."""
    d = _base("第一节页眉")
    s2 = d.add_section()
    s2.header.is_linked_to_previous = True
    s2.different_first_page_header_footer = True
    s2.first_page_header.paragraphs[0].text = "第二节首页页眉"
    doc = extract_bytes(_save(d), "t.docx")
    assert _seg(doc, "第一节页眉").layer == "header"
    assert _seg(doc, "第二节首页页眉").layer == "header"
    assert not [s for s in doc.segments if s.layer == "hidden"]


def test_an_aligned_restriction_mark_in_an_undisplayed_first_page_footer(light_scanner):
    """As in real files (a company template whose first-page footer carries -内部资料，注意保密-
    and a page number, with 首页不同 switched off): the piece is found, in the footer position."""
    d = _base()
    s = d.sections[0]
    s.different_first_page_header_footer = True
    s.first_page_footer.paragraphs[0].text = "-内部资料，注意保密-                              第 1 页 共 3 页"
    s.different_first_page_header_footer = False
    report = _scan(light_scanner, _save(d))
    internal = [f for f in report.findings if f.category == "marking.internal"]
    assert len(internal) == 1 and internal[0].text == "内部资料，注意保密"
    assert "form:header_piece" in internal[0].evidence and "undisplayed:footer" in internal[0].evidence
    assert "不显示的页脚" in internal[0].explanation


def test_an_english_label_in_an_undisplayed_header(light_scanner):
    data = _with_unreferenced_header(_save(_base()), "Micron Confidential")
    report = _scan(light_scanner, data)
    label = [f for f in report.findings if f.rule_id.endswith(".english.v1")]
    assert len(label) == 1 and "position:header" in label[0].evidence and "undisplayed:header" in label[0].evidence
    assert "不显示的页眉" in label[0].explanation


def test_a_mark_split_across_runs_in_an_undisplayed_header_is_redacted(light_scanner):
    """The redaction edits the paragraphs of a header part no page shows like a displayed one's
    (a mark in two runs is in no single text node, so the text-wide pass alone would miss it)."""
    d = _base()
    s = d.sections[0]
    s.different_first_page_header_footer = True
    p = s.first_page_header.paragraphs[0]
    p.add_run("秘密")
    p.add_run("★6个月")
    s.different_first_page_header_footer = False
    data = _save(d)
    report = _scan(light_scanner, data)
    marks = [f for f in report.findings if f.category == "marking.level"]
    assert [f.layer for f in marks] == ["hidden"]
    out = redact_docx(data, marks)
    nothing_readable(out, ["秘密", "6个月"])
    assert _seg(extract_bytes(out, "t.docx"), "某某市教育局").layer == "header"
