"""xlsx threaded comments (Excel 2019/365): the threaded part holds each comment and reply with its
author (xl/persons); the legacy comments part holds Excel's copy for older versions, opened by a
fixed notice ("[Threaded comment] Your version of Excel allows you to read ... linkid=870924
Comment:"). The notice is not a comment anyone wrote: the copy is not read again when the threaded
part says the same, and read without the notice when it says more.

The workbooks are built as Excel writes them (the parts, relationships, content types and the
legacy copy's text of a real Excel 365 workbook with threaded comments): openpyxl writes the sheet
and the legacy comment, the threaded-comment and person parts are added to the package.
"""
from __future__ import annotations

import io
import re
import zipfile

from openpyxl import Workbook
from openpyxl.comments import Comment

from scanner import get_scanner
from scanner.extract import extract_bytes
from support.zipread import rewrite

NOTICE = ("[Threaded comment]\n\nYour version of Excel allows you to read this threaded comment; however, any edits "
          "to it will get removed if the file is opened in a newer version of Excel. Learn more: "
          "https://go.microsoft.com/fwlink/?linkid=870924\n\n")
ROOT_ID = "{4FF05F10-2973-4E01-BDB0-C411C0D8D016}"
REPLY_ID = "{B67FF99B-C82A-408B-9B93-DB349BA6E9B1}"
PERSON_ID = "{1A2FBFD1-AFE4-481D-BC81-4BDD5CB60166}"
TC = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"


def _threaded_part(comment: str, reply: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<ThreadedComments xmlns="{TC}" '
            'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<threadedComment ref="C1" dT="2023-01-29T09:15:02.18" personId="{PERSON_ID}" id="{ROOT_ID}">'
            f'<text>{comment}</text></threadedComment>'
            f'<threadedComment ref="C1" dT="2023-01-29T09:16:33.32" personId="{PERSON_ID}" id="{REPLY_ID}" '
            f'parentId="{ROOT_ID}"><text>{reply}</text></threadedComment></ThreadedComments>')


def _persons_part() -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<personList xmlns="{TC}" '
            'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<person displayName="Li, Virgil" id="{PERSON_ID}" userId="li.virgil@example.com" providerId="AD"/>'
            '</personList>')


def _workbook(legacy_text: str, comment: str = "", reply: str = "", threaded: bool = True) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "人员信息列表"
    ws["A1"], ws["B1"], ws["C1"] = "序号", "中心名称", "既往适应症"
    ws["A2"], ws["B2"], ws["C2"] = 1, "第一中心", "no"
    ws["C1"].comment = Comment(legacy_text, f"tc={ROOT_ID}")
    buf = io.BytesIO()
    wb.save(buf)
    edits = {"xl/comments/comment1.xml": _tie_copy_to_thread}
    add = {}
    if threaded:
        edits |= {"xl/worksheets/_rels/sheet1.xml.rels": _add_relationship(
                      b'<Relationship Id="rIdTc" Type="http://schemas.microsoft.com/office/2017/10/relationships/'
                      b'threadedComment" Target="../threadedComments/threadedComment1.xml"/>'),
                  "xl/_rels/workbook.xml.rels": _add_relationship(
                      b'<Relationship Id="rIdP" Type="http://schemas.microsoft.com/office/2017/10/relationships/'
                      b'person" Target="persons/person.xml"/>'),
                  "[Content_Types].xml": lambda data: data.replace(b"</Types>", (
                      b'<Override PartName="/xl/threadedComments/threadedComment1.xml" '
                      b'ContentType="application/vnd.ms-excel.threadedcomments+xml"/><Override '
                      b'PartName="/xl/persons/person.xml" ContentType="application/vnd.ms-excel.'
                      b'person+xml"/></Types>'))}
        add = {"xl/threadedComments/threadedComment1.xml": _threaded_part(comment, reply),
               "xl/persons/person.xml": _persons_part()}
    data = buf.getvalue()
    assert "xl/comments/comment1.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    return rewrite(data, edits, add)


