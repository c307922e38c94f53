"""Visio drawings embedded in Word files (and .vsd uploads): an OLE container whose VisioDocument
stream LibreOffice Draw reads and exports as PDF (scanner.extract.legacy). What Draw cannot read
stays unread: extract.partial for an embedded object (review), never a silent pass.

LibreOffice writes no Visio format, so no readable drawing can be made here: the containers below
are real compound files (written by `_cfb`, the layout of [MS-CFB] version 3) whose VisioDocument
stream holds no drawing. The path that reads a real Visio object was measured on a real .doc
(a flowchart object: its 27 text lines read, the document no longer extract.partial).
"""
from __future__ import annotations

import io
import struct
import zipfile

from scanner.engine import Scanner
from scanner.extract import extract_bytes
from scanner.extract.legacy import convert, is_visio
from support.drafts import docx_bytes

FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _entry(name: str, kind: int, start: int, size: int, child: int = NOSTREAM) -> bytes:
    raw = name.encode("utf-16le") + b"\x00\x00"
    return (raw.ljust(64, b"\x00") + struct.pack("<HBB3I", len(raw), kind, 1, NOSTREAM, NOSTREAM, child)
            + b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16 + struct.pack("<IIi", start, size, 0))


def _cfb(stream_name: str, data: bytes) -> bytes:
    """A compound file holding one stream (at least 4096 bytes, so in regular sectors)."""
    data = data.ljust(4096, b"\x00")
    n = -(-len(data) // 512)
    fat = [FATSECT, END] + [3 + i for i in range(n - 1)] + [END]
    fat += [FREE] * (128 - len(fat))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\x00" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
              + struct.pack("<109I", 0, *([FREE] * 108)))
    dirs = (_entry("Root Entry", 5, END, 0, child=1) + _entry(stream_name, 2, 2, len(data))
            + b"\x00" * 128 * 2)
    return header + struct.pack("<128I", *fat) + dirs + data.ljust(n * 512, b"\x00")


NOT_A_DRAWING = b"Visio (TM) Drawing\r\n" + b"\x00" * 64 + "这里不是图形".encode("utf-16le")


def _docx_with_object(obj: bytes) -> bytes:
    base = docx_bytes(["关于系统接口规范的说明", "业务流程见下图。"])
    src = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, src.read(info.filename))
        z.writestr("word/embeddings/oleObject1.bin", obj)
    return out.getvalue()


def test_a_visio_container_is_told_from_office_files():
    assert is_visio(_cfb("VisioDocument", NOT_A_DRAWING))
    assert not is_visio(_cfb("WordDocument", b"\x00" * 100))
    # a Word file holding a Visio object is a Word file (its object is read on its own)
    word = convert(docx_bytes(["关于系统接口规范的说明"]), "doc")
    assert not is_visio(word) and not is_visio(word + "VisioDocument".encode("utf-16le"))


def test_unreadable_embedded_visio_object_stays_partial():
    doc = extract_bytes(_docx_with_object(_cfb("VisioDocument", NOT_A_DRAWING)), "接口规范.docx")
    assert [e.code for e in doc.errors] == ["extract.partial"], doc.errors
    assert "oleObject1.bin" in doc.errors[0].detail and "no pdf" in doc.errors[0].detail   # read as a drawing
    assert not any(s.locator.get("member") == "word/embeddings/oleObject1.bin" for s in doc.segments)
    assert Scanner(light=True).scan_document(doc).decision == "review"


def test_unreadable_visio_upload_is_converter_failed():
    doc = extract_bytes(_cfb("VisioDocument", NOT_A_DRAWING), "流程图.vsd")
    assert [e.code for e in doc.errors] == ["extract.converter_failed"] and not doc.segments
    assert "no pdf" in doc.errors[0].detail


def _draw_export(monkeypatch, pdf: bytes) -> list:
    """Draw's export replaced by a fixed PDF (a drawing cannot be made here): what the extractor
    does with the PDF it gets. Records the (target, suffix) it was asked for."""
    import scanner.extract.legacy as legacy
    asked = []
    real = legacy.convert

    def fake(data, target, seconds=legacy.CONVERT_SECONDS, suffix=".bin"):
        if is_visio(data):
            asked.append((target, suffix))
            return pdf
        return real(data, target, seconds, suffix)
    monkeypatch.setattr(legacy, "convert", fake)
    return asked


def test_embedded_visio_drawing_text_is_scanned(monkeypatch):
    drawing = convert(docx_bytes(["秘密★5年", "终端安装业务流程", "联系人身份证号440304198506123412"]), "pdf")
    asked = _draw_export(monkeypatch, drawing)
    rep = Scanner(light=True).scan_bytes(_docx_with_object(_cfb("VisioDocument", NOT_A_DRAWING)), "接口规范.docx")
    assert asked == [("pdf", ".vsd")]            # LibreOffice picks its Visio import by the extension
    assert rep.errors == []
    segs = [s for s in rep.segments if s.locator.get("member") == "word/embeddings/oleObject1.bin"]
    assert any("终端安装业务流程" in s.text for s in segs) and all(s.locator.get("converted") == "pdf" for s in segs)
    assert {"marking.level", "pii.id_card"} <= {f.category for f in rep.findings} and rep.decision == "block"


def test_visio_drawing_read_as_nothing_is_partial(monkeypatch):
    import pypdfium2 as pdfium
    blank = pdfium.PdfDocument.new()
    blank.new_page(595, 842)
    buf = io.BytesIO()
    blank.save(buf)
    _draw_export(monkeypatch, buf.getvalue())
    doc = extract_bytes(_docx_with_object(_cfb("VisioDocument", NOT_A_DRAWING)), "接口规范.docx")
    assert [e.code for e in doc.errors] == ["extract.partial"] and "read no text" in doc.errors[0].detail
