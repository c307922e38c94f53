"""Hostile pictures (issue 11), made here, through the isolated extractor as the service runs it:
decompression bombs, huge dimensions, truncated and corrupt files, a TIFF with 1,000 pages, SVG
with external references (never fetched) and entity bombs. Each ends with a stable error code
within the sandbox's limits (no timeout, no resource-limit kill), and the scan is never a pass."""
from __future__ import annotations

import io
import struct
import zlib

import pytest

from scanner import get_scanner
from scanner.config import SandboxLimits
from scanner.extract.isolated import extract_isolated
from support.pictures import CLEAN_NOTICE, encode, page

LIMITS = SandboxLimits(mem_mb=1536, cpu_s=60, wall_s=120)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(w: int, h: int) -> bytes:
    """A valid PNG header for a w x h greyscale picture whose pixel data is a few KB of zlib zeros."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    z = zlib.compressobj(9)
    row = b"\x00" * (w + 1)
    body = b"".join(z.compress(row) for _ in range(min(h, 64))) + z.flush()
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def gif_huge() -> bytes:
    """A GIF whose logical screen and only frame claim 65535 x 65535 pixels."""
    head = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0, 0, 0)
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0) + b"\x02\x02\x44\x01\x00"
    return head + frame + b"\x3b"


def tiff_1000_pages() -> bytes:
    from PIL import Image
    frames = [Image.new("L", (48, 48), 255 - (k % 2)) for k in range(1000)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


SECRET_FILE_TEXT = "baomi-local-file-never-read"

SVG_EXTERNAL = """<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="400" height="200">
  <title>公开图示</title>
  <image x="0" y="0" width="400" height="200" xlink:href="http://127.0.0.1:9/scan.png"/>
  <image x="0" y="0" width="10" height="10" href="file://{path}"/>
  <use href="https://example.invalid/defs.svg#mark"/>
  <text x="10" y="20">关于召开会议的通知</text>
</svg>"""

SVG_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY a "秘密秘密秘密秘密"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&c;</text></svg>"""


def _truncated_png() -> bytes:
    data = encode(page(CLEAN_NOTICE, size=(800, 600), px=24, top=20, step=40))
    return data[: len(data) // 2]


def _truncated_jpeg() -> bytes:
    data = encode(page(CLEAN_NOTICE, size=(800, 600), px=24, top=20, step=40), "JPEG", quality=80)
    return data[: len(data) // 3]


CASES = {
    "bomb_100k.png": (lambda: png_bomb(100_000, 100_000), "extract.image_unreadable"),
    "bomb_12k.png": (lambda: png_bomb(12_000, 12_000), "extract.image_unreadable"),      # 144 M pixels
    "huge.gif": (gif_huge, "extract.image_unreadable"),
    "truncated.png": (_truncated_png, "extract.image_unreadable"),
    "truncated.jpg": (_truncated_jpeg, "extract.image_unreadable"),
    "corrupt.png": (lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16, "extract.image_unreadable"),
    "pages_1000.tif": (tiff_1000_pages, "extract.truncated"),
    "laughs.svg": (lambda: SVG_LAUGHS.encode(), "extract.dtd_forbidden"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_picture_gets_a_stable_code(name, tmp_path):
    make, code = CASES[name]
    p = tmp_path / name
    p.write_bytes(make())
    doc = extract_isolated(p, source=name, limits=LIMITS)
    codes = [e.code for e in doc.errors]
    assert code in codes, codes
    assert not {"extract.timeout", "extract.resource_limit", "extract.parser_crash"} & set(codes), codes
    assert doc.meta.get("child_max_rss_mb", 0) < 1200, doc.meta
    assert get_scanner(light=True).scan_document(doc).decision != "pass"


def test_svg_external_references_are_never_fetched(tmp_path):
    local = tmp_path / "local.txt"
    local.write_text(SECRET_FILE_TEXT)
    p = tmp_path / "figure.svg"
    p.write_text(SVG_EXTERNAL.replace("{path}", str(local)), encoding="utf-8")
    doc = extract_isolated(p, source="figure.svg", limits=LIMITS)
    assert doc.media_type == "image/svg+xml"
    texts = [s.text for s in doc.segments]
    assert "关于召开会议的通知" in texts and "公开图示" in texts
    assert not any(SECRET_FILE_TEXT in t for t in texts)                 # file:// not read
    refs = [s.text for s in doc.segments if s.locator.get("field") == "external_reference"]
    assert "http://127.0.0.1:9/scan.png" in refs and len(refs) == 3      # listed for the reviewer
    err = [e for e in doc.errors if e.code == "extract.image_unreadable"]
    assert len(err) == 1 and "external reference" in err[0].detail
    assert get_scanner(light=True).scan_document(doc).decision == "review"
