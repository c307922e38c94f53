""".emz/.wmz pictures (a gzip'd EMF/WMF, as Office stores pasted drawings) on real files: a drawing
made by LibreOffice, gzip'd. Recognised by content (the gzip magic and a metafile header inside,
whatever the name), inflated within one zip member's limit, then converted and OCR'd like any
EMF/WMF; a decompression bomb or a cut-off stream fails closed with the stable codes of the other
size and corruption errors, in bounded time and memory."""
from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib

import pytest

from scanner.extract import formats
from scanner.extract.sniff import sniff_media_type
from scanner.errors import ExtractionFailed
from scanner.extract.zipsafe import MAX_MEMBER_BYTES, MAX_RATIO, RATIO_FLOOR, gunzip
from support.pictures import docx_with_picture, encode, metafile, page, with_metafile

slow = pytest.mark.slow                   # real LibreOffice conversions and OCR

MARKED = ["秘密★5年", "关于召开安全生产工作会议的通知"]
BODY = ["关于举办读书月活动的通知", "市图书馆将举办系列讲座，欢迎参加。"]
BOMB_ZH = "压缩包或文档解压后体积过大（疑似压缩炸弹），未予解压，需人工审查。"


@pytest.fixture(scope="module")
def scanners(full, light):
    """The full scanner (OCR on) and the light one (no OCR)."""
    return full, light


@pytest.fixture(scope="module")
def drawings():
    return {fmt: metafile(MARKED, fmt) for fmt in ("emf", "wmf")}


