"""The confidence rule's set-aside (scanner/extract/ocr.py, "Set aside"), on pictures drawn here with
the bundled CJK font and read by the real engine: a screenshot whose title bar and menu are small
print the recogniser cannot read, beside its well-read content, is read (the unsure lines are
counted, not weighed); a picture whose own print is unsure stays extract.ocr_low_confidence: a
notice in small print under a large title, a notice whose body is blurred, a low-resolution photo of
a notice, a rotated low-resolution scan."""
from __future__ import annotations

import io

import pytest

from scanner.engine import Scanner
from scanner.extract import extract_bytes
from scanner.extract.ocr import (LOW_CONFIDENCE, SMALL_PRINT_PX, OcrLine, OcrResult, recognize, text_like)
from support.pictures import CLEAN_NOTICE, docx_with_picture, encode, font, page


def _jpeg(img, quality: int):
    from PIL import Image
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _resampled(img, f: float):
    """Down to `f` of its size and back: the detail a shrunk screenshot has lost."""
    from PIL import Image
    w, h = img.size
    return img.resize((int(w * f), int(h * f)), Image.BILINEAR).resize((w, h), Image.BILINEAR)


def screenshot():
    """A document reader's window, shrunk and saved as JPEG (as pasted into a manual): a 9 px title
    bar and menu, a toolbar of icons, a sidebar, and the page it shows with 000001 and 特急."""
    from PIL import Image, ImageDraw
    W, H = 1078, 273
    img = Image.new("RGB", (W, H), (255, 255, 255))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, W, 14), fill=(40, 90, 170))
    d.text((20, 2), "文档-图形-图像-10页(1).ofd - 阅读器", font=font(9), fill=(255, 255, 255))
    d.rectangle((0, 14, W, 28), fill=(235, 235, 235))
    d.text((4, 16), "文件(F)  编辑(E)  文档(D)  视图(V)  工具(T)  窗口(W)  帮助(H)", font=font(9), fill=(0, 0, 0))
    d.rectangle((0, 28, W, 52), fill=(215, 228, 245))
    x = 8
    d.rectangle((x, 32, x + 18, 50), fill=(30, 90, 160))                       # save
    d.rectangle((x + 4, 32, x + 14, 38), fill=(230, 230, 230))
    x += 40
    d.polygon([(x, 44), (x + 9, 34), (x + 18, 44)], fill=(40, 120, 210))      # page up
    d.rectangle((x + 6, 44, x + 12, 50), fill=(40, 120, 210))
    x += 40
    d.polygon([(x, 38), (x + 9, 48), (x + 18, 38)], fill=(40, 120, 210))      # page down
    x += 40
    d.ellipse((x, 32, x + 13, 45), outline=(80, 80, 80), width=2)              # find
    d.line((x + 11, 43, x + 18, 50), fill=(80, 80, 80), width=3)
    x += 40
    d.rectangle((x, 33, x + 18, 49), outline=(80, 80, 80), width=1)            # zoom out
    d.line((x + 3, 41, x + 15, 41), fill=(80, 80, 80), width=2)
    d.rectangle((0, 52, 36, H), fill=(235, 235, 235))
    d.rectangle((40, 56, W - 20, H), outline=(210, 40, 40), width=2)
    d.text((175, 110), "000001", font=font(28), fill=(0, 0, 0))
    d.text((175, 170), "特急", font=font(34), fill=(0, 0, 0))
    return _jpeg(_resampled(img, 0.7), 50)


