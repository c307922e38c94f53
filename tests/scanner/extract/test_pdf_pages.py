"""A PDF's pages are loaded once for the passes of its extraction (scanner.extract.pdf_pages.Pages,
issue 17: loading a page is most of a small PDF's extraction time): the documents are those of
each pass loading its own pages (Pages.KEEP = 0), on PDFs with hidden layers built here and on the
real documents' PDFs when present."""
from __future__ import annotations

from pathlib import Path

import pytest

import scanner.extract.pdf_pages as pdf_mod
from scanner.extract import extract
from scanner.extract.ocr import OcrOptions

ROOT = Path(__file__).resolve().parents[3]


def _layered_pdf(path: Path, pages: int) -> None:
    """Pages with body text, white text, a black box painted over text, tiny text, an
    annotation, and a small picture painted over a word."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    c.setAuthor("王建国")
    black = ImageReader(Image.new("RGB", (40, 12), (0, 0, 0)))
    for n in range(pages):
        c.setFont("STSong-Light", 12)
        c.drawString(72, 760, f"第{n + 1}页 关于调整工作安排的通知，联系人王建国，电话13912345678。")
        c.drawString(72, 700, "拟于下周三上午九时经长安街前往某基地，行程暂不对外公布。")
        c.setFillColorRGB(1, 1, 1)
        c.drawString(72, 650, "白色隐藏文字：内部掌握，不得外传。")
        c.setFillColorRGB(0, 0, 0)
        c.drawString(72, 600, "涂黑下面的文字：身份证号110105198001011234")
        c.rect(70, 595, 320, 18, fill=1)
        c.setFont("STSong-Light", 0.5)
        c.drawString(72, 560, "极小字号的文字内容")
        c.setFont("STSong-Light", 12)
        c.drawString(72, 520, "图片盖住的词：秘密")
        c.drawImage(black, 180, 516, width=40, height=14)
        c.textAnnotation(f"第{n + 1}页批注：尚未公开", Rect=(72, 400, 200, 450))
        c.showPage()
    c.save()


def _docs(paths: list[Path]) -> list[dict]:
    return [extract(p, ocr=OcrOptions(enabled=False)).to_dict() for p in paths]


def _same_both_ways(paths: list[Path], monkeypatch) -> list[dict]:
    kept = _docs(paths)
    monkeypatch.setattr(pdf_mod.Pages, "KEEP", 0)
    reloaded = _docs(paths)
    assert kept == reloaded
    return kept


def test_pages_loaded_once_extract_what_each_pass_loading_them_extracts(tmp_path, monkeypatch):
    paths = []
    for pages in (1, 3):
        p = tmp_path / f"layers{pages}.pdf"
        _layered_pdf(p, pages)
        paths.append(p)
    docs = _same_both_ways(paths, monkeypatch)
    layers = {s["layer"] for d in docs for s in d["segments"]}
    assert {"body", "hidden", "redaction", "comment", "metadata"} <= layers, layers


def test_pages_beyond_the_kept_ones_are_loaded_per_pass(tmp_path, monkeypatch):
    p = tmp_path / "many.pdf"
    _layered_pdf(p, 5)
    kept = _docs([p])
    monkeypatch.setattr(pdf_mod.Pages, "KEEP", 2)      # pages 3-5 loaded by each pass
    assert _docs([p]) == kept


@pytest.mark.slow
def test_the_real_documents_pdfs_extract_the_same(monkeypatch):
    base = ROOT / "tests" / "realdocs" / "files"
    paths = sorted(p for p in base.rglob("*.pdf") if p.is_file()) if base.is_dir() else []
    if not paths:
        pytest.skip("real-document files absent: run `make realdocs`")
    _same_both_ways(paths, monkeypatch)
