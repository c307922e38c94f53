"""Text-layer quality of one PDF or OFD page: is the extracted text what a reader sees?

`problem(text, chars=0, unmapped=0)` returns None for a usable layer, else a short English reason:

- "unmapped": more than 10 % of the drawn characters have no usable Unicode value: pdfium's
  map error (a font without a usable ToUnicode map), U+FFFD, private-use code points, control
  characters (`chars`/`unmapped` come from the PDF layer pass; the text itself is checked too);
- "mojibake": GBK/GB18030 bytes shown through a Latin font: runs of Latin-1 letters (U+0080–U+00FF,
  and cp1252's letters at 0x80–0x9F) that, taken back to bytes, decode as Chinese. A page where such runs make up at least 20 % of
  its letters (and at least 6 of them) is garbled;
- "latin1": a page whose letters are mostly Latin-1 supplement characters (U+00C0–U+00FF) in runs,
  with no CJK at all: the glyphs are CJK, the text layer is not (the same fault, undecodable).

A garbled page is OCR'd and its OCR text replaces the layer (scanner.extract.pdf): read with
text at good confidence, as a scan is, it is the info note `extract.garbled_read`; not read, read
unsure or read as showing no text, it is an `extract.garbled_text` error (review). The check is string work plus the counts already gathered, so it costs well under
the page's extraction (measured in `make bench`: text-layer check).
"""
from __future__ import annotations

import re

UNMAPPED_SHARE = 0.10
MOJIBAKE_SHARE = 0.20
MIN_RUN_CHARS = 6
MIN_TEXT = 20                 # fewer letters than this: too little to judge by share

# Latin-1 supplement plus the letters cp1252 puts at 0x80-0x9F (what a Windows Latin font shows)
_LATIN1_RUN = re.compile("[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
                         "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]{2,}")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_BAD = re.compile(r"[\ufffd\ue000-\uf8ff\x00-\x08\x0b\x0c\x0e-\x1f]")


def _letters(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def _decodes_as_chinese(run: str) -> bool:
    for enc in ("latin-1", "cp1252"):
        try:
            raw = run.encode(enc)
        except UnicodeEncodeError:
            continue
        try:
            back = raw.decode("gb18030")
        except UnicodeDecodeError:
            continue
        if len(_CJK.findall(back)) * 2 >= len(back.replace(" ", "")):
            return True
    return False


def problem(text: str, chars: int = 0, unmapped: int = 0) -> str | None:
    if chars >= MIN_TEXT and unmapped / chars > UNMAPPED_SHARE:
        return "unmapped"
    letters = _letters(text)
    if letters < MIN_TEXT and not (letters >= MIN_RUN_CHARS and _LATIN1_RUN.search(text)):
        return None
    bad = len(_BAD.findall(text))
    if letters >= MIN_TEXT and bad / letters > UNMAPPED_SHARE:
        return "unmapped"
    runs = _LATIN1_RUN.findall(text)
    if not runs:
        return None
    in_runs = sum(len(r) for r in runs)
    if in_runs < MIN_RUN_CHARS or in_runs / max(1, letters) < MOJIBAKE_SHARE:
        return None
    decodable = sum(len(r) for r in runs if _decodes_as_chinese(r))
    if decodable >= MIN_RUN_CHARS and decodable / in_runs >= 0.5:
        return "mojibake"
    if not _CJK.search(text) and in_runs / max(1, letters) >= 0.5:
        return "latin1"
    return None


def letters(text: str) -> int:
    """Characters of the layer that are not white space."""
    return _letters(text)


def unusable(text: str) -> int:
    """Characters of the layer with no usable Unicode value (U+FFFD, private use, controls)."""
    return len(_BAD.findall(text))


def usable_chars(text: str) -> int:
    """Letters of the layer that carry text (what 'no usable text layer' counts)."""
    return _letters(_BAD.sub("", text))