def small_print_notice(shrink: float):
    """A notice: its title in 36 px, its body in 9 px, shrunk and saved as JPEG."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (900, 420), (255, 255, 255))
    d = ImageDraw.Draw(img)
    d.text((60, 30), CLEAN_NOTICE[0], font=font(36), fill=(0, 0, 0))
    for i, line in enumerate(CLEAN_NOTICE[1:]):
        d.text((60, 100 + i * 16), line, font=font(9), fill=(0, 0, 0))
    return _jpeg(_resampled(img, shrink), 50)


def blurred_body():
    """A photo of a notice whose title is sharp and whose body is out of focus."""
    from PIL import ImageDraw, ImageFilter
    img = page(CLEAN_NOTICE[1:], size=(1654, 1100), px=34, top=200, step=80).filter(ImageFilter.GaussianBlur(5))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 1654, 180), fill=(255, 255, 255))
    d.text((150, 60), CLEAN_NOTICE[0], font=font(60), fill=(0, 0, 0))
    return img


def low_resolution_photo():
    """A notice photographed from afar: 198 x 132 px, JPEG."""
    from PIL import Image, ImageFilter
    img = page(CLEAN_NOTICE, size=(1654, 1100), px=40, top=60, step=100)
    return _jpeg(img.resize((198, 132), Image.BILINEAR).filter(ImageFilter.GaussianBlur(0.5)), 60)


def rotated_scan():
    """A notice scanned 8 degrees askew at low resolution, JPEG."""
    from PIL import Image, ImageFilter
    img = page(CLEAN_NOTICE, size=(1654, 1100), px=40, top=60, step=100)
    img = img.rotate(8, fillcolor=(255, 255, 255), resample=Image.BICUBIC)
    return _jpeg(img.resize((413, 275), Image.BILINEAR).filter(ImageFilter.GaussianBlur(1.2)), 40)


def _unsure_with_everything(res: OcrResult) -> bool:
    """The rule without the set-aside: all text-like lines weighed."""
    return OcrResult._unsure([ln for ln in res.lines if text_like(ln.text)])


def test_a_screenshot_s_unreadable_title_bar_and_menu_are_set_aside_and_it_passes(full):
    img = screenshot()
    res = recognize(img)
    texts = [ln.text for ln in res.lines]
    assert "000001" in texts and "特急" in texts
    marks, small = res.set_aside()
    # the title bar and menu were found and read unsure, in lines thinner than SMALL_PRINT_PX: weighed
    # with the rest (the rule before the set-aside) they make the picture unsure
    assert small and all(ln.confidence < LOW_CONFIDENCE and min(ln.box[2] - ln.box[0], ln.box[3] - ln.box[1])
                         < SMALL_PRINT_PX for ln in small)
    assert _unsure_with_everything(res)
    assert not res.low_confidence and res.text_confidence > 0.95
    doc = extract_bytes(encode(img), "window.png")
    assert doc.errors == [] and doc.meta["ocr_set_aside"]["small_print"] == len(small)
    rep = full.scan_bytes(docx_with_picture(CLEAN_NOTICE[:3], encode(img)), "manual.docx")
    assert rep.errors == [] and rep.decision == "pass", (rep.errors, rep.decision_reasons)


@pytest.mark.parametrize("make", [lambda: small_print_notice(0.7), lambda: small_print_notice(0.6), blurred_body,
                                  low_resolution_photo, rotated_scan],
                         ids=["small-print-notice", "smaller-print-notice", "blurred-body", "low-resolution-photo",
                              "rotated-low-resolution-scan"])
def test_a_picture_whose_own_print_is_unsure_stays_low_confidence(make, full):
    img = make()
    res = recognize(img)
    assert res.low_confidence
    doc = extract_bytes(encode(img), "notice.png")
    err = [e for e in doc.errors if e.code == "extract.ocr_low_confidence"]
    assert len(err) == 1 and "unsure regions (px): image [" in err[0].detail, doc.errors
    assert Scanner().scan_document(doc).decision == "review"


def test_where_the_unsure_regions_are_is_in_the_error_detail():
    """The boxes of the weighed lines read unsure, in the picture's pixels (no text), at most 12."""
    img = blurred_body()
    res = recognize(img)
    unsure = res.unsure_lines()
    assert unsure and all(ln.confidence < LOW_CONFIDENCE for ln in unsure)
    doc = extract_bytes(encode(img), "notice.png")
    detail = next(e.detail for e in doc.errors if e.code == "extract.ocr_low_confidence")
    assert str(list(unsure[0].box)) in detail
    for ln in res.lines:
        if len(ln.text) > 2:
            assert ln.text not in detail


def _lines(*specs, size=(1078, 273)):
    return OcrResult([OcrLine(t, c, box) for t, c, box in specs], size[0], size[1], 0.0)


def test_the_set_aside_rule_on_lines_as_the_engine_read_them():
    """Lines as the engine returned them on real pictures (text, confidence, box)."""
    # a reader's screenshot (an OFD manual): title bar and menu in 10 px lines, icons read as Qa← and
    # 中品 (a column of sidebar icons), and the page it shows read at 1.0
    shot = [("义-可形-回条-10可cf-数间", 0.588, (11, 2, 152, 12)), ("交文图）T食口助H", 0.659, (4, 17, 218, 27)),
            ("1+", 0.561, (54, 35, 114, 46)), ("Qa←", 0.558, (233, 32, 308, 49)), ("1/3L", 0.454, (311, 36, 326, 46)),
            ("中品", 0.192, (3, 98, 18, 168)), ("000001", 1.0, (174, 119, 253, 144)), ("特急", 1.0, (171, 172, 229, 209))]
    res = _lines(*shot)
    marks, small = res.set_aside()
    assert [ln.text for ln in marks] == ["Qa←", "中品"] and len(small) == 3
    assert not res.low_confidence and _unsure_with_everything(res)
    # the same without the well-read page (under READ_CHARS of main print): nothing set aside, unsure
    assert _lines(*shot[:6]).set_aside() == ([], []) and _lines(*shot[:6]).low_confidence
    # a fourth unsure line of small print is the picture's own print: weighed, unsure
    more = _lines(*shot, ("帮口T食", 0.6, (4, 240, 218, 250)))
    assert more.set_aside()[1] == [] and more.low_confidence
    # small print not much thinner than the main print is the page's print, not a label
    body = _lines(("关于做好春节期间安全生产工作的通知", 0.99, (60, 30, 700, 63)),
                  ("各区人民政府，市政府各都门", 0.80, (60, 100, 300, 113)),
                  ("为实做好香节期可安金生严工作，租持有关等项通知加下。", 0.67, (60, 116, 500, 127)),
                  ("一、各导位要加错的证值守、严幕革实带在制。", 0.63, (60, 132, 450, 143)),
                  ("二、发注安全稳惠课页利间属地应助管便前门洋售。", 0.51, (60, 148, 470, 159)),
                  ("市应急管潭局", 0.73, (60, 180, 160, 193)),
                  ("市民服务热线：12345", 0.93, (60, 196, 250, 209)), size=(900, 420))
    assert body.set_aside() == ([], []) and body.low_confidence
    # more than MARK_LINES short unsure regions are text broken into pieces, not icons
    pieces = _lines(("关于召开工作会议的通知", 0.99, (0, 0, 500, 40)),
                    *((w, 0.3, (0, 60 + 40 * k, 60, 90 + 40 * k)) for k, w in enumerate(("召开", "会议", "各单", "位于"))))
    assert pieces.set_aside() == ([], []) and pieces.low_confidence
    # an icon read as T4 beside a two-character mark (under READ_CHARS): still unsure
    assert _lines(("T4", 0.481, (0, 0, 30, 30)), ("绝密", 0.999, (40, 0, 100, 30))).low_confidence
