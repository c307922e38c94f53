"""Redacted plain text: the same lines as scanner.extract.txt reads, spans replaced in place, the
original encoding and line endings kept."""
from __future__ import annotations

import re

from ..extract.txt import decode_text
from .ops import apply_spans, mask

_EOL = re.compile(r"(\r\n|\r|\n)")


def redact_txt(data: bytes, findings: list, mode: str = "block") -> bytes:
    text, encoding = decode_text(data)
    bom = encoding.lower().replace("_", "-") in ("utf-8-sig",)
    parts = _EOL.split(text)            # line, eol, line, eol, ...
    lines = parts[0::2]
    by_line: dict[int, list] = {}
    rest: dict[str, str] = {}
    for f in findings:
        n = (f.location or {}).get("line")
        if f.layer == "body" and isinstance(n, int) and 1 <= n <= len(lines) \
                and lines[n - 1][f.start:f.end] == f.text:
            by_line.setdefault(n - 1, []).append((f.start, f.end, f.category))
        elif f.text:
            rest[f.text] = mask(f.text, f.category, mode)
    for i, spans in by_line.items():
        lines[i] = apply_spans(lines[i], spans, mode)
    parts[0::2] = lines
    out = "".join(parts)
    for t in sorted(rest, key=len, reverse=True):
        out = out.replace(t, rest[t])
    try:
        return out.encode(encoding) if not bom else out.encode("utf-8-sig")
    except (LookupError, UnicodeEncodeError):
        return out.encode("utf-8")
