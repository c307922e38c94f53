"""The OCR error codes: every code the extractors record for content they could not read is listed in
the table of scanner/extract/ocr.py (the one list of them, with the situation that raises each) and in
the README's OCR section, and `finish` turns each into a report error with exactly that code and its
Chinese message (scanner/extract/errors.py) naming the place, so a misspelt or new code cannot slip
through as another one (finish's last branch) or go undocumented."""
from __future__ import annotations

import re
from pathlib import Path

from scanner.extract import ocr
from scanner.model import Document

ROOT = Path(__file__).resolve().parents[3]
_UNREAD = re.compile(r"""unread\(\s*doc\s*,[^;]*?["'](extract\.[a-z_]+)["']""", re.S)


def _recorded_codes() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "scanner" / "extract").glob("*.py"):
        codes |= set(_UNREAD.findall(path.read_text(encoding="utf-8")))
    return codes


def _table() -> dict[str, set[str]]:
    """code -> the errors.py functions the table names for it."""
    rows: dict[str, set[str]] = {}
    for code, func in re.findall(r"\|\s*(extract\.[a-z_]+)\s*\|\s*E\.([a-z_]+)\s*\|", ocr.__doc__ or ""):
        rows.setdefault(code, set()).add(func)
    return rows


def _table_codes() -> set[str]:
    return set(_table())


def test_every_recorded_code_is_in_the_table_and_the_readme():
    recorded = _recorded_codes()
    assert {"extract.ocr_unavailable", "extract.ocr_low_confidence", "extract.image_unreadable",
            "extract.ocr_unsupported_image", "extract.timeout"} <= recorded, recorded
    assert recorded <= _table_codes(), recorded - _table_codes()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert all(f"`{c}`" in readme for c in recorded), [c for c in recorded if f"`{c}`" not in readme]


def test_the_table_names_the_function_that_makes_each_code():
    from scanner.extract import errors as E
    for code, funcs in _table().items():
        for func in funcs:
            assert getattr(E, func)("第 1 页").code == code, (code, func)


def test_finish_turns_each_code_into_its_own_error_with_a_chinese_message():
    for code in sorted(_recorded_codes()):
        doc = Document(source="x.docx", sha256="", media_type="x")
        ocr.unread(doc, ("image", "word/media/image1.emf"), code, "reason")
        ocr.finish(doc)
        assert [e.code for e in doc.errors] == [code]
        msg = doc.errors[0].message
        assert "image1.emf" in msg and re.search(r"[\u4e00-\u9fff]{4}", msg), (code, msg)
    doc = Document(source="x.emf", sha256="", media_type="image/emf")
    ocr.unread(doc, ("image", None), "extract.ocr_unsupported_image", "LibreOffice not installed")
    ocr.finish(doc)
    assert doc.errors[0].message.startswith("该图片为矢量图元文件（EMF/WMF）")
