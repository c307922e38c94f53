"""OOXML packages in the tests as zips: a package with members edited or added (`rewrite`: the
extraction tests build Excel's threaded comments this way, the redaction tests an embedded
document), every member of a copy as raw bytes, and the check that no secret can be read from
any of them (UTF-8 or UTF-16, nested zips too)."""
from __future__ import annotations

import io
import zipfile


def every_member(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def nothing_readable(data: bytes, secrets) -> None:
    """No secret in any member, as UTF-8 or UTF-16, nor inside a nested zip of a member."""
    for name, body in every_member(data).items():
        for s in secrets:
            for enc in ("utf-8", "utf-16-le"):
                assert s.encode(enc) not in body, (name, s)
        if body[:2] == b"PK":
            nothing_readable(body, secrets)


def rewrite(data: bytes, edits: dict, add: dict | None = None) -> bytes:
    """A zip with `edits[name](body) -> body` applied and `add` members added."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            z.writestr(info.filename, edits[info.filename](body) if info.filename in edits else body)
        for name, body in (add or {}).items():
            z.writestr(name, body)
    return out.getvalue()
