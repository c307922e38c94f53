"""Redaction operators (Presidio-anonymizer style) and which findings a redaction covers.

Operators, applied to the matched characters only (offsets into the original segment text):
- block: every non-space character becomes ■ (the length stays, so the layout barely moves);
- keep-ends: a mask that keeps what identifies nothing: 139****2468 for numbers, 某某 for names,
  the first and last character around * for the rest;
- markings (密级标志) are always removed, not masked: a masked mark is still a mark.
"""
from __future__ import annotations

from collections.abc import Iterable

BLOCK = "■"
MODES = ("block", "keep-ends")
DEFAULT_PREFIXES = ("pii.", "secret.", "geo.", "marking.")
REMOVE_PREFIXES = ("marking.",)


def selected(findings: Iterable, categories: Iterable[str] | None = None) -> list:
    """Findings whose category starts with one of `categories` (prefixes such as "pii." or full
    names); allowlisted findings are kept as they are."""
    prefixes = tuple(categories) if categories else DEFAULT_PREFIXES
    out = []
    for f in findings:
        cat = f.category
        if getattr(f, "allowlisted", None):
            continue
        if any(cat == p or cat.startswith(p if p.endswith(".") else p + ".") or cat.startswith(p)
               for p in prefixes):
            out.append(f)
    return out


def spans_by_paragraph(findings: Iterable, part: str, layers: tuple[str, ...]) -> dict[int, list]:
    """The findings of `layers` located in paragraphs of the package part `part`, per paragraph
    index: (start, end, category, text) each. A nested file's findings (location `member`) name
    the nested file's own parts, not ours: left out."""
    out: dict[int, list] = {}
    for f in findings:
        loc = f.location or {}
        if f.layer in layers and loc.get("part") == part and "paragraph" in loc and "member" not in loc:
            out.setdefault(loc["paragraph"], []).append((f.start, f.end, f.category, f.text))
    return out


def removes(category: str) -> bool:
    return category.startswith(REMOVE_PREFIXES)


def mask(text: str, category: str, mode: str = "block") -> str:
    """The replacement of one matched text."""
    if removes(category):
        return ""
    if mode == "keep-ends":
        core = [c for c in text if not c.isspace()]
        if category.startswith("pii.name") or category.startswith("pii.person"):
            return "某" * min(2, max(1, len(core))) if len(text) > 1 else "某"
        digits = sum(c.isdigit() for c in text)
        if digits >= 7 and len(text) >= 7:
            keep_a, keep_b = (3, 4) if len(text) >= 11 else (2, 2)
            return text[:keep_a] + "".join("*" if not c.isspace() else c for c in text[keep_a:len(text) - keep_b]) \
                + text[len(text) - keep_b:]
        if len(text) >= 3:
            return text[0] + "*" * (len(text) - 2) + text[-1]
        return "*" * len(text)
    return "".join(c if c.isspace() else BLOCK for c in text)


def apply_spans(text: str, spans: list[tuple[int, int, str]], mode: str = "block") -> str:
    """`text` with each (start, end, category) span replaced; overlapping spans are merged (the
    category that removes wins, else the first)."""
    merged: list[list] = []
    for a, b, cat in sorted(spans):
        if not (0 <= a < b <= len(text)):
            continue
        if merged and a < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], b)
            if removes(cat):
                last[2] = cat
        else:
            merged.append([a, b, cat])
    out, pos = [], 0
    for a, b, cat in merged:
        out.append(text[pos:a])
        out.append(mask(text[a:b], cat, mode))
        pos = b
    out.append(text[pos:])
    return "".join(out)
