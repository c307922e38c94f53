"""Legacy binary Office/WPS files (.doc/.wps/.xls/.et/.ppt/.dps, an RTF saved as .doc), Visio
drawings (.vsd, and the Visio objects embedded in Word files) and encrypted OOXML (an OLE container
with EncryptedPackage).

Legacy files are converted by LibreOffice headless (Debian's libreoffice-*-nogui, installed by
.ci/install_office.sh) to their OOXML form, and the OOXML extractors take over, deep layers
included (tracked changes, comments, properties, pictures survive the conversion: tested). The
conversion runs
- inside the extraction sandbox (the child's address-space, file-size and descriptor limits are
  inherited by soffice), in a network namespace of its own where the machine allows (`unshare -rn`);
- with a private, fresh profile directory and HOME per run (no shared state between files, no
  first-start wizard, no macros: LibreOffice never runs document macros headless by default);
- under a wall-clock limit (CONVERT_SECONDS), in its own process group, which is killed whole on
  timeout (soffice.bin and any helper it started).
No LibreOffice -> extract.unsupported (the file is named, the Chinese message says how to submit
it); LibreOffice failed -> extract.converter_failed; timeout -> extract.timeout.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from types import SimpleNamespace

from ..model import Document
from . import errors as E
from . import extract_nested

CONVERT_SECONDS = 60


def soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        p = shutil.which(name)
        if p:
            return p
    return None


def is_encrypted_ooxml(data: bytes) -> bool:
    return b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data[:1 << 20]


_WORD = b"W\x00o\x00r\x00d\x00D\x00o\x00c\x00u\x00m\x00e\x00n\x00t"
_OFFICE_STREAMS = (_WORD, b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k", b"B\x00o\x00o\x00k",
                   b"P\x00o\x00w\x00e\x00r\x00P\x00o\x00i\x00n\x00t")
_VISIO = b"V\x00i\x00s\x00i\x00o\x00D\x00o\x00c\x00u\x00m\x00e\x00n\x00t"


def is_visio(data: bytes) -> bool:
    """A Visio drawing (.vsd, or the OLE object Word embeds for one): a VisioDocument stream and
    no Word, Excel or PowerPoint stream anywhere in the container (a .doc holding a Visio object
    is a Word document: it is converted to docx, its object read on its own)."""
    return _VISIO in data[: 1 << 20] and not any(s in data for s in _OFFICE_STREAMS)


def _target(data: bytes) -> str:
    head = data[: 1 << 20]
    if _WORD in head or head.startswith(b"{\\rtf"):
        return "docx"
    if is_visio(data):
        return "pdf"
    if b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in head or b"B\x00o\x00o\x00k" in head:
        return "xlsx"
    if b"P\x00o\x00w\x00e\x00r\x00P\x00o\x00i\x00n\x00t" in head:
        return "pptx"
    return "docx"


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def convert(data: bytes, target: str, seconds: float = CONVERT_SECONDS, suffix: str = ".bin") -> bytes:
    """`data` converted by LibreOffice to `target` (docx/xlsx/pptx; pdf for an EMF/WMF picture,
    scanner.extract.image); suffix: the input file's extension, where LibreOffice needs it to pick
    its import filter (a WMF is not recognised by content); raises ExtractionFailed."""
    exe = soffice()
    if exe is None:
        raise E.ExtractionFailed(E.legacy_office("LibreOffice not installed"))
    from .sandbox import netns_prefix
    with tempfile.TemporaryDirectory(prefix="baomi-lo-") as tmp:
        src = Path(tmp) / ("input" + suffix)
        src.write_bytes(data)
        out = Path(tmp) / "out"
        profile = Path(tmp) / "profile"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "SAL_USE_VCLPLUGIN": "svp", "TMPDIR": tmp}
        cmd = netns_prefix(SimpleNamespace(netns="auto")) + [
            exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--nologo",
            "--nodefault", "--nolockcheck", "--convert-to", target, "--outdir", str(out), str(src)]
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    cwd=tmp, env=env, start_new_session=True)
        except OSError as exc:
            raise E.ExtractionFailed(E.converter_failed(f"could not start LibreOffice: {type(exc).__name__}"))
        try:
            rc = proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise E.ExtractionFailed(E.timeout(f"LibreOffice conversion over {seconds:.0f}s"))
        finally:
            if proc.poll() is None:
                _kill_group(proc)
        # helpers it left behind in its group (none expected) go too
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        results = sorted(out.glob("*.*")) if out.exists() else []
        if not results:
            raise E.ExtractionFailed(E.converter_failed(f"LibreOffice produced no {target} (exit {rc})"))
        return results[0].read_bytes()


def extract_legacy(data: bytes, doc: Document) -> None:
    if is_encrypted_ooxml(data):
        raise E.ExtractionFailed(E.encrypted())
    target = _target(data)
    # a Visio drawing has no OOXML form LibreOffice writes: Draw reads it and exports every page as
    # PDF, whose text (and pictures, by OCR) is then read as any PDF's
    converted = convert(data, target, suffix=".vsd" if target == "pdf" else ".bin")
    doc.meta["converted_with"] = "libreoffice"
    doc.meta["converted_to"] = target
    depth = doc.meta.get("nest_depth", 0)
    doc.meta["nest_depth"] = depth - 1          # conversion is not nesting
    try:
        before = len(doc.segments)
        extract_nested(converted, "converted." + target, doc, member="(converted)")
    finally:
        doc.meta["nest_depth"] = depth
    if target == "pdf" and not any(s.text.strip() for s in doc.segments[before:] if s.layer in ("body", "ocr")):
        # a drawing Draw read as nothing (or as blank pages) was not read: fail closed
        doc.errors.append(E.partial("Visio drawing: LibreOffice read no text"))
    # the converted package is the document itself: its segments are not an archive member
    for seg in doc.segments[before:]:
        m = seg.locator.get("member")
        if m == "(converted)":
            seg.locator.pop("member")
            seg.locator["converted"] = target
        elif isinstance(m, str) and m.startswith("(converted)!/"):
            seg.locator["member"] = m[len("(converted)!/"):]
