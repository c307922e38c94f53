"""Plain text in every encoding a Chinese office produces, with and without a byte order mark:
UTF-16 LE/BE and UTF-32 LE/BE without a BOM are detected (issue 11), each with a marking on the
first line that the scan must find there."""
from __future__ import annotations

import pytest

from scanner import get_scanner
from scanner.extract import extract_bytes

TEXT = ("秘密★5年\n关于召开工作会议的通知\n各单位：请于本周五前报送参会人员名单，联系电话010-65123456。\n"
        "The meeting starts at 9:00.\n")


@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-8", "gb18030",
                                 "utf-16", "utf-32"])
def test_marking_on_the_first_line_in_each_encoding(enc):
    data = TEXT.encode(enc)           # "utf-16"/"utf-32": with a BOM
    doc = extract_bytes(data, "notice.txt")
    assert doc.errors == [] and doc.media_type == "text/plain"
    assert doc.meta["encoding"].startswith(enc if enc not in ("utf-16", "utf-32") else enc + "-le-bom")
    assert doc.segments[0].text == "秘密★5年" and doc.segments[0].locator["line"] == 1
    rep = get_scanner(light=True).scan_document(doc)
    mark = next(f for f in rep.findings if f.category == "marking.level")
    assert rep.decision == "block" and mark.segment_id == 0 and (mark.start, mark.end) == (0, 5)


@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be"])
def test_bomless_utf16_of_chinese_only_has_no_nul_bytes_and_is_still_read(enc):
    text = "秘密★长期\n中文内容只有汉字没有别的字符"
    doc = extract_bytes(text.encode(enc), "a.txt")
    assert doc.meta["encoding"] == enc and doc.segments[0].text == "秘密★长期"


def test_gb18030_and_utf8_are_not_mistaken_for_utf16():
    for enc in ("gb18030", "utf-8"):
        doc = extract_bytes("中文内容只有汉字没有别的字符串".encode(enc), "a.txt")
        assert doc.meta["encoding"] == enc and doc.segments[0].text == "中文内容只有汉字没有别的字符串"
