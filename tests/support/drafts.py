"""Drafts built in the tests: docx (with a tracked deletion) and PDF (CJK text, CID font; a minimal PDF
from object bodies)."""
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


def pdf_with_objects(objs: list[bytes], root: int = 1) -> bytes:
    """A minimal PDF from object bodies (1-based; `root` the catalog's number), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, root, xref)
    return bytes(out)
