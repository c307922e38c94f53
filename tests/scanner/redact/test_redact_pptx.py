"""Redacted PPTX copies (scanner.redact.pptx): a real presentation built by python-pptx with a
number split over runs of different formatting, a text box, speaker notes, a hidden slide, a
comment with its author, properties and an embedded workbook. The copy is read back with
python-pptx and unzip, and re-scanned."""
from __future__ import annotations

import io


from scanner.redact import redact_bytes, remaining
from scanner.redact.ops import BLOCK
from support.zipread import every_member, nothing_readable, rewrite

PHONE = "13812345678"
ID = "330106197904082160"            # synthetic, valid GB 11643 check digit
HIDDEN_PHONE = "13700001111"
NESTED_PHONE = "13600001234"
COMMENT_PHONE = "13500005678"
EMAIL = "wangxm@example.com"
SECRETS = (PHONE, ID, HIDDEN_PHONE, NESTED_PHONE, COMMENT_PHONE, EMAIL, "机密★5年", "张三", "内部审阅版", "审稿人")

_COMMENTS_CT = "application/vnd.openxmlformats-officedocument.presentationml.comments+xml"
_AUTHORS_CT = "application/vnd.openxmlformats-officedocument.presentationml.commentAuthors+xml"
_P = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'


def _xlsx(value: str) -> bytes:
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active["A1"] = "联系人手机"
    wb.active["B1"] = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _pptx() -> bytes:
    from pptx import Presentation
    from pptx.enum.shapes import PROG_ID
    from pptx.util import Inches
    prs = Presentation()
    prs.core_properties.author = "张三"
    prs.core_properties.title = "内部审阅版"
    s1 = prs.slides.add_slide(prs.slide_layouts[1])            # title and content
    s1.shapes.title.text = "机密★5年"
    p = s1.placeholders[1].text_frame.paragraphs[0]
    p.add_run().text = "联系电话 "
    r = p.add_run()
    r.text = PHONE[:3]                                          # the number spans two runs, one bold
    r.font.bold = True
    p.add_run().text = PHONE[3:] + "，请回电。"
    box = s1.shapes.add_textbox(Inches(1), Inches(5), Inches(6), Inches(1))
    box.text_frame.text = f"邮箱 {EMAIL}"
    s1.notes_slide.notes_text_frame.text = f"申请人身份证号 {ID}"
    s1.shapes.add_ole_object(io.BytesIO(_xlsx(NESTED_PHONE)), PROG_ID.XLSX, Inches(7), Inches(1))
    s2 = prs.slides.add_slide(prs.slide_layouts[5])
    s2.shapes.title.text = f"备用手机 {HIDDEN_PHONE}"
    s2._element.set("show", "0")                                # a hidden slide
    buf = io.BytesIO()
    prs.save(buf)
    return _with_comment(buf.getvalue())


def _with_comment(data: bytes) -> bytes:
    """A legacy comment on slide 1 (python-pptx writes none): the part, its author, the slide's
    relationship and the content types, as PowerPoint writes them."""
    rel = ('<Relationship Id="{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{}" '
           'Target="{}"/></Relationships>')
    types = (f'<Override PartName="/ppt/comments/comment1.xml" ContentType="{_COMMENTS_CT}"/>'
             f'<Override PartName="/ppt/commentAuthors.xml" ContentType="{_AUTHORS_CT}"/></Types>')
    return rewrite(data, {
        "ppt/slides/_rels/slide1.xml.rels": lambda b: b.replace(
            b"</Relationships>", rel.format("rIdC", "comments", "../comments/comment1.xml").encode()),
        "ppt/_rels/presentation.xml.rels": lambda b: b.replace(
            b"</Relationships>", rel.format("rIdA", "commentAuthors", "commentAuthors.xml").encode()),
        "[Content_Types].xml": lambda b: b.replace(b"</Types>", types.encode())}, {
        "ppt/comments/comment1.xml": f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:cmLst {_P}>'
                                     f'<p:cm authorId="0" dt="2026-01-01T00:00:00.000" idx="1"><p:pos x="10" y="10"/>'
                                     f"<p:text>此人电话{COMMENT_PHONE}</p:text></p:cm></p:cmLst>",
        "ppt/commentAuthors.xml": f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:cmAuthorLst {_P}>'
                                  '<p:cmAuthor id="0" name="审稿人" initials="S" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>'})


def test_pptx_copy_keeps_format_and_leaves_nothing_readable(light):
    from pptx import Presentation
    data = _pptx()
    before = light.scan_bytes(data, "t.pptx")
    cats = {(f.category, f.layer) for f in before.findings}
    assert {("pii.phone", "body"), ("pii.email", "body"), ("pii.id_card", "note"), ("pii.phone", "hidden"),
            ("pii.phone", "comment")} <= cats, cats
    assert any(f.category == "marking.level" for f in before.findings)
    assert any((f.location or {}).get("member", "").startswith("ppt/embeddings/") for f in before.findings)
    red = redact_bytes(data, before)
    assert red.kind == "pptx" and red.count >= 6
    nothing_readable(red.data, SECRETS)
    members = every_member(red.data)
    assert not [n for n in members if n.startswith("ppt/embeddings/") or n.startswith("docProps/thumbnail")]
    assert b"oleObj" not in members["ppt/slides/slide1.xml"]

    prs = Presentation(io.BytesIO(red.data))                    # opens in an independent reader
    s1, s2 = prs.slides
    assert s1.shapes.title.text_frame.text == ""                # the mark is removed, not masked
    body = s1.placeholders[1].text_frame.paragraphs[0]
    assert [(r.text, r.font.bold) for r in body.runs] == [("联系电话 ", None), (BLOCK * 3, True),
                                                          (BLOCK * 8 + "，请回电。", None)]   # each run keeps its format
    texts = [sh.text_frame.text for sh in s1.shapes if sh.has_text_frame]
    assert "邮箱 " + BLOCK * len(EMAIL) in texts
    assert s1.notes_slide.notes_text_frame.text == "申请人身份证号 " + BLOCK * 18
    assert s2.shapes.title.text_frame.text == "备用手机 " + BLOCK * 11 and s2._element.get("show") == "0"
    assert prs.core_properties.author == "" and prs.core_properties.title == ""
    assert b"<p:cm " not in members["ppt/comments/comment1.xml"]

    after = light.scan_bytes(red.data, "r.pptx")
    assert after.errors == [] and remaining(after) == []
    assert not [f for f in after.findings if f.category in ("hidden.comment", "hidden.metadata")]


def test_pptx_keep_ends_mask(light):
    from pptx import Presentation
    data = _pptx()
    red = redact_bytes(data, light.scan_bytes(data, "t.pptx"), mode="keep-ends")
    s1 = Presentation(io.BytesIO(red.data)).slides[0]
    assert s1.placeholders[1].text_frame.text == "联系电话 138****5678，请回电。"
    assert remaining(light.scan_bytes(red.data, "r.pptx")) == []
