"""Lexicon hits (term.*): one Aho-Corasick automaton (leftmost-longest, ahocorasick-rs) over the
compact normalised text for every lexicon in lexicons/terms/, with per-lexicon allowlists.

Evasion: segments that could hide a term (`normalize.suspicious`: symbols, emoji, tags, a letter
repeated, one ideograph between separators again and again) are matched a second time on their
stripped view (`NormalizedText.stripped`), where "不@得@外@传", "不<b>得</b>外传" and "不不得得外外传传"
read 不得外传. A stripped hit counts only when what was dropped inside it is evasion: a symbol, emoji
or tag, a repeated character, or a separator between every two of its characters; prose punctuation
at one place ("管理内部。数据显示") is a word boundary, and the hit is dropped.

Word boundaries: a hit inside a longer ordinary word (无限内部空间, 期待公布) or used as an attribute
(阅后销毁函数, 内部数据结构) is dropped, from each lexicon's `joins` and `heads` (data).
"""
from __future__ import annotations

import ahocorasick_rs

from ..config import ScanConfig
from ..model import Finding, Segment
from ..normalize import FILLER, PROSE_PUNCT, SEPARATORS, TAG_RE, NormalizedText, junk_after_word, normalize
from ..policy import Policy
from ..rules import Lexicon, Ruleset
from .base import Detector, JoinedText, ScanContext, make_finding


def _key(term: str) -> str:
    return normalize(term).compact().text


def _stripped_key(term: str) -> str:
    return normalize(term).stripped().text


