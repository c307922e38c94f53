"""Drafts built in the tests: docx (with a tracked deletion) and PDF (CJK text, CID font)."""
from __future__ import annotations

import io


def docx_bytes(paragraphs: list[str], deleted: str | None = None, after_para: int = -1) -> bytes:
    """A docx; `deleted` becomes a tracked deletion (w:del) in paragraph `after_para`."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    d = Document()
    ps = [d.add_paragraph(t) for t in paragraphs]
    if deleted:
        dl = OxmlElement("w:del")
        dl.set(qn("w:id"), "1")
        dl.set(qn("w:author"), "张三")
        dl.set(qn("w:date"), "2026-11-01T00:00:00Z")
        r = OxmlElement("w:r")
        t = OxmlElement("w:delText")
        t.set(qn("xml:space"), "preserve")
        t.text = deleted
        r.append(t)
        dl.append(r)
        ps[after_para]._p.append(dl)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def pdf_bytes(lines: list[str], black_bar: tuple[float, float, float, float] | None = None) -> bytes:
    """One A4 page, a line every 28 pt from y=780; black_bar=(x, y, w, h) paints a filled box
    over what is drawn (a failed redaction: the text is still there)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("STSong-Light", 14)
    y = 780
    for line in lines:
        c.drawString(72, y, line)
        y -= 28
    if black_bar:
        c.setFillColorRGB(0, 0, 0)
        c.rect(*black_bar, fill=1, stroke=0)
    c.showPage()
    c.save()
    return buf.getvalue()
