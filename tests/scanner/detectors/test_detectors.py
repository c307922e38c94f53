"""Each detector: positives and look-alike negatives, through the whole scanner (light mode)."""
from __future__ import annotations

import pytest

from scanner.validators import id_check_char


def _id(region: str, birth: str, seq: str) -> str:
    body = region + birth + seq
    return body + id_check_char(body)


ID = _id("330106", "19790408", "216")


def cats(report):
    return {f.category for f in report.findings}


def test_findings_point_at_original_text(light_scanner):
    text = "业主（身份证" + "".join(chr(ord(c) + 0xFEE0) for c in ID) + "）\n機 密 ★ 十 年"
    report = light_scanner.scan_text(text)
    seg_text = {s.id: s.text for s in report.segments}
    assert report.findings
    for f in report.findings:
        assert seg_text[f.segment_id][f.start:f.end] == f.text


@pytest.mark.parametrize("text,category", [
    (f"身份证号码{ID}", "pii.id_card"),
    ("联系手机：+86 135-7246-8013", "pii.phone"),
    ("邮箱 zhang.wei@163.com", "pii.email"),
    ("护照号码：E12345678", "pii.passport"),
    ("车牌号鄂A12345", "pii.plate"),
    ("家住和平路18号3栋201室", "pii.address"),
    ("初始口令为Tx#88a，请登录后修改", "secret.credential"),
    ("服务器10.12.3.45已上线", "secret.intranet"),
    ("北纬31°14′08.52″", "geo.coordinates"),
    ("中国人民解放军61538部队", "term.military"),
    ("本材料请勿扩散", "term.internal"),
])
def test_positive(light_scanner, text, category):
    report = light_scanner.scan_text(text)
    assert category in cats(report), [(f.category, f.text) for f in report.findings]
    assert report.decision == "review"


@pytest.mark.parametrize("text", [
    "身份证号码330***********2160，手机186****0921",           # masked
    "统一社会信用代码：91420100MA4KX2YB3Q",                     # organisation, not a person
    "订单流水号：202611071530228890",
    "政务服务便民热线12345，12388举报电话",                      # public hotlines
    "咨询电话：027-88776655（工作日）",                          # office line: low severity, pass
    "国家秘密的密级分为绝密、机密、秘密三级。",
    "加强机密性、完整性和可用性保护。",
    "双方应对商业秘密和商业机密承担保密义务。",
    "《秘密花园》是一本涂色书。",
    "会议在珞喻路152号举行。",                                     # a venue address, not a dwelling
    "应当严格控制知悉范围。",
    "增长30.5%，达到104.0亿元。",
    "版本号 1.10.2.3 已发布",
])
def test_public_text_passes(light_scanner, text):
    report = light_scanner.scan_text(text)
    assert report.decision == "pass", [(f.category, f.text, f.severity) for f in report.findings]
    assert "pii.id_card" not in cats(report)


def test_office_phone_is_shown_but_low(light_scanner):
    report = light_scanner.scan_text("咨询电话：027-88776655")
    phones = [f for f in report.findings if f.category == "pii.phone"]
    assert phones and all(f.severity == "low" for f in phones)
    assert report.decision == "pass"


def test_marking_position_decides(light_scanner):
    top = light_scanner.scan_text("秘密★1年\n关于开展检查的通知")
    assert top.decision == "block"
    inline_lines = ["第一段。", "第二段。", "第三段。", "第四段。", "第五段。",
                    "以下摘自上级来文秘密★1年第三部分。"]
    inline = light_scanner.scan_text("\n".join(inline_lines))
    marks = [f for f in inline.findings if f.category == "marking.level"]
    assert marks and marks[0].severity == "high"
    assert inline.decision == "review"


def test_marking_in_header_blocks():
    from scanner import get_scanner
    from scanner.model import Document
    doc = Document(source="x.docx", sha256="0", media_type="docx")
    doc.add("body", "会议通知")
    doc.add("body", "定于下周一召开会议。")
    doc.add("header", "秘密★6个月", part="word/header1.xml")
    report = get_scanner(light=True).scan_document(doc)
    assert report.decision == "block"
    assert any(f.layer == "header" and f.category == "marking.level" for f in report.findings)


