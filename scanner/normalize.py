"""Normalisation with an offset map back to the original text.

NormalizedText.text is what detectors match on; `span(i, j)` maps a match [i, j) in the
normalised text back to the exact original code-point span. Steps, per original character:
NFKC (full-width → half-width, compatibility forms), removal of zero-width characters and soft
hyphens, traditional → simplified Chinese (OpenCC t2s). `compact()` additionally drops
white space and filler symbols so that "秘 密 ★ １ 年" or "请·勿·扩·散" still match.

Fast path: when nothing changes (the common case for clean simplified text) no arrays are built.
"""
from __future__ import annotations

import re
import unicodedata
from array import array
from functools import lru_cache

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2061\u2062\u2063\u2064"
_ZW_RE = re.compile("[" + ZERO_WIDTH + "]")
_ZW_SET = frozenset(ZERO_WIDTH)

# Filler dropped by compact(): white space and symbols people insert inside a word to evade a match.
FILLER = frozenset(" \t\u3000\xa0·•・_~|-—–‐‑﹏…'\"`^" + ZERO_WIDTH)
_FILLER_CLASS = "".join(re.escape(c) for c in sorted(FILLER))
_FILLER_RE = re.compile(f"[{_FILLER_CLASS}]")
_KEEP_RUN_RE = re.compile(f"[^{_FILLER_CLASS}]+")


@lru_cache(maxsize=1)
def _t2s():
    try:
        import opencc
        return opencc.OpenCC("t2s")
    except Exception:  # pragma: no cover - OpenCC is a pinned dependency
        return None


@lru_cache(maxsize=1)
def _trad_table() -> tuple[dict[str, str], "re.Pattern"]:
    """Character-level t2s table, built once (~30 ms) by converting every CJK code point."""
    cc = _t2s()
    if cc is None:
        return {}, re.compile("(?!)")
    chars = [chr(c) for c in [*range(0x3400, 0x4DC0), *range(0x4E00, 0xA000), *range(0xF900, 0xFB00)]]
    out = cc.convert("\n".join(chars)).split("\n")
    table = {a: b for a, b in zip(chars, out) if a != b and len(b) == 1} if len(out) == len(chars) else {}
    pattern = re.compile("[" + "".join(re.escape(c) for c in table) + "]") if table else re.compile("(?!)")
    return table, pattern


def _char_t2s(ch: str) -> str:
    return _trad_table()[0].get(ch, ch)


def has_traditional(s: str) -> bool:
    return _trad_table()[1].search(s) is not None


