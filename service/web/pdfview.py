"""PDF page images with boxes over the findings. Rendering and text search run in a child
process with limits (service.web.pdfrender); results are kept in a small in-memory cache only
(draft images never touch the disk)."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import OrderedDict
from pathlib import Path

from sqlalchemy import select

from scanner.extract.formats import EMF, WMF

from .. import workflow
from ..errors import err
from ..models import Version
from ..principal import Principal

_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = ("import runpy, sys; sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[:1]; "
         "runpy.run_module('service.web.pdfrender', run_name='__main__', alter_sys=True)")
_CACHE: OrderedDict[tuple, bytes | dict] = OrderedDict()
_LOCK = threading.Lock()
CACHE_MAX = 64
MAX_PAGES_SHOWN = 30


def _cached(key, make):
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    val = make()
    with _LOCK:
        _CACHE[key] = val
        while len(_CACHE) > CACHE_MAX:
            _CACHE.popitem(last=False)
    return val


def _child(cmd: dict, data: bytes, timeout: float = 30.0) -> bytes:
    try:
        # isolated mode, with this tree first on sys.path: the child runs the same code as the service
        r = subprocess.run([sys.executable, "-I", "-c", _BOOT, _ROOT], cwd=_ROOT,
                           input=json.dumps(cmd).encode() + b"\n" + data, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise err(503, "render_timeout", "页面图像生成超时。")
    if r.returncode != 0 or not r.stdout:
        raise err(422, "render_failed", "无法生成页面图像（文件无法解析或超出资源限制）。")
    return r.stdout


def _version_blob(st, sub_id: str, number: int) -> tuple[Version, bytes]:
    with st.db.read() as s:
        v = s.execute(select(Version).where(Version.submission_id == sub_id, Version.number == number)).scalar_one_or_none()
        if v is None:
            raise err(404, "version_not_found", "版本不存在。")
        if not is_drawable(v.media_type):
            raise err(404, "not_pdf", "该版本不是 PDF 文件或图片。")
        if v.purged_at is not None or not v.blob_id:
            raise err(410, "purged", "草稿已按保留期清除。")
        s.expunge(v)
    return v, st.blobs.get(v.blob_id)


def render_page(st, p: Principal, sub_id: str, number: int, page: int) -> bytes:
    with st.db.read() as s:
        workflow.load(s, p, sub_id)           # access check (authors: own submissions only)
    if not 1 <= page <= 5000:
        raise err(404, "page_not_found", "页码不存在。")
    v, data = _version_blob(st, sub_id, number)
    if v.media_type in METAFILE_TYPES:        # one picture: LibreOffice converts it (seconds), then cached
        if page != 1:
            raise err(404, "page_not_found", "页码不存在。")
        return _cached(("png", v.id, page), lambda: _child({"op": "metafile"}, data, timeout=METAFILE_TIMEOUT_S))
    op = "render" if v.media_type == "application/pdf" else "image"
    return _cached(("png", v.id, page), lambda: _child({"op": op, "page": page, "scale": 1.5}, data))


# pictures the reviewer page shows with their OCR boxes (SVG is text: shown as text, not drawn);
# EMF/WMF are drawn as the picture the scanner OCR'd (LibreOffice's conversion, rendered and cropped)
IMAGE_VIEW_W = 600
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/tiff", "image/bmp", "image/webp")
METAFILE_TYPES = (EMF, WMF)
PICTURE_TYPES = IMAGE_TYPES + METAFILE_TYPES
METAFILE_TIMEOUT_S = 90.0


def is_drawable(media_type: str) -> bool:
    return media_type == "application/pdf" or media_type in PICTURE_TYPES


def image_boxes(sub_id: str, number: int, findings: list[dict], segments: list[dict]) -> list[dict]:
    """An uploaded picture (each page of a TIFF) with the boxes of the findings on its OCR text,
    in the picture's own pixels (the OCR locator: box, size). No parsing here: the picture itself
    is drawn by the render child (`image_png`)."""
    pages: dict[int, dict] = {}
    for s in segments:
        loc = s.get("locator") or {}
        size = loc.get("size")
        if s.get("layer") == "ocr" and isinstance(size, list) and len(size) == 2 and not loc.get("image"):
            pages.setdefault(_page_no(loc), {"w": size[0], "h": size[1], "boxes": []})
    for f in findings:
        loc = f.get("location") or {}
        box = loc.get("box")
        if f.get("layer") != "ocr" or loc.get("image") or not (isinstance(box, list) and len(box) == 4):
            continue
        pg = pages.get(_page_no(loc))
        if pg is None or not all(isinstance(x, (int, float)) for x in box):
            continue
        pg["boxes"].append({"fid": int(f["id"]), "n": f.get("n"), "cat": f.get("cat", "other"), "x": box[0],
                            "y": box[1], "w": box[2] - box[0], "h": box[3] - box[1],
                            "conf": loc.get("confidence")})
    out = []
    for k in sorted(pages)[:MAX_PAGES_SHOWN]:
        pg = pages[k]
        if not pg["w"] or not pg["h"]:
            continue
        f = IMAGE_VIEW_W / pg["w"]          # drawn in a page-like frame, as PDF pages are (CSS sizes)
        boxes = [{**b, "x": round(b["x"] * f, 1), "y": round(b["y"] * f, 1), "w": round(b["w"] * f, 1),
                  "h": round(b["h"] * f, 1)} for b in pg["boxes"]]
        out.append({"page": k, "img_url": f"/s/{sub_id}/v/{number}/page/{k}.png", "w": IMAGE_VIEW_W,
                    "h": round(pg["h"] * f, 1), "boxes": boxes})
    return out


def _page_no(loc: dict) -> int:
    p = loc.get("page", 1)
    return p if isinstance(p, int) and p > 0 else 1


def page_boxes(st, sub_id: str, number: int, findings: list[dict], segments: list[dict]) -> list[dict]:
    """-> [{page, img_url, w, h, boxes: [{fid, n, cat, x, y, w, h}]}] for pages with findings (the
    first page too when there are none), in PDF points from the top left. Body findings are found
    by searching their text on the page (the child process); findings in hidden layers (text under
    a black box, invisible text) and on OCR text of a scanned page or a picture on it bring their
    own box (bbox, PDF points)."""
    v, data = _version_blob(st, sub_id, number)
    queries: dict[int, list] = {}
    meta = {}
    direct: dict[int, list] = {}          # hidden layers carry the box of their text (bbox, PDF points)
    for f in findings:
        loc = f.get("location") or {}
        page = loc.get("page") if isinstance(loc, dict) else None
        if not isinstance(page, int):
            continue
        bbox = loc.get("bbox")
        if f.get("layer") != "body" and isinstance(bbox, list) and len(bbox) == 4 \
                and all(isinstance(v, (int, float)) for v in bbox):
            queries.setdefault(page, [])
            direct.setdefault(page, []).append((f, bbox))
            continue
        if f.get("layer") != "body" or not f.get("placed"):
            continue
        key = f.get("match") or ""
        ordinal = _ordinal(f, segments, page)
        queries.setdefault(page, []).append([int(f["id"]), key, ordinal])
        meta[int(f["id"])] = f
    if not queries:
        queries = {1: []}
    pages = sorted(queries)[:MAX_PAGES_SHOWN]
    q = {str(k): queries[k] for k in pages}
    res = _cached(("boxes", v.id, json.dumps(q, sort_keys=True)),
                  lambda: json.loads(_child({"op": "boxes", "queries": q}, data)))
    out = []
    for k in pages:
        pg = res["pages"].get(str(k))
        if not pg:
            continue
        w, h = pg["w"], pg["h"]
        boxes = []
        for fid, rects in pg["boxes"]:
            f = meta.get(fid, {})
            for x, y, bw, bh in rects:
                boxes.append({"fid": fid, "n": f.get("n"), "cat": f.get("cat", "other"),
                              "x": round(x * w, 1), "y": round(y * h, 1), "w": round(bw * w, 1), "h": round(bh * h, 1)})
        for f, (left, bottom, right, top) in direct.get(k, []):
            conf = (f.get("location") or {}).get("confidence") if f.get("layer") == "ocr" else None
            boxes.append({"fid": int(f["id"]), "n": f.get("n"), "cat": f.get("cat", "other"), "x": round(left, 1),
                          "y": round(h - top, 1), "w": round(right - left, 1), "h": round(top - bottom, 1),
                          "conf": conf})
        out.append({"page": k, "img_url": f"/s/{sub_id}/v/{number}/page/{k}.png", "w": round(w, 1), "h": round(h, 1),
                    "boxes": boxes})
    return out


def _ordinal(f: dict, segments: list[dict], page: int) -> int:
    """Which occurrence of the matched text on its page this finding is (pdfium searches the
    whole page): occurrences in earlier lines of the same page plus those before it in its line."""
    key = f.get("match") or ""
    if not key:
        return 0
    n = 0
    for s in segments:
        loc = s.get("locator") or {}
        if s.get("layer") != "body" or loc.get("page") != page:
            continue
        if s["id"] == f.get("segment_id"):
            return n + s["text"][:f["start"]].count(key)
        n += s["text"].count(key)
    return n
