"""Extraction: a file (path or bytes) becomes a Document of Segments with locations.

`extract(path)` runs in-process (trusted callers, tests). `scanner.extract.isolated`
runs the same code in a child process with memory/CPU/wall-clock limits (untrusted input).
Every failure becomes a ScanError on the Document, never an exception to the caller.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from typing import TYPE_CHECKING

from ..model import Document, ScanError
from ..taxonomy import VISIBLE_LAYERS
from . import errors as E
from . import formats
from .sniff import sniff_media_type

if TYPE_CHECKING:   # pragma: no cover
    from .ocr import OcrOptions

MAX_INPUT_BYTES = 200 << 20
MAX_CHARS = 5_000_000          # extracted characters per document, all layers
MAX_NEST_DEPTH = 3             # archives / embedded objects inside each other


def _run(fn, data: bytes, doc: Document) -> None:
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


def _cap_chars(doc: Document) -> None:
    total = 0
    for i, seg in enumerate(doc.segments):
        total += len(seg.text)
        if total > MAX_CHARS:
            keep = len(seg.text) - (total - MAX_CHARS)
            if keep > 0:
                seg.text = seg.text[:keep]
                i += 1
            del doc.segments[i:]
            doc.meta["truncated"] = True
            if not any(e.code == "extract.truncated" for e in doc.errors):
                doc.errors.append(E.truncated(f"more than {MAX_CHARS} characters"))
            return


def has_text(doc: Document) -> bool:
    """Document text for the empty-document rule: what a reader sees (body, tables, OCR, headers,
    notes ...). Metadata, comments and other hidden layers never count: a scan whose only text is a
    Producer string is still a document with no text."""
    return any(s.text.strip() for s in doc.segments if s.layer in VISIBLE_LAYERS)


def add_note(doc: Document, note: ScanError) -> None:
    """An info note for the report (`notes`): how the file was read; it never decides."""
    doc.meta.setdefault("notes", []).append(note.to_dict())


def empty_document(doc: Document) -> None:
    """The empty-document rule, for a document that was read without error and has no visible text.

    Fail closed: `extract.no_text` (review), unless its extractor verified that nothing visible was
    left unread and recorded how in `doc.meta["textless"]` = {"kind": "blank", "detail": ...}:
    nothing is shown at all (PDF pages rendered without ink, OFD pages without objects or whose
    paths render without ink, slides whose only shapes are unfilled empty placeholders, a docx body
    with no drawing, table, picture or object). Then the report carries the info note
    `extract.blank` instead of the error. Pages that show ink from which nothing was read (drawings
    rendered and OCR'd without a single text region: {"kind": "drawing", "where": "第 2 页"}) are
    never blank, in PDF and OFD alike: `extract.no_text` naming those pages."""
    how = doc.meta.pop("textless", None)
    kind = how.get("kind") if isinstance(how, dict) else None
    if kind == "blank":
        add_note(doc, E.blank_note(str(how.get("detail", ""))[:300]))
    elif kind == "drawing":
        doc.errors.append(E.no_text_pages(str(how.get("where") or "页面"), str(how.get("detail", ""))[:300]))
    else:
        doc.errors.append(E.no_text(doc.media_type))


def extract_bytes(data: bytes, source: str, _depth: int = 0, ocr: OcrOptions | None = None) -> Document:
    """Extract `data` (file name `source` as a type tie-breaker). ocr: OCR options for this
    extraction (default: the ones in force, else OCR on; see scanner.extract.ocr)."""
    if ocr is None and _depth == 0:
        from .ocr import OcrOptions, current
        if current() is None:
            ocr = OcrOptions()          # the default, with a budget of its own for this document
    if ocr is not None:
        from .ocr import reset_options, use_options
        token = use_options(ocr)
        try:
            return extract_bytes(data, source, _depth)
        finally:
            reset_options(token)
    sha = hashlib.sha256(data).hexdigest()
    media_type = sniff_media_type(data, source)
    doc = Document(source=source, sha256=sha, media_type=media_type)
    doc.meta["nest_depth"] = _depth
    if not data:
        doc.errors.append(E.empty())
        return doc
    fmt = formats.get(media_type)
    fn = fmt.load_extractor()
    if fn is None:
        doc.errors.append(E.unsupported(media_type))
        return doc
    _run(fn, data, doc)
    if "_ocr" in doc.meta:
        from .ocr import finish
        finish(doc)
    _cap_chars(doc)
    claimed = formats.claimed(source)
    if fmt.textlike and claimed is not None and not claimed.textlike:
        doc.errors.append(E.type_mismatch(f"{formats.extension(source)} file with {media_type} content"))
    if not doc.errors and not has_text(doc) and _depth == 0:
        empty_document(doc)
    doc.meta.pop("textless", None)
    doc.meta.pop("nest_depth", None)
    return doc


def extract_nested(data: bytes, name: str, parent: Document, **locator) -> None:
    """Extract an archive member or embedded object into `parent`: its segments keep their layer,
    their locator gains `member` (outer!/inner for nested paths); its errors become the parent's."""
    depth = parent.meta.get("nest_depth", 0) + 1
    if depth > MAX_NEST_DEPTH:
        if not any(e.code == "extract.archive_too_deep" for e in parent.errors):
            parent.errors.append(E.archive_too_deep(f"nesting deeper than {MAX_NEST_DEPTH}"))
        return
    child = extract_bytes(data, name, _depth=depth)
    member = locator.pop("member", name)
    for seg in child.segments:
        loc = dict(seg.locator)
        inner = loc.pop("member", None)
        loc["member"] = f"{member}!/{inner}" if inner else member
        loc.update({k: v for k, v in locator.items() if k not in loc})
        parent.add(seg.layer, seg.text, **loc)
        if len(parent.segments) > 2_000_000:
            break
    known = {(e.code, e.detail) for e in parent.errors}
    for e in child.errors:
        if e.code == "extract.unsupported" and formats.textless(child.media_type):
            continue       # pictures and opaque blobs carry no text to scan
        if e.code in ("extract.unsupported", "extract.converter_failed") and locator.get("kind") != "embedded_file" \
                and member.endswith(".bin"):
            e = E.partial(e.detail)     # an embedded OLE object we cannot open: part of the file unread
        detail = f"{member}: {e.detail}" if e.detail else member
        if (e.code, detail) not in known:
            parent.errors.append(ScanError(e.code, e.message, detail[:300]))
            known.add((e.code, detail))


def extract(path: str | Path, source: str | None = None, ocr: OcrOptions | None = None) -> Document:
    path = Path(path)
    source = source if source is not None else str(path)
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            return Document.failed(source, E.too_large(size, MAX_INPUT_BYTES))
        data = path.read_bytes()
    except OSError as exc:
        return Document.failed(source, E.unreadable(type(exc).__name__))
    return extract_bytes(data, source, ocr=ocr)
