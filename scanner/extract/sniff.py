"""Media type by content (magic bytes), with the file name only as a tie-breaker. The magic bytes,
package parts and extensions come from the formats table (formats.FORMATS)."""
from __future__ import annotations

import io
import re
import zipfile

from .formats import BINARY, BMP, EMF, FORMATS, HTML, SVG, TEXT, WEBP, WMF, ZIP, by_extension, get
from .zipsafe import GZIP_MAGIC, gzip_head

_MAGIC = [f for f in FORMATS if f.magic]
_PACKAGES = [f for f in FORMATS if f.zip_part]
_OOXML = [f for f in _PACKAGES if f.content_type]
_HTML_EXT = get(HTML).extensions


def _text_with_nuls(data: bytes) -> bool:
    """A text file with stray NUL bytes (few, otherwise valid UTF-8)."""
    sample = data[: 1 << 16]
    nul = sample.count(0)
    if nul > len(sample) // 4:
        return False
    try:
        sample.replace(b"\x00", b"").decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(sample) - 4      # cut in the middle of a character
    return True


def _zip_kind(data: bytes, name: str = "") -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except Exception:
        return ZIP
    claimed = by_extension(name)
    if "[Content_Types].xml" in names and claimed in _PACKAGES and not any(f.zip_part in names for f in _OOXML):
        return claimed.media_type     # a package that claims to be OOXML but lacks its main part: corrupt
    for f in _PACKAGES:
        if f.zip_part in names:
            return f.media_type
    if "[Content_Types].xml" in names:      # a renamed main part: the content types still say what it is
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                info = zf.getinfo("[Content_Types].xml")
                ct = zf.open(info).read(1 << 20) if info.file_size < 1 << 20 else b""
        except Exception:
            ct = b""
        for f in _OOXML:
            if f.content_type in ct:
                return f.media_type
    return ZIP


_DIB_SIZES = (12, 16, 40, 52, 56, 64, 108, 124)


def metafile_kind(data: bytes) -> str | None:
    """EMF (an EMR_HEADER record whose signature at offset 40 is " EMF") or WMF (the formats
    table's magic: placeable or standard header), also gzip'd (.emz/.wmz: the gzip magic and such a
    header in the first inflated bytes, whatever the file is called); None for anything else."""
    head = gzip_head(data) if data.startswith(GZIP_MAGIC) else data[:1024]
    if head[:4] == b"\x01\x00\x00\x00" and head[40:44] == b" EMF":
        return EMF
    return WMF if head.startswith(get(WMF).magic) else None


def _structural_image(head: bytes) -> str | None:
    """Pictures whose magic is too short or not at offset 0: BMP (BM + a known DIB header size),
    WebP (a RIFF container of form WEBP), SVG (XML whose root element is <svg>)."""
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in _DIB_SIZES:
        return BMP
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    probe = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if probe[:5] in (b"<?xml", b"<!--", b"<!DOC", b"<svg ", b"<svg>", b"<svg\n") or probe[:4] == b"<svg":
        low = probe.lower()
        i = low.find(b"<svg")
        if i >= 0 and b"<html" not in low[:i]:
            # only declarations, comments and a doctype before the root <svg>
            before = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!doctype[^\[>]*(?:\[.*?\])?\s*>|\s+", b"", low[:i], flags=re.S)
            if not before:
                return SVG
    return None


def sniff_media_type(data: bytes, name: str = "") -> str:
    head = data[:1024]
    lower = name.lower()
    pic = metafile_kind(data) or _structural_image(head)
    if pic is not None:
        return pic
    for f in _MAGIC:
        if any((m in head[:f.magic_within]) if f.magic_within else head.startswith(m) for m in f.magic):
            return _zip_kind(data, name) if f.media_type == ZIP else f.media_type
    if b"\x00" in head and not (head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff")):
        # NUL bytes without a UTF-16 BOM: binary, unless it decodes as BOM-less UTF-16 text.
        if not _looks_utf16(head) and not _text_with_nuls(data):
            from .txt import bomless_wide
            if bomless_wide(data[: 1 << 14]) is None:      # Chinese UTF-16 has few NULs (newlines only)
                return BINARY
    probe = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if lower.endswith(_HTML_EXT) or probe.startswith((b"<!doctype html", b"<html")) \
            or (b"<html" in probe[:512] or b"<body" in probe[:512]):
        return HTML
    return TEXT


def _looks_utf16(head: bytes) -> bool:
    if len(head) < 4:
        return False
    even_nuls = head[1::2].count(0) / max(1, len(head[1::2]))
    odd_nuls = head[0::2].count(0) / max(1, len(head[0::2]))
    return even_nuls > 0.3 or odd_nuls > 0.3
