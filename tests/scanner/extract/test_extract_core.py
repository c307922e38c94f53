"""Basic extraction: encodings detected (never assumed), html layers, unreadable input fails closed."""
from __future__ import annotations

import pytest

from scanner.extract import extract_bytes

TEXT = "秘密★3年\n关于开展年度安全检查的通知\n各单位：现将有关事项通知如下。"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030", "utf-16-le-bom"])
def test_txt_encodings(encoding, light_scanner):
    if encoding == "utf-16-le-bom":
        data = b"\xff\xfe" + TEXT.encode("utf-16-le")
    else:
        data = TEXT.encode(encoding)
    doc = extract_bytes(data, "draft.txt")
    assert not doc.errors
    assert doc.segments[0].text == "秘密★3年"
    assert doc.segments[1].text == "关于开展年度安全检查的通知"
    report = light_scanner.scan_bytes(data, "draft.txt")
    assert report.decision == "block"


def test_gb18030_long_text_detected():
    text = "关于进一步加强信息公开保密审查工作的通知。各单位要认真落实审查责任，严格执行审批程序。" * 3
    doc = extract_bytes(text.encode("gb18030"), "a.txt")
    assert doc.meta["encoding"] in ("gb18030", "gbk", "gb2312")
    assert doc.segments[0].text == text


def test_html_layers():
    html = ("<html><head><title>标题</title><style>.x{}</style><script>var pwd='a';</script></head><body>"
            "<p>可见段落</p><!-- 此段涉密 --><div style='display:none'>隐藏的文字</div></body></html>")
    doc = extract_bytes(html.encode("utf-8"), "page.html")
    layers = {(s.layer, s.text) for s in doc.segments}
    assert ("body", "可见段落") in layers
    assert ("comment", "此段涉密") in layers
    assert any(layer == "hidden" and "隐藏的文字" in t for layer, t in layers)
    assert not any(layer == "body" and "隐藏" in t for layer, t in layers)


@pytest.mark.parametrize("data,code", [
    (b"", "extract.empty"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "extract.unsupported"),
    (b"%PDF-1.7\n garbage that is not a pdf", "extract.corrupt"),
    (b"PK\x03\x04 not really a zip", None),
])
def test_unreadable_input_fails_closed(light_scanner, data, code):
    report = light_scanner.scan_bytes(data, "upload.bin")
    assert report.errors, report.to_dict()
    if code:
        assert report.errors[0].code == code
    assert report.decision in ("review", "block")
    assert report.errors[0].message   # a Chinese message for people
