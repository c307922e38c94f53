"""Redacted copies in the original format (issue 15; Presidio's anonymizer is the model).

`redact_bytes(data, report)` takes a file's bytes and its scan report (findings with layer,
locator and start/end offsets into the original segment text) and returns the redacted file in
the same format: docx, xlsx and pptx edited in their OOXML parts, text in place, PDF rasterised with the
boxes burnt in and no text layer left. Operators and the category choice are in `ops`; the
scanner's formats each have one module here. The caller re-scans the copy (`verify`)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .ops import DEFAULT_PREFIXES, MODES, selected

SUPPORTED = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "text/plain": "txt",
    "application/pdf": "pdf",
}


class RedactError(Exception):
    """The file cannot be redacted in its format (message in Chinese for people)."""


@dataclass
class Redacted:
    data: bytes
    kind: str                      # docx / xlsx / pptx / txt / pdf
    count: int                     # findings redacted
    categories: list[str] = field(default_factory=list)
    unplaced: int = 0              # findings the copy could not locate (PDF): the caller fails closed


def kind_of(report) -> str | None:
    return SUPPORTED.get((report.media_type or "").split(";")[0].strip())


def redact_bytes(data: bytes, report, categories=None, mode: str = "block") -> Redacted:
    if mode not in MODES:
        raise RedactError(f"未知的遮盖方式：{mode}")
    kind = kind_of(report)
    if kind is None:
        raise RedactError(f"暂不支持该格式的脱敏副本：{report.media_type or '未知格式'}")
    chosen = selected(report.findings, categories)
    if kind == "docx":
        from .docx import redact_docx as fn
    elif kind == "xlsx":
        from .xlsx import redact_xlsx as fn
    elif kind == "pptx":
        from .pptx import redact_pptx as fn
    elif kind == "txt":
        from .txt import redact_txt as fn
    else:
        from .pdf import redact_pdf as fn
    if kind == "pdf":
        out = fn(data, chosen, mode=mode, segments={s.id: len(s.text) for s in report.segments})
    else:
        out = fn(data, chosen, mode=mode)
    return Redacted(bytes(out), kind, len(chosen), sorted({f.category for f in chosen}),
                    unplaced=getattr(out, "unplaced", 0))


def remaining(report, categories=None) -> list:
    """Findings of the redacted categories still in a re-scanned copy (empty when it passes)."""
    return selected(report.findings, categories)


__all__ = ["redact_bytes", "remaining", "Redacted", "RedactError", "DEFAULT_PREFIXES", "MODES", "SUPPORTED"]
