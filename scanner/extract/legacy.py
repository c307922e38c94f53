"""Legacy binary Office/WPS files (.doc/.wps/.xls/.et/.ppt/.dps) and encrypted OOXML (an
OLE container with EncryptedPackage): converted with LibreOffice when installed, else a clear
Chinese error. The conversion runs headless with a private profile, no network, a time limit."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..model import Document
from . import errors as E
from . import extract_nested

CONVERT_SECONDS = 60


def _soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        p = shutil.which(name)
        if p:
            return p
    return None


def _is_encrypted_ooxml(data: bytes) -> bool:
    return b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data[:1 << 20]


def _target(data: bytes) -> str:
    head = data[: 1 << 20]
    if b"W\x00o\x00r\x00d\x00D\x00o\x00c\x00u\x00m\x00e\x00n\x00t" in head or head.startswith(b"{\\rtf"):
        return "docx"
    if b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in head or b"B\x00o\x00o\x00k" in head:
        return "xlsx"
    if b"P\x00o\x00w\x00e\x00r\x00P\x00o\x00i\x00n\x00t" in head:
        return "pptx"
    return "docx"


def extract_legacy(data: bytes, doc: Document) -> None:
    if _is_encrypted_ooxml(data):
        raise E.ExtractionFailed(E.encrypted())
    soffice = _soffice()
    if soffice is None:
        raise E.ExtractionFailed(E.legacy_office("LibreOffice not installed"))
    target = _target(data)
    with tempfile.TemporaryDirectory(prefix="baomi-lo-") as tmp:
        src = Path(tmp) / "input.bin"
        src.write_bytes(data)
        out = Path(tmp) / "out"
        profile = Path(tmp) / "profile"
        try:
            subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                            "--convert-to", target, "--outdir", str(out), str(src)],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=CONVERT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise E.ExtractionFailed(E.timeout("LibreOffice conversion"))
        results = list(out.glob("*")) if out.exists() else []
        if not results:
            raise E.ExtractionFailed(E.corrupt("LibreOffice could not convert the file"))
        converted = results[0].read_bytes()
    doc.meta["converted_with"] = "libreoffice"
    doc.meta["nest_depth"] = doc.meta.get("nest_depth", 0) - 1   # conversion is not nesting
    extract_nested(converted, "converted." + target, doc, member="(converted)")
    doc.meta["nest_depth"] = doc.meta.get("nest_depth", 0) + 1
