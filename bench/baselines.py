"""Baselines measured in the same run as the scanner, on the same terms and regexes
(loaded from lexicons/ with scanner.rules.Ruleset, so they change when the lexicons change).

- NaiveScanner: what a user writes in an afternoon: `str.find` in a loop for every term, then
  every regex's finditer over the raw text. No normalisation, no validation, no context.
- Ceiling: raw Aho-Corasick (ahocorasick_rs, leftmost-longest) over all terms, plus one pass of
  every regex: the least work any scanner using these rules could do.
- Presidio: see presidio_baseline.py (own venv, subprocess).
"""
from __future__ import annotations

import time

import ahocorasick_rs

from scanner.rules import Ruleset, default_lexicon_dir


def load_rules(lexicon_dir=None):
    rs = Ruleset.load(lexicon_dir or default_lexicon_dir())
    terms: list[str] = []
    seen = set()
    for lex in rs.lexicons:
        for t in lex.terms:
            if t and t not in seen:
                seen.add(t)
                terms.append(t)
    regexes = [r.regex for r in rs.rules]
    return rs, terms, regexes


class NaiveScanner:
    def __init__(self, terms: list[str], regexes):
        self.terms, self.regexes = terms, regexes

    def scan(self, text: str) -> int:
        n = 0
        for t in self.terms:
            i = text.find(t)
            while i != -1:
                n += 1
                i = text.find(t, i + len(t))
        for rx in self.regexes:
            for _ in rx.finditer(text):
                n += 1
        return n


class Ceiling:
    def __init__(self, terms: list[str], regexes):
        self.ac = ahocorasick_rs.AhoCorasick(terms, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest) \
            if terms else None
        self.regexes = regexes

    def lexicon(self, text: str) -> int:
        return len(self.ac.find_matches_as_indexes(text)) if self.ac is not None else 0

    def regex(self, text: str) -> int:
        n = 0
        for rx in self.regexes:
            for _ in rx.finditer(text):
                n += 1
        return n

    def scan(self, text: str) -> int:
        return self.lexicon(text) + self.regex(text)


def timeit(fn, arg, repeat: int = 3) -> float:
    """Best-of-`repeat` wall time in seconds (least disturbed by the other tenants of the box)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - t0)
    return best
