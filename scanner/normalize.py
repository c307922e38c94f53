"""Normalisation with an offset map back to the original text.

NormalizedText.text is what detectors match on; `span(i, j)` maps a match [i, j) in the
normalised text back to the exact original code-point span. Steps, per original character:
NFKC (full-width → half-width, compatibility forms), removal of zero-width characters and soft
hyphens, traditional → simplified Chinese (OpenCC t2s), look-alike letters (a Cyrillic а inside
a Latin word, 囗 for 口: lexicons/data/confusables.tsv, 1:1 so offsets are unchanged).
`compact()` additionally drops white space and filler symbols so that "秘 密 ★ １ 年" or
"请·勿·扩·散" still match. `stripped()` is the evasion view for term matching: only letters,
digits and ideographs are kept (symbols, punctuation, emoji, HTML tags between the characters of a
word are dropped) and a character repeated in a row counts once ("不@得@外@传", "不<b>得</b>外传",
"不不得得外外传传"); every kept character still maps back to its original span.

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
def _trad_table() -> tuple[dict[str, str], re.Pattern]:
    """Character-level t2s table, built once (~30 ms) by converting every CJK code point."""
    cc = _t2s()
    if cc is None:
        return {}, re.compile("(?!)")
    chars = [chr(c) for c in [*range(0x3400, 0x4DC0), *range(0x4E00, 0xA000), *range(0xF900, 0xFB00)]]
    out = cc.convert("\n".join(chars)).split("\n")
    table = {a: b for a, b in zip(chars, out) if a != b and len(b) == 1} if len(out) == len(chars) else {}
    pattern = re.compile("[" + "".join(re.escape(c) for c in table) + "]") if table else re.compile("(?!)")
    return table, pattern


# -- look-alike characters ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _confusables() -> tuple[dict[int, str], dict[int, str], re.Pattern, re.Pattern]:
    """(table applied everywhere, table applied inside Latin words, pattern of every mapped character,
    Latin-word pattern) from lexicons/data/confusables.tsv."""
    from .config import default_lexicon_dir
    always: dict[int, str] = {}
    latin: dict[int, str] = {}
    try:
        lines = (default_lexicon_dir() / "data" / "confusables.tsv").read_text(encoding="utf-8").splitlines()
    except OSError:      # pragma: no cover - the table ships with the lexicons
        lines = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        char, repl, scope = (line.split("\t") + ["", ""])[:3]
        if len(char) != 1 or len(repl) != 1:
            raise ValueError(f"confusables.tsv: one character each side, not {line!r}")
        (latin if scope == "latin" else always)[ord(char)] = repl
    chars = "".join(re.escape(chr(c)) for c in (*always, *latin))
    any_re = re.compile(f"[{chars}]") if chars else re.compile("(?!)")
    # a word of Latin, Cyrillic and Greek letters (the Latin-scope table applies only when it holds ASCII)
    word_re = re.compile("[A-Za-z\u0370-\u03ff\u0400-\u04ff\u0500-\u052f]+")
    return always, latin, any_re, word_re


def _fold_confusables(text: str) -> str:
    always, latin, any_re, word_re = _confusables()
    if any_re.search(text) is None:
        return text
    if always:
        text = text.translate(always)
    if latin:
        def fold(m: re.Match) -> str:
            w = m.group()
            if w.isascii() or not any("a" <= c.lower() <= "z" for c in w):
                return w
            return w.translate(latin)
        text = word_re.sub(fold, text)
    return text


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

    def compact(self) -> NormalizedText:
        """A view with filler characters (FILLER) removed, still mapping to the original."""
        t = self.text
        if _FILLER_RE.search(t) is None:
            return self
        text, starts, ends = self._keep_runs(_KEEP_RUN_RE.finditer(t), 0)
        return NormalizedText(self.original, text, starts, ends)

    def _keep_runs(self, runs, offset: int) -> tuple[str, array, array]:
        """The characters of `runs` (matches in self.text[offset:]) joined, with their original spans."""
        chars: list[str] = []
        starts, ends = array("i"), array("i")
        for m in runs:
            a, b = m.start() + offset, m.end() + offset
            chars.append(m.group())
            if self._starts is None:
                starts.extend(range(a, b))
                ends.extend(range(a + 1, b + 1))
            else:
                starts.extend(self._starts[a:b])
                ends.extend(self._ends[a:b])
        return "".join(chars), starts, ends

    def stripped(self, lo: int = 0, hi: int | None = None) -> NormalizedText:
        """The evasion view: letters, digits and ideographs only (HTML tags and entities, symbols,
        emoji, punctuation and white space dropped; a line break kept as a boundary), a character
        repeated in a row (side by side in the original) kept once and mapped to the whole run.
        Still maps to the original. lo/hi: only the window [lo, hi) of the normalised text."""
        t = self.text if lo == 0 and hi is None else self.text[lo:hi]
        if "<" in t or "&" in t:
            t = TAG_RE.sub(lambda m: " " * len(m.group()), t)
        text, starts, ends = self._keep_runs(_WORD_RUN_RE.finditer(t), lo)
        runs = [m for m in _REPEAT_RE.finditer(text)]
        if runs:
            # keep the first character of each run of characters side by side in the original, mapped
            # to the whole run; copy the stretches between runs in slices
            out: list[str] = []
            s2, e2 = array("i"), array("i")
            pos = 0
            for m in runs:
                a, b = m.span()
                k = a + 1
                while k < b and starts[k] == ends[k - 1]:
                    k += 1
                if k == a + 1:
                    continue          # the same letter again, but not side by side (P;P)
                out.append(text[pos:a + 1])
                s2.extend(starts[pos:a + 1])
                e2.extend(ends[pos:a])
                e2.append(ends[k - 1])
                pos = k
            out.append(text[pos:])
            s2.extend(starts[pos:])
            e2.extend(ends[pos:])
            text, starts, ends = "".join(out), s2, e2
        return NormalizedText(self.original, text, starts, ends)


# -- the evasion view (stripped) -----------------------------------------------------------------------
# Punctuation that ordinary prose puts between words. A term split by one of these at a single place
# ("……内部。数据显示……") is two words, not an evasion; split at every place ("不，得，外，传") it is.
PROSE_PUNCT = frozenset("，。、；：？！“”‘’（）《》〈〉【】〔〕「」『』…—–-,.;:?!()[]{}\"'%/·・~|_‐‑∶") | FILLER
_PUNCT_CLASS = "".join(re.escape(c) for c in sorted(PROSE_PUNCT - {"\n"}))
# An HTML/XML tag or character entity written into the text (a pasted page source, a CMS field).
TAG_RE = re.compile(r"<[ \t]*/?[ \t]*[A-Za-z][A-Za-z0-9]{0,10}(?:[ \t][^<>\n]{0,80})?[ \t]*/?[ \t]*>"
                    r"|&(?:[A-Za-z]{2,8}|#\d{2,6}|#[xX][0-9A-Fa-f]{2,5});")
# Characters kept by stripped(): letters, digits, ideographs, and the line break (a hard boundary).
_WORD_RUN_RE = re.compile(r"[^\W_]+|\n")
_REPEAT_RE = re.compile(r"([^\W\d_])\1+")
# Worth building the evasion view for: a symbol, emoji or tag bracket (neither a word character,
# white space nor prose punctuation) right after a letter or ideograph (a bullet ● at the start of a
# line, the ratio in 3∶1, are not a split word); single ideographs between separators twice in a row
# (不，得，外，传); an ideograph doubled (不不得得 — natural doubles such as 谢谢 are common, so callers
# keep only the characters of their terms). The term detector finds the last two with its automaton.
STRONG_JUNK_RE = re.compile(f"[^\\w\\s{_PUNCT_CLASS}]")
SEPARATED_RE = re.compile(f"[{_PUNCT_CLASS}][\u3400-\u9fff][{_PUNCT_CLASS}][\u3400-\u9fff][{_PUNCT_CLASS}]")
DOUBLED_RE = re.compile(r"([\u3400-\u9fff])\1")
# the prose punctuation an evasion puts between characters (after NFKC: ，→, ：→: ；→;)
SEPARATORS = ",、。.;:!?/|…—"


def junk_after_word(text: str):
    """Offsets of symbols, emoji and tag brackets that stand right after a letter or ideograph."""
    for m in STRONG_JUNK_RE.finditer(text):
        i = m.start()
        if i and text[i - 1].isalpha():
            yield i


def suspicious(text: str, chars: frozenset[str] | None = None) -> bool:
    """Could text hide a term behind inserted symbols, tags, separators or repeated characters?
    (`chars`: only a doubled character among these counts; None: any doubled ideograph.)"""
    if next(junk_after_word(text), None) is not None or SEPARATED_RE.search(text):
        return True
    return any(chars is None or m.group(1) in chars for m in DOUBLED_RE.finditer(text))


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
        return NormalizedText(original, _fold_confusables(text), None, None)
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
    return NormalizedText(original, _fold_confusables("".join(chars)), starts, ends)


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
