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


@lru_cache(maxsize=1)
def _t2s():
    try:
        import opencc
        return opencc.OpenCC("t2s")
    except Exception:  # pragma: no cover - OpenCC is a pinned dependency
        return None


@lru_cache(maxsize=65536)
def _char_t2s(ch: str) -> str:
    cc = _t2s()
    if cc is None:
        return ch
    out = cc.convert(ch)
    return out if len(out) == 1 else ch


def _has_cjk(s: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in s)


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

    def compact(self, drop: frozenset = FILLER) -> "NormalizedText":
        """A view with filler characters removed, still mapping to the original."""
        t = self.text
        if not any(c in drop for c in t):
            return self
        chars, starts, ends = [], array("i"), array("i")
        for k, c in enumerate(t):
            if c in drop:
                continue
            chars.append(c)
            starts.append(self.orig_start(k))
            ends.append(self.orig_end(k + 1))
        return NormalizedText(self.original, "".join(chars), starts, ends)


def normalize(original: str, t2s: bool = True) -> NormalizedText:
    needs_nfkc = not unicodedata.is_normalized("NFKC", original)
    needs_zw = _ZW_RE.search(original) is not None
    converted = None
    if t2s and _has_cjk(original):
        cc = _t2s()
        if cc is not None:
            converted = cc.convert(original)
            if converted == original:
                converted = None
    if not needs_nfkc and not needs_zw and converted is None:
        return NormalizedText(original, original, None, None)
    # Slow path: per character, keeping the map.
    if not needs_nfkc and not needs_zw and converted is not None and len(converted) == len(original):
        return NormalizedText(original, converted, None, None)   # t2s is 1:1 here
    chars: list[str] = []
    starts, ends = array("i"), array("i")
    for k, ch in enumerate(original):
        if ch in _ZW_SET:
            continue
        out = unicodedata.normalize("NFKC", ch) if needs_nfkc else ch
        if t2s and out and ("\u3400" <= out[0] <= "\u9fff" or "\uf900" <= out[0] <= "\ufaff"):
            out = "".join(_char_t2s(c) for c in out)
        for c in out:
            if c in _ZW_SET:
                continue
            chars.append(c)
            starts.append(k)
            ends.append(k + 1)
    return NormalizedText(original, "".join(chars), starts, ends)