def test_table_field(light_scanner):
    from scanner.model import Document
    doc = Document(source="form.docx", sha256="0", media_type="docx")
    doc.add("body", "发文稿纸")
    doc.add("table", "密级", table=0, row=0, col=0)
    doc.add("table", "机密", table=0, row=0, col=1)
    doc.add("table", "标题", table=0, row=1, col=0)
    doc.add("table", "秘密花园读书会", table=0, row=1, col=1)
    report = light_scanner.scan_document(doc)
    fields = [f for f in report.findings if f.category == "marking.field"]
    assert [f.text for f in fields] == ["机密"]
    assert report.decision == "block"


def test_errors_fail_closed(light_scanner):
    from scanner.model import Document, ScanError
    doc = Document(source="x", sha256="0", media_type="application/pdf")
    doc.errors.append(ScanError("extract.timeout", "文件解析超时"))
    report = light_scanner.scan_document(doc)
    assert report.decision == "review"
    assert report.errors[0].code == "extract.timeout"


def test_fingerprint_is_not_plaintext(light_scanner):
    report = light_scanner.scan_text(f"身份证号码{ID}")
    f = next(f for f in report.findings if f.category == "pii.id_card")
    assert f.fingerprint and ID not in f.fingerprint and len(f.fingerprint) == 32


def test_quoted_marking_example_passes(light_scanner):
    lines = ["第一段。", "第二段。", "第三段。", "第四段。", "第五段。", "标志格式示例：密级和保密期限之间用★隔开，如“秘密★1年”。"]
    report = light_scanner.scan_text("\n".join(lines))
    assert report.decision == "pass"
    assert [f.severity for f in report.findings if f.category == "marking.level"] == ["low"]


@pytest.mark.parametrize("text,severity,decision", [
    ("皖A·533Y3\nGT:皖A533Y3", "low", "pass"),                     # a plate-recognition demo: a plate alone
    ("以下车辆长期占用消防通道：粤B·D12345", "medium", "review"),
    ("车主何某，浙A·7K32Q于3月2日在中山路违停", "medium", "review"),
])
def test_a_plate_alone_is_shown_a_plate_with_its_vehicle_or_owner_decides(light_scanner, text, severity, decision):
    report = light_scanner.scan_text(text)
    plates = [f for f in report.findings if f.category == "pii.plate"]
    assert plates and {f.severity for f in plates} == {severity}
    assert report.decision == decision


def _doc(parts):
    from scanner.model import Document
    doc = Document(source="x.docx", sha256="0", media_type="docx")
    for layer, text, loc in parts:
        doc.add(layer, text, **loc)
    return doc


def test_english_label_in_header_and_footer(light_scanner):
    doc = _doc([("body", "房东直租", {}), ("body", "联系人：王女士", {}),
                ("header", "Micron Confidential", {"part": "word/header1.xml", "kind": "textbox"}),
                ("footer", "  Micron Confidential ", {"part": "word/footer1.xml"})])
    report = light_scanner.scan_document(doc)
    labels = [f for f in report.findings if f.rule_id == "marking.commercial.english.v1"]
    assert sorted(f.layer for f in labels) == ["footer", "header"]
    assert all(f.text == "Micron Confidential" and f.severity == "high" for f in labels)
    assert "页眉" in next(f.explanation for f in labels if f.layer == "header")
    assert report.decision == "review"


def test_english_label_sentence_table_and_middle_pass(light_scanner):
    doc = _doc([("body", "Data classification policy", {}), ("body", "Scope", {}), ("body", "a", {}), ("body", "b", {}),
                ("body", "Confidential", {}), ("body", "c", {}), ("body", "d", {}),
                ("table", "Confidential", {"table": 0, "row": 1, "col": 0}),
                ("table", "Internal Use Only", {"table": 0, "row": 2, "col": 0}),
                ("footer", "The contents of this document are confidential and proprietary to IQVIA Holdings Inc.", {})])
    report = light_scanner.scan_document(doc)
    assert not [f for f in report.findings if f.category.startswith("marking")]


