"""PDF: text per page with pypdfium2 (fast, right with non-embedded CJK fonts; see DESIGN.md).

Deeper layers (text under boxes, invisible text, annotations, metadata, garbled text layers)
are added by scanner.extract.pdf_layers when present.
"""
from __future__ import annotations

from ..model import Document
from . import errors as E

MAX_PAGES = 2000
MAX_CHARS = 5_000_000
LAYER_SECONDS = 40.0      # hidden-layer analysis budget per document (the child has 60 s of CPU)


def extract_pdf(data: bytes, doc: Document) -> None:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = str(exc).lower()
        if "password" in msg:
            raise E.ExtractionFailed(E.encrypted())
        raise E.ExtractionFailed(E.corrupt(str(exc)[:200]))
    try:
        n = len(pdf)
        doc.meta["page_count"] = n
        if n > MAX_PAGES:
            doc.errors.append(E.truncated(f"{n} pages > {MAX_PAGES}"))
        total = 0
        for i in range(min(n, MAX_PAGES)):
            page = pdf[i]
            try:
                tp = page.get_textpage()
                text = tp.get_text_bounded() or ""
                tp.close()
            finally:
                page.close()
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
            for li, line in enumerate(text.split("\n")):
                if line.strip():
                    doc.add("body", line, page=i + 1, line=li + 1)
            total += len(text)
            if total > MAX_CHARS:
                doc.errors.append(E.truncated(f"more than {MAX_CHARS} characters"))
                break
        import time

        from .pdf_layers import extract_pdf_layers
        extract_pdf_layers(data, pdf, doc, max_pages=MAX_PAGES, deadline=time.monotonic() + LAYER_SECONDS)
    finally:
        pdf.close()
