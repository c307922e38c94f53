"""Reviewer pages with OCR findings (issue 11): the box of a finding read from a picture is drawn on
the page image of a scanned PDF and on the uploaded picture itself, labelled 图片文字识别 with the
OCR confidence. Real uploads through the service, real OCR in the extraction child."""
from __future__ import annotations

import re

import pytest

from support.pictures import PRIVATE_MOBILE, encode, page, scanned_pdf
from test_web_pages import csrf_of, web_login
from support.service_helpers import running_service, wait_submission


@pytest.fixture
def svc(tmp_path):
    """The test service (rules-only scanner, in-process extraction) with OCR on (settings.ocr)."""
    with running_service(tmp_path, ocr=True) as s:
        s.user("alice", "author")
        s.user("bob", "author")
        yield s


def _upload(a, name: str, data: bytes, ctype: str) -> str:
    r = a.post("/new", data={"csrf_token": csrf_of(a), "title": "扫描件"}, files={"file": (name, data, ctype)},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"].split("/")[2].split("?")[0]


def _box(html: str, fid: int):
    m = re.search(r'data-fid="%d"><rect class="box-halo"[^>]*/><rect class="box c-\w+" x="([\d.-]+)" y="([\d.-]+)" '
                  r'width="([\d.-]+)" height="([\d.-]+)"><title>([^<]*)</title>' % fid, html)
    assert m, fid
    return [float(m.group(k)) for k in range(1, 5)], m.group(5)


@pytest.mark.parametrize("kind", ["pdf", "png"])
def test_ocr_finding_is_boxed_on_the_page_image_with_its_confidence(svc, kind):
    img = page(PRIVATE_MOBILE)
    data, name, ctype = ((scanned_pdf([img]), "scan.pdf", "application/pdf") if kind == "pdf"
                         else (encode(img), "scan.png", "image/png"))
    a = web_login(svc, "alice")
    sid = _upload(a, name, data, ctype)
    sub = wait_submission(svc.login("alice"), sid)
    phone = next(f for f in sub["report"]["findings"] if f["category"] == "pii.phone")
    assert phone["layer"] == "ocr" and sub["report"]["decision"] == "review"
    html = a.get(f"/s/{sid}").text
    assert '<figure class="pdfpage">' in html and "图片文字识别（置信度" in html
    (x, y, w, h), title = _box(html, phone["id"])
    assert "图片文字识别（置信度" in title
    # where the number was drawn: line 5 of the page (y = 160 + 4 * 90 px of 2339), right half of its line
    frame_h = 842.0 if kind == "pdf" else 600 * 2339 / 1654
    assert 0.20 < y / frame_h < 0.26 and w > 0 and h > 0
    png = a.get(f"/s/{sid}/v/1/page/1.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert web_login(svc, "bob").get(f"/s/{sid}/v/1/page/1.png").status_code == 403
