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


@pytest.mark.parametrize("isolated", ["always", "false"])
def test_job_status_reports_pages_ocrd_of_a_multi_page_scan(tmp_path, monkeypatch, isolated):
    """A multi-page scanned PDF through the job API: while it is OCR'd the job status says how
    many of its pages are read (increasing, out of the pages to read), in the sandboxed child
    (its progress lines on stderr) and in process; at the end 1.0 and every page."""
    import time

    from service import jobs
    from support.pictures import MARKED_NOTICE
    monkeypatch.setattr(jobs, "PROGRESS_EVERY_S", 0.0)        # every page written (default: one a second)
    pages = [page(PRIVATE_MOBILE), page(MARKED_NOTICE), page(PRIVATE_MOBILE), page(PRIVATE_MOBILE)]
    with running_service(tmp_path, ocr=True, isolated=isolated) as s:
        s.user("alice", "author")
        a = s.login("alice")
        r = a.post("/api/v1/scan?async=true", files={"file": ("scan.pdf", scanned_pdf(pages), "application/pdf")})
        assert r.status_code == 202, r.text
        url = f"/api/v1/jobs/{r.json()['job_id']}"
        seen = []
        t0 = time.time()
        while time.time() - t0 < 600:
            job = a.get(url).json()
            if job["status"] in ("done", "failed"):
                break
            if job["pages_done"] is not None:
                seen.append((job["pages_done"], job["pages_total"], job["progress"]))
            time.sleep(0.05)
        assert job["status"] == "done" and job["progress"] == 1.0
        assert job["pages_done"] == 4 and job["pages_total"] == 4
        done = [d for d, _t, _p in seen]
        assert len(set(done)) >= 2 and done == sorted(done), seen       # seen rising while running
        assert {t for _d, t, _p in seen} == {4} and all(0.1 < p < 1.0 for _d, _t, p in seen)
        assert a.get(job["report_url"]).json()["decision"] == "block"    # the mark on page 2 was read


@pytest.mark.parametrize("fmt,packed", [("emf", False), ("wmf", False), ("emf", True)])
def test_an_uploaded_metafile_gets_its_converted_picture_with_the_ocr_boxes(svc, fmt, packed):
    """An EMF/WMF upload (packed: gzip'd, an .emz): the scanner converts it with LibreOffice and OCRs
    the picture; the page draws that same picture (converted again in the render child, cached) with
    the finding's box, and the box covers ink on it: the phone number where it was drawn."""
    import gzip
    import io

    from PIL import Image

    from support.pictures import metafile
    data = metafile(["关于开展社区活动的通知", "联系人手机13812345678"], fmt)
    a = web_login(svc, "alice")
    sid = _upload(a, f"drawing.{fmt[0] + 'mz' if packed else fmt}", gzip.compress(data) if packed else data,
                  "application/octet-stream")
    sub = wait_submission(svc.login("alice"), sid)
    rep = sub["report"]
    assert rep["media_type"] == f"image/{fmt}"
    phone = next(f for f in rep["findings"] if f["category"] == "pii.phone")
    assert phone["layer"] == "ocr" and phone["location"]["converted"] == "metafile"
    html = a.get(f"/s/{sid}").text
    assert '<figure class="pdfpage">' in html and f'href="/s/{sid}/v/1/page/1.png"' in html
    (x, y, w, h), title = _box(html, phone["id"])
    assert "图片文字识别（置信度" in title
    r = a.get(f"/s/{sid}/v/1/page/1.png")
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    img = Image.open(io.BytesIO(r.content)).convert("L")
    size = phone["location"]["size"]
    assert list(img.size) == size                       # the very picture the boxes are in
    # the box (page units: 600 px wide frame) mapped back to the picture's pixels holds dark ink
    f = size[0] / 600
    crop = img.crop((int(x * f), int(y * f), int((x + w) * f), int((y + h) * f)))
    assert crop.getextrema()[0] < 100, crop.getextrema()
    # second line of the drawing, not the first
    assert y * f > size[1] * 0.4
    assert a.get(f"/s/{sid}/v/1/page/2.png").status_code == 404
    assert web_login(svc, "bob").get(f"/s/{sid}/v/1/page/1.png").status_code == 403
