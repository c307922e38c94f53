"""ZIP archives: every member extracted recursively (depth limit in extract_nested), after the
pre-flight of scanner.extract.zipsafe. Members are read in memory, never written to disk."""
from __future__ import annotations

from ..model import Document
from . import errors as E
from . import extract_nested
from .zipsafe import is_encrypted, open_zip, read_member

MAX_ARCHIVE_INFLATED = 256 << 20
MAX_ARCHIVE_MEMBERS = 1000


def extract_zip(data: bytes, doc: Document) -> None:
    zf = open_zip(data)
    with zf:
        total = 0
        if len(zf.infolist()) > MAX_ARCHIVE_MEMBERS:
            raise E.ExtractionFailed(E.archive_too_many(f"{len(zf.infolist())} members > {MAX_ARCHIVE_MEMBERS}"))
        for info in zf.infolist():
            if info.is_dir() or info.file_size == 0:
                continue
            if is_encrypted(info):
                doc.errors.append(E.encrypted())
                continue
            total += info.file_size
            if total > MAX_ARCHIVE_INFLATED:
                doc.errors.append(E.archive_bomb(f"archive inflates beyond {MAX_ARCHIVE_INFLATED} bytes"))
                break
            name = info.filename
            member = read_member(zf, info)
            extract_nested(member, name, doc, member=name)
            if doc.errors and doc.errors[-1].code == "extract.archive_too_deep":
                break
