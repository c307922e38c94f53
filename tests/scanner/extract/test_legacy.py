"""Legacy Office/WPS formats through the real converter (LibreOffice headless, installed by the
set-up: .ci/install_office.sh). The legacy files are made here by converting real docx/xlsx/pptx
files with LibreOffice itself; .wps/.et/.dps are Kingsoft's names for the same OLE formats (a WPS
Writer .wps is a Word 97 binary document), so a converted .doc/.xls/.ppt under those names is what
a WPS user sends."""
from __future__ import annotations

import io
import shutil

import pytest

from scanner.engine import Scanner
from scanner.extract import extract_bytes
from scanner.extract.legacy import convert
from support.drafts import docx_bytes

ID_NUMBER = "440304198506123412"       # valid GB 11643 check digit


def test_libreoffice_is_installed_by_the_set_up():
    assert shutil.which("soffice"), "LibreOffice missing: `make test` installs it (.ci/install_office.sh)"


@pytest.fixture(scope="module")
def twin_docx() -> bytes:
    """A marking, a tracked deletion holding an ID number, and a comment."""
    import docx
    data = docx_bytes(["秘密★5年", "关于召开工作会议的通知", "请各单位按时参加。"],
                      deleted=f"身份证号{ID_NUMBER}", after_para=2)
    d = docx.Document(io.BytesIO(data))
    d.add_comment(d.paragraphs[1].runs, text="此段涉及内部安排，发布前删除", author="李四")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def twin_doc(twin_docx) -> bytes:
    return convert(twin_docx, "doc")


def _summary(rep):
    return {(f.category, "".join(f.text.split())) for f in rep.findings}


def _same_findings(a, b):
    """Categories, and the matched text joined per category (a converter may split one run in two)."""
    def key(rep):
        out = {}
        for f in rep.findings:
            out.setdefault(f.category, set()).add("".join(f.text.split()))
        return {k: "".join(sorted(v)) if k == "hidden.revision" else v for k, v in out.items()}
    return key(a), key(b)


@pytest.mark.parametrize("name", ["draft.doc", "draft.wps"])
def test_doc_and_wps_are_caught_exactly_as_their_docx_twin(name, twin_docx, twin_doc):
    assert twin_doc[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"       # a real OLE Word 97 file
    sc = Scanner(light=True)
    docx_rep = sc.scan_bytes(twin_docx, "draft.docx")
    rep = sc.scan_bytes(twin_doc, name, isolated=True)                  # in the sandbox child, as served
    cats = {f.category for f in rep.findings}
    assert {"marking.level", "hidden.revision", "hidden.comment", "pii.id_card"} <= cats, rep.errors
    assert rep.decision == docx_rep.decision == "block"
    assert rep.errors == [] and docx_rep.errors == []
    got, want = _same_findings(rep, docx_rep)
    assert got.keys() == want.keys()
    assert got["pii.id_card"] == want["pii.id_card"] == {ID_NUMBER}
    assert ID_NUMBER in got["hidden.revision"] and got["hidden.comment"] == want["hidden.comment"]
    # the deletion is in the revision layer, the comment names its author: deep layers survived
    seg = next(s for s in rep.segments if s.layer == "revision" and ID_NUMBER in s.text)
    assert seg.locator.get("kind") == "deleted" and seg.locator.get("converted") == "docx"
    com = next(s for s in rep.segments if s.layer == "comment")
    assert com.locator.get("author") == "李四"


@pytest.mark.parametrize("target,ext", [("xls", ".et"), ("ppt", ".dps")])
def test_spreadsheets_and_slides_convert(target, ext):
    if target == "xls":
        from openpyxl import Workbook
        wb = Workbook()
        wb.active["A1"] = "秘密★5年"
        wb.active["A2"] = f"联系人身份证号{ID_NUMBER}"
        buf = io.BytesIO()
        wb.save(buf)
        src = buf.getvalue()
    else:
        from pptx import Presentation
        prs = Presentation()
        s = prs.slides.add_slide(prs.slide_layouts[1])
        s.shapes.title.text = "秘密★5年"
        s.placeholders[1].text = f"联系人身份证号{ID_NUMBER}"
        buf = io.BytesIO()
        prs.save(buf)
        src = buf.getvalue()
    legacy = convert(src, target)
    rep = Scanner(light=True).scan_bytes(legacy, "draft" + ext)
    assert {"marking.level", "pii.id_card"} <= {f.category for f in rep.findings}, rep.errors
    assert rep.decision == "block"


def test_unconvertible_legacy_file_is_converter_failed():
    fake = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000      # an OLE header and nothing in it
    doc = extract_bytes(fake, "old.doc")
    assert [e.code for e in doc.errors] == ["extract.converter_failed"]
    assert "LibreOffice" in doc.errors[0].message


def test_missing_libreoffice_is_the_clear_unsupported_review(tmp_path, twin_doc, monkeypatch):
    """A machine without LibreOffice (PATH without soffice): extract.unsupported saying so."""
    monkeypatch.setenv("PATH", str(tmp_path))
    doc = extract_bytes(twin_doc, "old.doc")
    assert [e.code for e in doc.errors] == ["extract.unsupported"] and "LibreOffice" in doc.errors[0].message
    assert Scanner(light=True).scan_document(doc).decision == "review"
