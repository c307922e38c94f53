"""Media type by content (magic bytes), with the file name only as a tie-breaker."""
from __future__ import annotations

import io
import zipfile

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ZIP = "application/zip"
OFD = "application/ofd"
OLE = "application/x-ole-storage"


_OOXML_EXT = {".docx": DOCX, ".docm": DOCX, ".dotx": DOCX, ".xlsx": XLSX, ".xlsm": XLSX, ".pptx": PPTX,
              ".pptm": PPTX, ".ofd": OFD}


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
    ext = "." + name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if "[Content_Types].xml" in names and ext in _OOXML_EXT and not any(
            k in names for k in ("word/document.xml", "xl/workbook.xml", "ppt/presentation.xml")):
        return _OOXML_EXT[ext]     # a package that claims to be OOXML but lacks its main part: corrupt
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    if "ppt/presentation.xml" in names:
        return PPTX
    if "OFD.xml" in names:
        return OFD
    if "[Content_Types].xml" in names:      # a renamed main part: the content types still say what it is
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                info = zf.getinfo("[Content_Types].xml")
                ct = zf.open(info).read(1 << 20) if info.file_size < 1 << 20 else b""
        except Exception:
            ct = b""
        for marker, kind in ((b"wordprocessingml.document.main", DOCX), (b"spreadsheetml.sheet.main", XLSX),
                             (b"presentationml.presentation.main", PPTX)):
            if marker in ct:
                return kind
    return ZIP


def sniff_media_type(data: bytes, name: str = "") -> str:
    head = data[:1024]
    lower = name.lower()
    if head.startswith(b"%PDF-") or b"%PDF-" in head:
        return "application/pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(data, name)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if head[:4] in (b"\x89PNG", b"GIF8") or head[:3] == b"\xff\xd8\xff":
        return "image/" + {"\x89PN": "png", "GIF": "gif"}.get(head[:3].decode("latin1"), "jpeg")
    if head.startswith(b"{\\rtf"):
        return "application/rtf"
    if b"\x00" in head and not (head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff")):
        # NUL bytes without a UTF-16 BOM: binary, unless it decodes as BOM-less UTF-16 text.
        if not _looks_utf16(head) and not _text_with_nuls(data):
            return "application/octet-stream"
    probe = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if lower.endswith((".html", ".htm", ".xhtml")) or probe.startswith((b"<!doctype html", b"<html")) \
            or (b"<html" in probe[:512] or b"<body" in probe[:512]):
        return "text/html"
    return "text/plain"


def _looks_utf16(head: bytes) -> bool:
    if len(head) < 4:
        return False
    even_nuls = head[1::2].count(0) / max(1, len(head[1::2]))
    odd_nuls = head[0::2].count(0) / max(1, len(head[0::2]))
    return even_nuls > 0.3 or odd_nuls > 0.3
