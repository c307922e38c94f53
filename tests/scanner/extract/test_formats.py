"""The formats table is the one home of format knowledge: every row is consistent, and sniffing,
extraction dispatch, the type-mismatch check and the service's intake all follow it."""
from __future__ import annotations

import io
import zipfile

import pytest

from scanner.extract import extract_bytes, formats
from scanner.extract.sniff import sniff_media_type


def test_rows_are_consistent():
    seen_ext: dict[str, str] = {}
    for f in formats.FORMATS:
        assert f.family and f.label
        for ext in f.extensions:
            assert ext.startswith(".") and ext == ext.lower(), ext
            assert ext not in seen_ext, (ext, seen_ext.get(ext), f.media_type)
            seen_ext[ext] = f.media_type
        if f.extractor is not None:
            assert callable(f.load_extractor()), f.extractor
    assert len({f.media_type for f in formats.FORMATS}) == len(formats.FORMATS)


@pytest.mark.parametrize("fmt", [f for f in formats.FORMATS if f.magic], ids=lambda f: f.label)
def test_magic_rows_are_sniffed_as_themselves(fmt):
    data = fmt.magic[0] + b"\x00" * 64
    expected = fmt.media_type
    if fmt.media_type == formats.ZIP:           # a real (empty-member) archive
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("a.txt", "x")
        data = buf.getvalue()
    assert sniff_media_type(data, "x.bin") == expected


@pytest.mark.parametrize("fmt", [f for f in formats.FORMATS if f.zip_part], ids=lambda f: f.label)
def test_packages_are_told_apart_by_their_main_part(fmt):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(fmt.zip_part, "<x/>")
    assert sniff_media_type(buf.getvalue(), "upload") == fmt.media_type


def test_every_sniffed_type_has_a_row():
    samples = [b"plain text", "中文".encode(), b"<html><body>x</body></html>", b"\x00\x01\x02\x03" * 50,
               b"%PDF-1.7\n", b"{\\rtf1 x}", b"\x89PNG\r\n", b"GIF89a", b"\xff\xd8\xff\xe0"]
    for data in samples:
        assert sniff_media_type(data, "") in formats.BY_MEDIA_TYPE


def test_isolation_rule_comes_from_the_table():
    assert not formats.get(formats.TEXT).isolate
    assert all(f.isolate for f in formats.FORMATS if f.media_type != formats.TEXT)
    assert formats.get("application/x-never-seen").isolate        # unknown: fail closed


def test_text_content_under_a_binary_extension_is_a_mismatch():
    for f in formats.FORMATS:
        if f.extractor and not f.textlike:
            doc = extract_bytes("公开正文".encode(), "draft" + f.extensions[0])
            assert [e.code for e in doc.errors] == ["extract.type_mismatch"], f.label
    assert extract_bytes("公开正文".encode(), "draft.md").errors == []


def test_pictures_are_read_and_opaque_blobs_are_not_a_gap():
    # pictures have an extractor (OCR, issue 11); only opaque blobs inside a container carry no text
    assert not formats.textless(formats.PNG) and formats.textless(formats.BINARY)
    assert not formats.textless(formats.DOCX)
    for mt in (formats.PNG, formats.JPEG, formats.GIF, formats.TIFF, formats.BMP, formats.WEBP, formats.SVG):
        assert formats.get(mt).extractor and formats.get(mt).isolate and formats.get(mt).family == "image"


def test_service_intake_follows_the_table():
    intake = pytest.importorskip("service.intake")
    assert set(intake.SUPPORTED) == {f.media_type for f in formats.uploadable()}
    assert formats.OLE in intake.SUPPORTED       # legacy Office/WPS: converted by LibreOffice (issue 11)
    for f in formats.uploadable():
        assert f.label in intake.UNSUPPORTED_ZH
        assert intake.SUPPORTED[f.media_type] == set(f.extensions)