def _straddles(term: str, joins: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(texts that, right before the term, complete a join word over its first characters; texts
    that, right after it, complete one over its last characters)."""
    before, after = set(), set()
    for w in joins:
        for j in range(1, min(len(w), len(term) + 1)):
            if w[-j:] == term[:j] and len(w) > j:
                before.add(w[:-j])
            if w[:j] == term[-j:] and len(w) > j:
                after.add(w[j:])
    return tuple(sorted(before)), tuple(sorted(after))


class _Automaton:
    """Patterns of one view (compact or stripped) with their lexicon and boundary rules."""

    def __init__(self, lexicons: list[Lexicon], key, markers: bool = False) -> None:
        self.patterns: list[str] = []
        self.owner: list[Lexicon] = []
        self.before: list[tuple[str, ...]] = []
        self.after: list[tuple[str, ...]] = []
        seen: set[str] = set()
        for lex in lexicons:
            joins = [key(w) for w in lex.joins]
            for term in lex.terms:
                k = key(term)
                if k and k not in seen:
                    seen.add(k)
                    self.patterns.append(k)
                    self.owner.append(lex)
                    b, a = _straddles(k, joins)
                    self.before.append(b)
                    self.after.append(a)
        # markers (compact view only): a term character doubled (不不) or alone between two separators
        # (，得，): signs of an evasion, found in the same pass; the segment is then matched on its
        # stripped view too. A marker never becomes a finding.
        self.n_terms = len(self.patterns)
        extra: list[str] = []
        if markers:
            chars = sorted({c for p in self.patterns for c in p if "\u3400" <= c <= "\u9fff"})
            extra = [c + c for c in chars] + [p + c + p for c in chars for p in SEPARATORS]
            extra = [m for m in extra if m not in seen]
        self.has_markers = bool(extra)
        every = self.patterns + extra
        self.ac = ahocorasick_rs.AhoCorasick(every, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest) \
            if every else None
        self.heads = {id(lex): tuple(key(h) for h in lex.heads) for lex in lexicons}
        allow = [(key(a), lex) for lex in lexicons for a in lex.allow]
        self.allow_owner = [lex for _, lex in allow]
        self.allow_ac = ahocorasick_rs.AhoCorasick([a for a, _ in allow]) if allow else None

    @staticmethod
    def _repeats(t: str, s: int) -> bool:
        """A doubled character at s that is part of an evasion: tripled (不不不) or followed by another
        doubled character (不不得得)."""
        c = t[s]
        if t[s + 2:s + 3] == c:
            return True
        return len(t) > s + 3 and t[s + 2] == t[s + 3] or len(t) > s + 4 and t[s + 3] == t[s + 4]

    def hits(self, t: str, marks: list[int] | None = None):
        """(pattern index, start, end) of every hit that is not allowlisted and keeps to word boundaries;
        the start of every marker hit goes to `marks`."""
        if self.ac is None:
            return
        hits = self.ac.find_matches_as_indexes(t)
        if self.has_markers:
            n = self.n_terms
            if marks is not None:
                for k, s, e in hits:
                    if k < n:
                        continue
                    if e - s == 2 and not self._repeats(t, s):
                        continue      # one doubled character (人人, 看看) is ordinary writing
                    marks.append(s)
            hits = [h for h in hits if h[0] < n]
        if not hits:
            return
        allowed = []
        if self.allow_ac is not None:
            allowed = [(s, e, self.allow_owner[k]) for k, s, e in self.allow_ac.find_matches_as_indexes(t, overlapping=True)]
        for k, s, e in hits:
            lex = self.owner[k]
            if any(a <= s and e <= b and lx is lex for a, b, lx in allowed):
                continue
            if any(t.startswith(h, e) for h in self.heads[id(lex)]):
                continue          # an attribute of a noun: 阅后销毁函数
            if any(t[max(0, s - len(x)):s] == x for x in self.before[k]) or \
                    any(t.startswith(x, e) for x in self.after[k]):
                continue          # inside a longer word: 期待公布, 无限内部空间
            yield k, s, e


def evasion(seg_text: str, view: NormalizedText, s: int, e: int) -> str | None:
    """What was dropped inside a stripped hit [s, e): "symbols" (a symbol, emoji or tag), "repeat" (a
    character repeated), "separators" (prose punctuation or spacing between every two characters), or
    None (nothing evasive: nothing dropped, only filler, or prose punctuation at some places only,
    which is a word boundary)."""
    spans = [view.span(k, k + 1) for k in range(s, e)]
    repeat = any(b - a > 1 and len(set(seg_text[a:b])) == 1 for a, b in spans)
    gaps = [seg_text[spans[k][1]:spans[k + 1][0]] for k in range(len(spans) - 1)]
    symbols = False
    punct = False
    for g in gaps:
        if not g:
            continue
        rest = TAG_RE.sub("", g)
        if rest != g:
            symbols = True
        for ch in normalize(rest).text:
            if ch in FILLER or ch.isspace():
                continue
            if ch in PROSE_PUNCT:
                punct = True
            else:
                symbols = True
    if symbols:
        return "symbols"
    if punct:
        return "separators" if all(gaps) else None
    if repeat:
        return "repeat"
    return None


def _norm_index(norm: NormalizedText, orig: int) -> int:
    """The normalised index of the character at original offset `orig` (approximately, for windows)."""
    if norm.identity:
        return orig
    from bisect import bisect_left
    return bisect_left(norm._starts, orig)


EVASION_ZH = {"symbols": "字符之间插入了符号、表情或标签", "repeat": "字符被重复书写",
              "separators": "每个字符之间都插入了标点或空格"}


class TermDetector(Detector):
    name = "terms"

    def __init__(self, lexicons: list[Lexicon]):
        self.compact = _Automaton(lexicons, _key, markers=True)
        self.stripped = _Automaton(lexicons, _stripped_key)
        self.patterns = self.compact.patterns

    @classmethod
    def build(cls, config: ScanConfig, ruleset: Ruleset, policy: Policy) -> TermDetector:
        return cls(ruleset.lexicons)

    def detect(self, ctx: ScanContext) -> list[Finding]:
        segs = ctx.document.segments
        return self._scan(ctx.joined("compact"), segs, [ctx.normalized[s.id] for s in segs])

    def _scan(self, jt: JoinedText, segs: list[Segment], norms: list[NormalizedText]) -> list[Finding]:
        out: list[Finding] = []
        auto = self.compact
        marks: list[int] = []
        t = jt.text
        for k, s, e in auto.hits(t, marks):
            where = jt.locate(s, e)
            if where is None:
                continue
            n, ls, le = where
            out.append(self._finding(jt.segments[n], jt.views[n], ls, le, auto.owner[k], auto.patterns[k]))
        # the evasion view, only around the places that could hide a term
        picked = self._windows(jt, segs, norms, marks + list(junk_after_word(t)))
        if picked:
            taken = {(f.segment_id, f.start) for f in out}
            sjt = JoinedText([p[0] for p in picked], [p[1] for p in picked])
            auto = self.stripped
            for k, s, e in auto.hits(sjt.text):
                where = sjt.locate(s, e)
                if where is None:
                    continue
                n, ls, le = where
                seg, view = sjt.segments[n], sjt.views[n]
                how = evasion(seg.text, view, ls, le)
                if how is None:
                    continue
                f = self._finding(seg, view, ls, le, auto.owner[k], auto.patterns[k], how)
                if (f.segment_id, f.start) not in taken:
                    out.append(f)
        return out

    WINDOW = 80      # normalised characters each side of a sign of evasion (a term with a tag between
                     # every two of its characters spans several times its own length)

    def _windows(self, jt: JoinedText, segs: list[Segment], norms: list[NormalizedText], at: list[int]):
        """(segment, stripped view of a window) around each joined offset in `at`, windows merged."""
        spans: dict[int, list[list[int]]] = {}
        for i in sorted(at):
            k = jt.segment_at(i)
            # `at` is in the compact view; widen by the compact→normalised difference at that place
            comp = jt.views[k]
            li = comp.orig_start(i - jt.starts[k])
            norm = norms[k]
            c = _norm_index(norm, li)
            lo, hi = max(0, c - self.WINDOW), min(len(norm.text), c + self.WINDOW)
            w = spans.setdefault(k, [])
            if w and lo <= w[-1][1]:
                w[-1][1] = max(w[-1][1], hi)
            else:
                w.append([lo, hi])
        return [(segs[k], norms[k].stripped(lo, hi)) for k in sorted(spans) for lo, hi in spans[k]]

    @staticmethod
    def _finding(seg: Segment, view: NormalizedText, i: int, j: int, lex: Lexicon, term: str,
                 how: str | None = None) -> Finding:
        explanation = lex.explanation.replace("{term}", term)
        evidence = [f"lexicon:{lex.name}"]
        if how:
            explanation += f"（{EVASION_ZH[how]}，疑似为规避检测而改写。）"
            evidence.append(f"evasion:{how}")
        return make_finding(seg, view, i, j, category=lex.category, rule_id=f"{lex.category}.lexicon.v1",
                            severity=lex.severity, confidence=lex.confidence, explanation=explanation,
                            suggestion=lex.suggestion, evidence=evidence)