def test_english_label_repeated_on_slides(light_scanner):
    parts = []
    for k in range(1, 5):
        parts += [("body", f"Slide {k} title", {"slide": k}), ("body", f"point {k}", {"slide": k})]
        if k in (3, 4):
            parts.append(("body", "Company Confidential", {"slide": k}))
    parts += [("body", "Thanks", {"slide": 9}), ("body", "Q&A", {"slide": 9}), ("body", "end", {"slide": 9})]
    report = light_scanner.scan_document(_doc(parts))
    labels = [f for f in report.findings if f.rule_id == "marking.commercial.english.v1"]
    assert len(labels) == 2 and all("position:repeated" in f.evidence for f in labels)


def test_sensitivity_label_property(light_scanner):
    prop = {"field": "custom", "part": "docProps/custom.xml"}
    doc = _doc([("body", "正文", {}),
                ("metadata", "Confidential", {**prop, "name": "MSIP_Label_37874100-6000-43b6-a204-2d77792600b9_Name"}),
                ("metadata", "Internal", {**prop, "name": "MSIP_Label_11111111-2222-3333-4444-555555555555_Name"}),
                ("metadata", "General", {**prop, "name": "MSIP_Label_66666666-2222-3333-4444-555555555555_Name"}),
                ("metadata", "Confidential", {**prop, "name": "Category"})])
    report = light_scanner.scan_document(doc)
    labels = sorted((f.category, f.text) for f in report.findings if f.rule_id.endswith(".english.v1"))
    assert labels == [("marking.commercial", "Confidential"), ("marking.internal", "Internal")]
    assert report.decision == "review"


@pytest.mark.parametrize("written", ["134 – 688 - 13121", "１３４ – ６８８ － １３１２１", "134-6881-3121", "134 6881 3121",
                                     "135 — 7246 — 8013"])
def test_grouped_mobile_spans_the_written_number(light_scanner, written):
    text = f"联系电话：{written}非诚勿扰"
    report = light_scanner.scan_text(text)
    phones = [f for f in report.findings if f.category == "pii.phone"]
    assert [f.text for f in phones] == [written]
    assert text[phones[0].start:phones[0].end] == written


@pytest.mark.parametrize("text", ["任期 1990 – 2000 年，电话另行通知", "电话分机 0571-8888-1234-801", "电话银行账号 1345 6789 0123 4567",
                                  "电话\n135 200 300\n400 500 600", "联系电话：134 – 688 - 1312"])
def test_grouped_mobile_look_alikes(light_scanner, text):
    report = light_scanner.scan_text(text)
    assert not [f for f in report.findings if f.category == "pii.phone" and f.severity != "low"], text


@pytest.mark.parametrize("layer, line, mark", [
    ("footer", "-内部资料，注意保密-                                          第  页 共 1 页", "内部资料，注意保密"),
    ("header", "北京某某技术股份有限公司\t内部使用", "内部使用"),
    ("footer", "第 1 页      内部资料注意保存      共 3 页", "内部资料注意保存"),
])
def test_restriction_mark_as_one_piece_of_an_aligned_header_line(light_scanner, layer, line, mark):
    """Word aligns a header's or footer's parts with runs of spaces or a tab: a restriction mark that
    is one of those pieces is a mark (a footer "-内部资料，注意保密-   第 页 共 1 页" of a real
    company manual was missed: the line as a whole is not a mark). The highlight covers the mark."""
    doc = _doc([("body", "关于举办读书月活动的通知", {}), (layer, line, {"part": f"word/{layer}1.xml"})])
    report = light_scanner.scan_document(doc)
    marks = [f for f in report.findings if f.category == "marking.internal"]
    assert [line[f.start:f.end] for f in marks] == [mark] and marks[0].layer == layer
    assert report.decision == "review"


@pytest.mark.parametrize("layer, line", [
    ("header", "北京某某公司             关于内部资料管理的通知"),     # a piece that mentions the mark
    ("body", "-内部资料，注意保密-              第  页"),                # not a header or footer
    ("footer", "某某公司内部使用规范             第 2 页"),
])
def test_aligned_pieces_that_are_not_a_mark_pass(light_scanner, layer, line):
    doc = _doc([("body", "关于举办读书月活动的通知", {}), (layer, line, {})])
    report = light_scanner.scan_document(doc)
    assert not [f for f in report.findings if f.category.startswith("marking")]