def _tie_copy_to_thread(data: bytes) -> bytes:
    """Excel ties the legacy copy to its thread by xr:uid."""
    data = data.replace(b'<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                        b'<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                        b'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision"', 1)
    return re.sub(rb'<comment ref="C1"', f'<comment ref="C1" xr:uid="{ROOT_ID}"'.encode(), data, count=1)


def _add_relationship(rel: bytes):
    return lambda data: data.replace(b"</Relationships>", rel + b"</Relationships>")


def _comments(doc):
    return [s for s in doc.segments if s.layer == "comment"]


COMMENT = "1，2，3按照时间从现在到以前排列"
REPLY = "从现在往前选择3个即可"


def test_package_is_read_as_excel_writes_it():
    data = _workbook(NOTICE + f"Comment:\n    {COMMENT}\nReply:\n    {REPLY}", COMMENT, REPLY)
    z = zipfile.ZipFile(io.BytesIO(data))
    assert "xl/threadedComments/threadedComment1.xml" in z.namelist()
    legacy = next(n for n in z.namelist() if n.startswith("xl/comments/"))
    assert f'xr:uid="{ROOT_ID}"'.encode() in z.read(legacy) and b"linkid=870924" in z.read(legacy)


def test_legacy_copy_saying_what_the_thread_says_is_not_read_twice():
    data = _workbook(NOTICE + f"Comment:\n    {COMMENT}\nReply:\n    {REPLY}", COMMENT, REPLY)
    doc = extract_bytes(data, "人员信息.xlsx")
    assert not doc.errors
    got = [(s.text, s.locator.get("author"), s.locator.get("cell"), s.locator.get("sheet")) for s in _comments(doc)]
    assert got == [(COMMENT, "Li, Virgil", "C1", "人员信息列表"), (REPLY, "Li, Virgil", "C1", "人员信息列表")]
    assert not any("Your version of Excel" in s.text or "Threaded comment" in s.text for s in doc.segments)


def test_legacy_copy_that_says_more_is_read_without_the_notice():
    # edited in an older Excel: the copy carries a sentence the threaded part lacks (still in the file)
    extra = "王建国的数据暂不公开"
    legacy = NOTICE + f"Comment:\n    {COMMENT}\nReply:\n    {REPLY}\n{extra}"
    doc = extract_bytes(_workbook(legacy, COMMENT, REPLY), "人员信息.xlsx")
    segs = _comments(doc)
    copy = [s for s in segs if s.locator.get("kind") == "comment"]
    assert len(copy) == 1 and extra in copy[0].text and COMMENT in copy[0].text
    assert "Your version" not in copy[0].text and not copy[0].text.lstrip().startswith(("[", "Comment:"))
    assert copy[0].locator["author"] == "Li, Virgil"        # the thread's author, not "tc={...}"
    report = get_scanner(light=True).scan_bytes(_workbook(legacy, COMMENT, REPLY), "人员信息.xlsx")
    on_copy = [f for f in report.findings if f.category == "hidden.comment"
               and report.segments[f.segment_id].locator.get("kind") == "comment"]
    assert on_copy and all(report.segments[f.segment_id].text[f.start:f.end] == f.text for f in on_copy)
    assert all("Your version" not in f.text for f in report.findings)


def test_legacy_copy_without_its_threaded_part_is_read_without_the_notice():
    doc = extract_bytes(_workbook(NOTICE + f"Comment:\n    {COMMENT}", threaded=False), "人员信息.xlsx")
    segs = _comments(doc)
    assert [s.text.strip() for s in segs] == [COMMENT]
    assert segs[0].locator["author"] == ""          # "tc={...}" is a thread id, not a person


def test_plain_comment_is_read_whole():
    text = "请核实：见 https://go.microsoft.com/fwlink/?linkid=870924"
    doc = extract_bytes(_workbook(text, threaded=False), "人员信息.xlsx")
    assert [s.text for s in _comments(doc)] == [text]
