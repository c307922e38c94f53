"""Zip pre-flight before inflating anything (zip bombs, duplicates, overlaps, unsafe names).

Everything is read in memory; nothing is ever written to disk, so a traversal name cannot
escape, but such names (and symlinks) are still rejected: a legitimate document never has them.
"""
from __future__ import annotations

import io
import stat
import zipfile

from . import errors as E

MAX_MEMBERS = 5000
MAX_MEMBER_BYTES = 64 << 20          # one part inflated
MAX_TOTAL_BYTES = 512 << 20          # sum of declared sizes
# inflated / compressed: repetitive XML (big tables) legitimately reaches ~200:1, deflate's
# maximum is ~1030:1 (a zero-filled bomb); above RATIO_FLOOR a member may not exceed MAX_RATIO
MAX_RATIO = 500
RATIO_FLOOR = 8 << 20
BIG_MEMBER = 32 << 20                # above this, 100:1 is already suspicious
BIG_RATIO = 100


def open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise E.ExtractionFailed(E.corrupt("not a readable zip container"))
    try:
        preflight(zf)
    except BaseException:
        zf.close()
        raise
    return zf


def _unsafe_name(name: str) -> bool:
    if not name or "\x00" in name:
        return True
    n = name.replace("\\", "/")
    if n.startswith("/") or (len(n) > 1 and n[1] == ":"):
        return True
    return any(part == ".." for part in n.split("/"))


def preflight(zf: zipfile.ZipFile) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise E.ExtractionFailed(E.archive_too_many(f"{len(infos)} members > {MAX_MEMBERS}"))
    seen: set[str] = set()
    total = 0
    spans = []
    for info in infos:
        name = info.filename
        key = name.replace("\\", "/").lower()
        if key in seen:
            raise E.ExtractionFailed(E.archive_duplicate("duplicate member name"))
        seen.add(key)
        if _unsafe_name(name):
            raise E.ExtractionFailed(E.archive_unsafe_name("absolute or parent-relative member name"))
        mode = (info.external_attr >> 16) & 0xFFFF
        if mode and stat.S_ISLNK(mode):
            raise E.ExtractionFailed(E.archive_unsafe_name("symlink member"))
        if info.file_size > MAX_MEMBER_BYTES:
            raise E.ExtractionFailed(E.archive_bomb(f"member declares {info.file_size} bytes"))
        ratio = info.file_size / max(1, info.compress_size)
        if (info.file_size > RATIO_FLOOR and ratio > MAX_RATIO) or (info.file_size > BIG_MEMBER and ratio > BIG_RATIO):
            raise E.ExtractionFailed(E.archive_bomb("compression ratio above limit"))
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise E.ExtractionFailed(E.archive_bomb(f"members declare more than {MAX_TOTAL_BYTES} bytes"))
        spans.append((info.header_offset, info.header_offset + 30 + len(info.orig_filename.encode("utf-8", "replace"))
                       + info.compress_size))
    spans.sort()
    for (_a0, a1), (b0, _b1) in zip(spans, spans[1:]):
        if b0 < a1:   # two entries share bytes: the same data under two names (overlapping zip bomb)
            raise E.ExtractionFailed(E.archive_duplicate("overlapping members"))


def is_encrypted(info: zipfile.ZipInfo) -> bool:
    return bool(info.flag_bits & 0x1)


def read_member(zf: zipfile.ZipFile, name_or_info, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """Inflate one member with a hard cap (the declared size can lie)."""
    info = name_or_info if isinstance(name_or_info, zipfile.ZipInfo) else zf.getinfo(name_or_info)
    if is_encrypted(info):
        raise E.ExtractionFailed(E.encrypted())
    try:
        with zf.open(info) as fh:
            data = fh.read(limit + 1)
    except (zipfile.BadZipFile, zlib_error(), EOFError, OSError, NotImplementedError, ValueError):
        raise E.ExtractionFailed(E.corrupt("zip member not readable"))
    if len(data) > limit:
        raise E.ExtractionFailed(E.archive_bomb("member inflates beyond limit"))
    return data


def zlib_error():
    import zlib
    return zlib.error


def member_map(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    return {i.filename: i for i in zf.infolist()}


# -- gzip streams (.emz/.wmz pictures: a gzip'd EMF/WMF) ------------------------------------------
GZIP_MAGIC = b"\x1f\x8b"


def gzip_head(data: bytes, n: int = 1024) -> bytes:
    """The first `n` inflated bytes of a gzip stream (b"" when it is not one), for sniffing what
    it holds: the output is bounded; the input is not cut, since the header (an extra field, a file
    name) is the writer's to size and a cut one would hide the metafile behind it (zlib reads only
    as far as the first `n` bytes need)."""
    import zlib
    if not data.startswith(GZIP_MAGIC):
        return b""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, n)
    except zlib.error:
        return b""


def gunzip(data: bytes, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """A whole gzip stream inflated with the caps of one zip member (the stream declares no size we
    could check first): it is first measured in 1 MiB pieces that are dropped, so a bomb never holds
    more than a piece in memory; beyond `limit`, or beyond RATIO_FLOOR at more than MAX_RATIO (or
    beyond BIG_MEMBER at more than BIG_RATIO) times its compressed size -> archive_bomb; a broken or
    cut-off stream -> corrupt. Only then is it inflated for real, known to fit."""
    import zlib
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    size, rest, packed = 0, data, max(1, len(data))
    try:
        while not d.eof:
            piece = d.decompress(rest, 1 << 20)
            size += len(piece)
            if size > limit:
                raise E.ExtractionFailed(E.archive_bomb(f"gzip stream inflates beyond {limit} bytes"))
            if (size > RATIO_FLOOR and size / packed > MAX_RATIO) or (size > BIG_MEMBER and size / packed > BIG_RATIO):
                raise E.ExtractionFailed(E.archive_bomb("gzip compression ratio above limit"))
            rest = d.unconsumed_tail
            if not piece and not rest:
                break                        # all input read, no end of stream: cut off
    except zlib.error:
        raise E.ExtractionFailed(E.corrupt("gzip stream not readable"))
    if not d.eof:
        raise E.ExtractionFailed(E.corrupt("gzip stream cut off"))
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, limit)