class NormalizedText:
    __slots__ = ("original", "text", "_starts", "_ends")

    def __init__(self, original: str, text: str, starts: array | None, ends: array | None):
        self.original = original
        self.text = text
        self._starts = starts   # None means identity map
        self._ends = ends

    @property
    def identity(self) -> bool:
        return self._starts is None

    def orig_start(self, i: int) -> int:
        if self._starts is None:
            return i
        if i >= len(self._starts):
            return len(self.original)
        return self._starts[i]

    def orig_end(self, j: int) -> int:
        """Original end for a normalised exclusive end j (j > 0)."""
        if self._ends is None:
            return j
        if j <= 0:
            return 0
        return self._ends[min(j, len(self._ends)) - 1]

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Original [start, end) for normalised [i, j)."""
        if j <= i:
            s = self.orig_start(i)
            return s, s
        return self.orig_start(i), self.orig_end(j)

    def compact(self) -> "NormalizedText":
        """A view with filler characters (FILLER) removed, still mapping to the original."""
        t = self.text
        if _FILLER_RE.search(t) is None:
            return self
        chars: list[str] = []
        starts, ends = array("i"), array("i")
        for m in _KEEP_RUN_RE.finditer(t):
            a, b = m.span()
            chars.append(m.group())
            if self._starts is None:
                starts.extend(range(a, b))
                ends.extend(range(a + 1, b + 1))
            else:
                starts.extend(self._starts[a:b])
                ends.extend(self._ends[a:b])
        return NormalizedText(self.original, "".join(chars), starts, ends)


# Full-width ASCII and the ideographic space map 1:1 to ASCII under NFKC: done with str.translate.
_FW_TABLE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FW_TABLE[0x3000] = 0x20
# str.translate does a dict lookup for every character (~0.13 µs each, 130 ms per 1 M characters);
# Chinese text holds few full-width characters (，：；（）and digits, ~6 %): translate only their runs.
_FW_RUN_RE = re.compile("[\uff01-\uff5e\u3000]+")


def _fw_to_ascii(s: str) -> str:
    return _FW_RUN_RE.sub(lambda m: m.group().translate(_FW_TABLE), s)


# Lone surrogates (a broken PDF text layer can yield them) cannot be encoded: OpenCC and the
# automata would raise. They become U+FFFD, 1:1, so offsets are unchanged.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def normalize(original: str, t2s: bool = True) -> NormalizedText:
    # Fast path: only 1:1 replacements (full-width → ASCII, character-level 繁→简): identity offsets.
    text = _fw_to_ascii(original)
    if _SURROGATE_RE.search(text) is not None:
        text = _SURROGATE_RE.sub("\ufffd", text)
    if t2s and has_traditional(text):
        cc = _t2s()
        converted = cc.convert(text) if cc is not None else text
        if len(converted) != len(text):
            table = _trad_table()[0]
            converted = "".join(table.get(c, c) for c in text)
        text = converted
    if _ZW_RE.search(text) is None and unicodedata.is_normalized("NFKC", text):
        return NormalizedText(original, text, None, None)
    # Slow path, keeping the map (length-changing NFKC forms, zero-width characters). Runs of
    # characters that map 1:1 (most of a line) are translated at once with identity offsets; only
    # the other characters go one by one. Same result as doing every character one by one.
    one_to_one, run_re = _one_to_one(t2s)
    chars: list[str] = []
    starts, ends = array("i"), array("i")
    pos = 0
    for m in run_re.finditer(original):
        a, b = m.span()
        if a > pos:
            _slow_chars(original, pos, a, t2s, chars, starts, ends)
        chars.append(m.group().translate(one_to_one))
        starts.extend(range(a, b))
        ends.extend(range(a + 1, b + 1))
        pos = b
    if pos < len(original):
        _slow_chars(original, pos, len(original), t2s, chars, starts, ends)
    return NormalizedText(original, "".join(chars), starts, ends)


def _slow_chars(original: str, i: int, j: int, t2s: bool, chars: list, starts: array, ends: array) -> None:
    for k in range(i, j):
        ch = original[k]
        if ch in _ZW_SET:
            continue
        if "\ud800" <= ch <= "\udfff":
            ch = "\ufffd"
        out = unicodedata.normalize("NFKC", ch)
        if t2s:
            out = "".join(_char_t2s(c) for c in out)
        for c in out:
            if c in _ZW_SET:
                continue
            chars.append(c)
            starts.append(k)
            ends.append(k + 1)


# Blocks where Chinese drafts spend their characters: ASCII, Latin-1, general punctuation, CJK
# symbols and punctuation, CJK ideographs (and extension A), full-width forms.
_RUN_BLOCKS = ((0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x205E), (0x3000, 0x303F), (0x3400, 0x4DBF),
               (0x4E00, 0x9FFF), (0xFF01, 0xFFEF))


@lru_cache(maxsize=2)
def _one_to_one(t2s: bool):
    """(translate table, run regex) for the characters of _RUN_BLOCKS whose per-character result
    (NFKC, then character-level t2s) is exactly one character that is not zero-width."""
    table: dict[int, str] = {}
    members: list[int] = []
    for lo, hi in _RUN_BLOCKS:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            if ch in _ZW_SET:
                continue
            out = unicodedata.normalize("NFKC", ch)
            if t2s:
                out = "".join(_char_t2s(c) for c in out)
            if len(out) != 1 or out in _ZW_SET:
                continue
            members.append(cp)
            if out != ch:
                table[cp] = out
    ranges, start, prev = [], None, None
    for cp in members:
        if start is None:
            start = prev = cp
        elif cp == prev + 1:
            prev = cp
        else:
            ranges.append((start, prev))
            start = prev = cp
    if start is not None:
        ranges.append((start, prev))
    cls = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return table, re.compile(f"[{cls}]+")
