"""Media type by content (magic bytes), with the file name only as a tie-breaker. The magic bytes,
package parts and extensions come from the formats table (formats.FORMATS)."""
from __future__ import annotations

import io
import zipfile

from .formats import BINARY, FORMATS, HTML, TEXT, ZIP, by_extension, get

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


def sniff_media_type(data: bytes, name: str = "") -> str:
    head = data[:1024]
    lower = name.lower()
    for f in _MAGIC:
        if any((m in head[:f.magic_within]) if f.magic_within else head.startswith(m) for m in f.magic):
            return _zip_kind(data, name) if f.media_type == ZIP else f.media_type
    if b"\x00" in head and not (head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff")):
        # NUL bytes without a UTF-16 BOM: binary, unless it decodes as BOM-less UTF-16 text.
        if not _looks_utf16(head) and not _text_with_nuls(data):
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
