"""Extraction: a file (path or bytes) becomes a Document of Segments with locations.

`extract(path)` runs in-process (trusted callers, tests). `scanner.extract.isolated`
runs the same code in a child process with memory/CPU/wall-clock limits (untrusted input).
Every failure becomes a ScanError on the Document, never an exception to the caller.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from ..model import Document, ScanError
from .sniff import sniff_media_type
from . import errors as E

MAX_INPUT_BYTES = 200 << 20


def _extractor(media_type: str):
    if media_type == "text/plain":
        from .txt import extract_txt
        return extract_txt
    if media_type == "text/html":
        from .html import extract_html
        return extract_html
    if media_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        from .docx import extract_docx
        return extract_docx
    if media_type == "application/pdf":
        from .pdf import extract_pdf
        return extract_pdf
    return None


def extract_bytes(data: bytes, source: str) -> Document:
    sha = hashlib.sha256(data).hexdigest()
    media_type = sniff_media_type(data, source)
    doc = Document(source=source, sha256=sha, media_type=media_type)
    if not data:
        doc.errors.append(E.empty())
        return doc
    fn = _extractor(media_type)
    if fn is None:
        doc.errors.append(E.unsupported(media_type))
        return doc
    try:
        fn(data, doc)
    except E.ExtractionFailed as exc:
        doc.errors.append(exc.error)
    except MemoryError:
        doc.errors.append(E.resource_limit("MemoryError"))
    except RecursionError:
        doc.errors.append(E.corrupt("RecursionError"))
    except Exception as exc:  # a parser's own failure on malformed input
        doc.errors.append(E.corrupt(type(exc).__name__))
    if not doc.errors and not any(s.text.strip() for s in doc.segments):
        doc.errors.append(E.no_text(media_type))
    return doc


def extract(path: str | Path, source: str | None = None) -> Document:
    path = Path(path)
    source = source if source is not None else str(path)
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            doc = Document(source=source, sha256="", media_type="application/octet-stream")
            doc.errors.append(E.too_large(size, MAX_INPUT_BYTES))
            return doc
        data = path.read_bytes()
    except OSError as exc:
        doc = Document(source=source, sha256="", media_type="application/octet-stream")
        doc.errors.append(ScanError("extract.unreadable", "无法读取该文件，请检查文件是否存在以及访问权限。",
                                    type(exc).__name__))
        return doc
    return extract_bytes(data, source)
