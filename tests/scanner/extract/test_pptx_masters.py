"""Slide masters and layouts (issue 16: inspect what readers don't see), on decks built with
python-pptx: a text box on a layout or master shows on every slide using it (body, a mark there is
a mark); on a layout no visible slide uses it is hidden template furniture (low); the prompt text
of the masters' placeholders ("Click to edit Master title style") is read but is not content."""
from __future__ import annotations

import io

from pptx import Presentation
from pptx.util import Inches

from scanner.extract import extract_bytes
from scanner.redact.pptx import redact_pptx
from tests.support.zipread import nothing_readable


def _deck():
    prs = Presentation()
    s1 = prs.slides.add_slide(prs.slide_layouts[1])        # Title and Content
    s1.shapes.title.text = "年度工作总结"
    s1.placeholders[1].text = "完成了各项任务"
    s2 = prs.slides.add_slide(prs.slide_layouts[1])
    s2.shapes.title.text = "下一步计划"
    return prs


def _text_box(prs, target, text: str) -> None:
    """A text box on a layout or master: python-pptx adds shapes to slides only, so the box is made
    on a scratch slide and moved into the target's shape tree (the scratch slide is dropped)."""
    tmp = prs.slides.add_slide(prs.slide_layouts[6])
    box = tmp.shapes.add_textbox(Inches(1), Inches(6.8), Inches(6), Inches(0.5))
    box.text_frame.text = text
    target.shapes._spTree.append(box._element)
    rid = next(r for r, rel in prs.part.rels.items() if rel.target_part is tmp.part)
    ids = prs.slides._sldIdLst
    ids.remove(next(s for s in ids if s.rId == rid))
    prs.part.drop_rel(rid)


def _save(prs) -> bytes:
    b = io.BytesIO()
    prs.save(b)
    return b.getvalue()


def _seg(doc, text):
    return next(s for s in doc.segments if s.text == text)


def test_text_on_a_used_layout_and_master_shows_on_the_slides_and_a_mark_there_is_found(light_scanner):
    prs = _deck()
    _text_box(prs, prs.slide_layouts[1], "内部资料")
    _text_box(prs, prs.slide_master, "Micron Confidential")
    data = _save(prs)
    doc = extract_bytes(data, "t.pptx")
    banner, label = _seg(doc, "内部资料"), _seg(doc, "Micron Confidential")
    assert (banner.layer, banner.locator["kind"], banner.locator["slides"]) == ("body", "slide_layout", [1, 2])
    assert (label.layer, label.locator["kind"], label.locator["slide"]) == ("body", "slide_master", 1)
    report = light_scanner.scan_document(doc)
    internal = [f for f in report.findings if f.category == "marking.internal"]
    assert len(internal) == 1 and internal[0].severity == "high" and "position:master" in internal[0].evidence
    assert "每张幻灯片上都显示" in internal[0].explanation
    english = [f for f in report.findings if f.rule_id.endswith(".english.v1")]
    assert len(english) == 1 and english[0].text == "Micron Confidential"
    assert report.decision != "pass"
    # the redacted deck no longer carries either mark (the master and layout parts are edited too)
    nothing_readable(redact_pptx(data, internal + english), ["内部资料", "Micron Confidential"])


def test_placeholder_prompts_of_masters_and_layouts_are_read_but_not_findings(light_scanner):
    doc = extract_bytes(_save(_deck()), "t.pptx")
    prompts = [s for s in doc.segments if s.locator.get("kind") == "placeholder_prompt"]
    texts = {s.text for s in prompts}
    assert {"Click to edit Master title style", "Second level"} <= texts
    assert len(prompts) == len(texts)           # each distinct prompt once, not once per layout
    report = light_scanner.scan_document(doc)
    on_prompts = {s.id for s in prompts}
    assert not [f for f in report.findings if f.segment_id in on_prompts]
    assert report.decision == "pass"


def test_a_mark_typed_into_a_layout_placeholder_is_still_found(light_scanner):
    """A prompt is not content, but the detectors still read it: a mark there is in the file."""
    prs = _deck()
    prs.slide_layouts[1].placeholders[0].text_frame.text = "秘密★1年"
    report = light_scanner.scan_document(extract_bytes(_save(prs), "t.pptx"))
    mark = [f for f in report.findings if f.category == "marking.level"]
    assert len(mark) == 1 and mark[0].layer == "hidden" and mark[0].severity == "critical"
    assert not [f for f in report.findings if f.category == "hidden.text"]


def test_text_on_a_layout_no_visible_slide_uses_is_hidden_template_furniture(light_scanner):
    prs = _deck()
    _text_box(prs, prs.slide_layouts[5], "PPT模板下载：www.1ppt.com/moban/")
    hidden_slide = prs.slides.add_slide(prs.slide_layouts[3])
    hidden_slide.shapes.title.text = "备用页"
    hidden_slide._element.set("show", "0")
    _text_box(prs, prs.slide_layouts[3], "模板设计：某某工作室")
    doc = extract_bytes(_save(prs), "t.pptx")
    unused, only_hidden = _seg(doc, "PPT模板下载：www.1ppt.com/moban/"), _seg(doc, "模板设计：某某工作室")
    assert (unused.layer, unused.locator["kind"], unused.locator["why"]) == ("hidden", "unused_layout", "unused")
    assert (only_hidden.layer, only_hidden.locator["why"]) == ("hidden", "hidden_slides")
    report = light_scanner.scan_document(doc)
    template = [f for f in report.findings if f.category == "hidden.text" and f.location.get("kind") == "unused_layout"]
    assert len(template) == 2 and {f.severity for f in template} == {"low"}
    assert any("没有任何可见幻灯片使用的版式" in f.explanation for f in template)
    assert any("只有隐藏幻灯片使用的版式" in f.explanation for f in template)
    # the hidden slide's own text is still a hidden-slide finding that decides
    assert any(f.text == "备用页" and f.severity == "medium" for f in report.findings)


def test_a_slide_that_hides_background_graphics_does_not_show_its_masters_text(light_scanner):
    prs = _deck()
    _text_box(prs, prs.slide_master, "内部资料，注意保密")
    for s in prs.slides:
        s._element.set("showMasterSp", "0")
    doc = extract_bytes(_save(prs), "t.pptx")
    seg = _seg(doc, "内部资料，注意保密")
    assert (seg.layer, seg.locator["kind"], seg.locator["why"]) == ("hidden", "unused_master", "shapes_off")
    report = light_scanner.scan_document(doc)
    internal = [f for f in report.findings if f.category == "marking.internal"]
    # the mark is still a mark, and its finding says no visible slide shows the master
    assert internal and all("没有可见幻灯片使用的母版或版式" in f.explanation for f in internal)
    assert all("undisplayed:master" in f.evidence for f in internal)


def test_a_notes_master_text_box_is_read():
    prs = _deck()
    prs.slides[0].notes_slide.notes_text_frame.text = "讲稿"
    _text_box(prs, prs.notes_master, "某某公司内部培训讲义")
    doc = extract_bytes(_save(prs), "t.pptx")
    seg = _seg(doc, "某某公司内部培训讲义")
    assert (seg.layer, seg.locator["kind"]) == ("hidden", "notes_master")