def _bomb(header: bytes, size: int) -> bytes:
    """A gzip stream of a metafile header followed by `size` zero bytes, compressed piecewise (the
    test never holds the inflated bytes)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts, chunk = [z.compress(header)], bytes(1 << 20)
    for _ in range(size >> 20):
        parts.append(z.compress(chunk))
    parts.append(z.flush())
    return b"".join(parts)


def _code(data: bytes, **kw) -> str:
    with pytest.raises(ExtractionFailed) as exc:
        gunzip(data, **kw)
    return exc.value.error.code


def test_gunzip_inflates_a_stream_within_the_caps_and_refuses_beyond_them():
    """zipsafe.gunzip: the bytes of a normal stream back; a stream inflating beyond the size cap, or
    beyond RATIO_FLOOR at a ratio above MAX_RATIO, is archive_bomb (measured in pieces, never held
    whole); broken, cut-off or not-gzip data is corrupt."""
    text = "".join(f"第{i}行，随机内容{i * 7919 % 10007}。" for i in range(5000)).encode()
    assert gunzip(gzip.compress(text)) == text
    assert gunzip(gzip.compress(text), limit=len(text)) == text          # exactly at the cap: fits
    assert _code(gzip.compress(text), limit=len(text) - 1) == "extract.archive_bomb"
    zeros = _bomb(b"", RATIO_FLOOR + (2 << 20))                          # ~1000:1, below the size cap
    assert RATIO_FLOOR + (2 << 20) < MAX_MEMBER_BYTES and (RATIO_FLOOR + (2 << 20)) / len(zeros) > MAX_RATIO
    assert _code(zeros) == "extract.archive_bomb"
    assert gunzip(_bomb(b"", RATIO_FLOOR - (1 << 20))) == bytes(RATIO_FLOOR - (1 << 20))   # below the floor: any ratio
    assert _code(gzip.compress(text)[:-100]) == "extract.corrupt"
    broken = bytearray(gzip.compress(text))
    broken[len(broken) // 2:len(broken) // 2 + 16] = bytes(16)
    assert _code(bytes(broken)) == "extract.corrupt"
    assert _code(b"\x1f\x8b not really gzip") == "extract.corrupt"


@slow
@pytest.mark.parametrize("fmt", ["emf", "wmf"])
def test_an_uploaded_emz_or_wmz_is_recognised_converted_and_read(fmt, scanners, drawings):
    full, light = scanners
    packed = gzip.compress(drawings[fmt])
    want = {"emf": formats.EMF, "wmf": formats.WMF}[fmt]
    for name in (f"drawing.{fmt[0]}mz", "upload.bin", "noname"):
        assert sniff_media_type(packed, name) == want, name            # by content, not by name
    assert sniff_media_type(gzip.compress(b"just some text " * 20), "x.emz") == formats.BINARY
    rep = full.scan_bytes(packed, f"drawing.{fmt[0]}mz")
    assert rep.decision == "block" and rep.errors == [], rep.errors
    mark = next(f for f in rep.findings if f.category == "marking.level")
    assert mark.layer == "ocr" and mark.location["converted"] == "metafile" and mark.location["page"] == 1
    lrep = light.scan_bytes(packed, f"drawing.{fmt[0]}mz")     # no OCR in light mode: review, never pass
    assert lrep.decision == "review" and {e.code for e in lrep.errors} == {"extract.ocr_unavailable"}


@slow
def test_an_emz_embedded_in_a_docx_is_read(scanners, drawings):
    """Office stores a pasted drawing as word/media/imageN.emz: its text is read by OCR."""
    full = scanners[0]
    base = docx_with_picture(BODY, encode(page(["占位图片"], size=(600, 300))))
    data = with_metafile(base, gzip.compress(drawings["emf"]), "emz")
    rep = full.scan_bytes(data, "draft.docx")
    assert rep.decision == "block" and rep.errors == [], rep.errors
    mark = next(f for f in rep.findings if f.category == "marking.level")
    assert mark.layer == "ocr" and mark.location["image"].endswith(".emz")


@slow
def test_a_gzip_bomb_fails_closed_with_the_size_limit_error(scanners, drawings):
    """An .emz whose stream inflates to 4x the member limit (a ~300 KB file): extract.archive_bomb
    with its Chinese message, decision review, well within a few seconds and without holding more
    than the limit in memory; the same bomb inside a docx; a cut-off stream is corrupt."""
    light = scanners[1]
    bomb = _bomb(drawings["emf"][:1024], 4 * MAX_MEMBER_BYTES)
    assert len(bomb) < 1 << 20 and sniff_media_type(bomb, "x.bin") == formats.EMF
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        rep = light.scan_bytes(bomb, "drawing.emz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - t0 < 15
    assert peak < MAX_MEMBER_BYTES + (16 << 20), peak
    assert rep.decision == "review" and [(e.code, e.message) for e in rep.errors] == [("extract.archive_bomb", BOMB_ZH)]

    base = docx_with_picture(BODY, encode(page(["占位图片"], size=(600, 300))))
    drep = light.scan_bytes(with_metafile(base, bomb, "emz"), "draft.docx")
    assert drep.decision == "review" and "extract.archive_bomb" in {e.code for e in drep.errors}, drep.errors

    cut = gzip.compress(drawings["wmf"])[:-200]
    crep = light.scan_bytes(cut, "drawing.wmz")
    assert crep.decision == "review" and {e.code for e in crep.errors} == {"extract.corrupt"}, crep.errors


def _gzip_with_long_header(payload: bytes, name_len: int) -> bytes:
    """A valid gzip member whose header carries an FEXTRA field of 64 KiB and a file name of
    `name_len` bytes (RFC 1952 allows both; Python's gzip module reads it)."""
    import struct
    flags = 0x04 | 0x08                                    # FEXTRA | FNAME
    head = b"\x1f\x8b\x08" + bytes([flags]) + bytes(4) + b"\x00\xff"
    extra = b"XX" + struct.pack("<H", 65531) + bytes(65531)
    head += struct.pack("<H", len(extra)) + extra + b"n" * name_len + b"\x00"
    z = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = z.compress(payload) + z.flush()
    return head + body + struct.pack("<II", zlib.crc32(payload), len(payload) & 0xFFFFFFFF)


def test_a_gzip_metafile_with_a_long_header_is_still_recognised():
    """The gzip header is the writer's to size (an extra field, a file name): a metafile behind one
    longer than the sniffing window is still an EMF/WMF (read, or refused with a stable code), never
    an unknown blob that read_embedded skips as drawing nothing."""
    from scanner.extract.image import unpack_metafile
    from scanner.extract.sniff import metafile_kind
    emf = b"\x01\x00\x00\x00" + bytes(36) + b" EMF" + bytes(64)
    data = _gzip_with_long_header(emf, 200_000)
    assert gzip.decompress(data) == emf                    # a valid stream
    assert metafile_kind(data) == formats.EMF
    assert unpack_metafile(data) == emf
    assert sniff_media_type(data, "image1.emz") == formats.EMF
