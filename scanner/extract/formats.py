"""The formats table: everything the scanner and the service know about a file format, in one place.

One row per media type that sniffing can return. Extraction dispatch (`extractor`), content
sniffing (`magic`, `zip_part`, `content_type`), the sandbox rule (`isolate`), the type-mismatch
check (`extensions`), the service's upload intake (`upload`, `label`) and the hidden-content
detector's format-specific advice (`family`) all read it.

Adding a format = its extractor module + one row here (see tests/test_formats.py for the checks
every row must pass). The row order is the order formats are listed in messages, and the order
magic bytes and package parts are tried (PDF's marker, which may follow some junk, before the
others; ZIP packages by main part; text and HTML by content heuristics in sniff.py).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from collections.abc import Callable

TEXT = "text/plain"
HTML = "text/html"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OFD = "application/ofd"
ZIP = "application/zip"
RTF = "application/rtf"
OLE = "application/x-ole-storage"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
TIFF = "image/tiff"
BMP = "image/bmp"
WEBP = "image/webp"
SVG = "image/svg+xml"
EMF = "image/emf"
WMF = "image/wmf"
BINARY = "application/octet-stream"


@dataclass(frozen=True)
class Format:
    media_type: str
    label: str                          # short name shown to people ("docx")
    family: str                         # text, html, pdf, document, sheet, slides, ofd, archive, legacy, image, binary
    extensions: tuple[str, ...] = ()    # lower case, with the dot
    extractor: str | None = None        # "module:function" inside scanner.extract; None = unsupported
    isolate: bool = True                # parsed by a library: extract in the sandbox when input is untrusted
    upload: bool = True                 # the service accepts it as an upload (when it has an extractor)
    magic: tuple[bytes, ...] = ()       # leading bytes that identify it
    magic_within: int = 0               # >0: the magic may appear anywhere in the first N bytes
    zip_part: str | None = None         # a ZIP package with this member is this format
    content_type: bytes = b""           # ... or whose [Content_Types].xml names this main part

    @property
    def textlike(self) -> bool:
        """Decoded as text, never parsed: a text sniff for its extensions is no mismatch."""
        return self.family in ("text", "html")

    def load_extractor(self) -> Callable | None:
        if self.extractor is None:
            return None
        module, func = self.extractor.split(":")
        return getattr(importlib.import_module(f"{__package__}.{module}"), func)


FORMATS: tuple[Format, ...] = (
    Format(DOCX, "docx", "document", (".docx", ".docm", ".dotx"), "docx:extract_docx",
           zip_part="word/document.xml", content_type=b"wordprocessingml.document.main"),
    Format(PDF, "pdf", "pdf", (".pdf",), "pdf:extract_pdf", magic=(b"%PDF-",), magic_within=1024),
    Format(TEXT, "txt", "text", (".txt", ".text", ".md", ".csv"), "txt:extract_txt", isolate=False),
    Format(HTML, "html", "html", (".html", ".htm", ".xhtml"), "html:extract_html"),
    Format(XLSX, "xlsx", "sheet", (".xlsx", ".xlsm"), "xlsx:extract_xlsx",
           zip_part="xl/workbook.xml", content_type=b"spreadsheetml.sheet.main"),
    Format(PPTX, "pptx", "slides", (".pptx", ".pptm"), "pptx:extract_pptx",
           zip_part="ppt/presentation.xml", content_type=b"presentationml.presentation.main"),
    Format(OFD, "ofd", "ofd", (".ofd",), "ofd:extract_ofd", zip_part="OFD.xml"),
    Format(ZIP, "zip", "archive", (".zip",), "archive:extract_zip", magic=(b"PK\x03\x04", b"PK\x05\x06")),
    Format(RTF, "rtf", "document", (".rtf",), "rtf:extract_rtf", magic=(b"{\\rtf",)),
    Format(OLE, "doc/xls/ppt/wps/et/dps", "legacy", (".doc", ".xls", ".ppt", ".wps", ".et", ".dps"),
           "legacy:extract_legacy", magic=(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    # pictures: read by OCR (scanner/extract/image.py); BMP, WebP, SVG and EMF are sniffed by structure in sniff.py
    Format(PNG, "png", "image", (".png",), "image:extract_image", magic=(b"\x89PNG",)),
    Format(GIF, "gif", "image", (".gif",), "image:extract_image", magic=(b"GIF8",)),
    Format(JPEG, "jpg", "image", (".jpg", ".jpeg", ".jpe"), "image:extract_image", magic=(b"\xff\xd8\xff",)),
    Format(TIFF, "tif", "image", (".tif", ".tiff"), "image:extract_image", magic=(b"II*\x00", b"MM\x00*")),
    Format(BMP, "bmp", "image", (".bmp",), "image:extract_image"),
    Format(WEBP, "webp", "image", (".webp",), "image:extract_image"),
    Format(SVG, "svg", "image", (".svg",), "image:extract_svg"),
    # vector metafiles: converted by LibreOffice to a bitmap, then OCR'd (image.read_metafile)
    # (.emz/.wmz: the same gzip'd, recognised by content: sniff.metafile_kind, image.unpack_metafile)
    Format(EMF, "emf", "image", (".emf", ".emz"), "image:extract_metafile"),
    Format(WMF, "wmf", "image", (".wmf", ".wmz"), "image:extract_metafile",
           magic=(b"\xd7\xcd\xc6\x9a", b"\x01\x00\x09\x00\x00\x03", b"\x02\x00\x09\x00\x00\x03")),
    Format(BINARY, "binary", "binary"),
)

BY_MEDIA_TYPE: dict[str, Format] = {f.media_type: f for f in FORMATS}
BY_EXTENSION: dict[str, Format] = {ext: f for f in FORMATS for ext in f.extensions}
_UNKNOWN = Format(BINARY, "binary", "binary")


def get(media_type: str) -> Format:
    """The row for a media type; an unknown type is an opaque binary (no extractor, isolated)."""
    return BY_MEDIA_TYPE.get(media_type, _UNKNOWN)


def family(media_type: str) -> str:
    return get(media_type).family


def extension(name: str) -> str:
    """'.docx' for 'a/b.DOCX'; '' when the name has no extension."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return "." + base.rsplit(".", 1)[-1] if "." in base else ""


def by_extension(name: str) -> Format | None:
    return BY_EXTENSION.get(extension(name))


def claimed(name: str) -> Format | None:
    """The format a file name claims, among the formats the scanner reads (an extension of a
    format without an extractor, e.g. a picture, claims nothing yet)."""
    f = by_extension(name)
    return f if f is not None and f.extractor else None


def uploadable() -> tuple[Format, ...]:
    """What the service accepts as an upload, in table order."""
    return tuple(f for f in FORMATS if f.upload and f.extractor)


def listing(formats_: tuple[Format, ...] | None = None, *, documents_only: bool = False) -> str:
    """"docx、pdf、txt 或 html": the labels of what people may submit, for Chinese messages."""
    rows = [f for f in (formats_ if formats_ is not None else uploadable())
            if not (documents_only and f.family == "archive")]
    labels = [f.label for f in rows]
    return labels[0] if len(labels) == 1 else "、".join(labels[:-1]) + " 或 " + labels[-1]


def textless(media_type: str) -> bool:
    """Pictures and opaque blobs without an extractor: inside a container they carry no text to
    scan, so their being unsupported is no gap in the scan."""
    f = get(media_type)
    return f.extractor is None and f.family in ("image", "binary")
