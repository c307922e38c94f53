"""Lexicon hits (term.*): one Aho-Corasick automaton (leftmost-longest, ahocorasick-rs) over the
compact normalised text for every lexicon in lexicons/terms/, with per-lexicon allowlists."""
from __future__ import annotations

import ahocorasick_rs

from ..config import ScanConfig
from ..model import Finding
from ..normalize import normalize
from ..policy import Policy
from ..rules import Lexicon, Ruleset
from .base import Detector, JoinedText, ScanContext, make_finding


def _key(term: str) -> str:
    return normalize(term).compact().text


class TermDetector(Detector):
    name = "terms"

    def __init__(self, lexicons: list[Lexicon]):
        self.patterns: list[str] = []
        self.owner: list[Lexicon] = []
        self.allow_patterns: list[str] = []
        self.allow_owner: list[Lexicon] = []
        seen: dict[str, int] = {}
        for lex in lexicons:
            for term in lex.terms:
                k = _key(term)
                if k and k not in seen:
                    seen[k] = len(self.patterns)
                    self.patterns.append(k)
                    self.owner.append(lex)
            for a in lex.allow:
                self.allow_patterns.append(_key(a))
                self.allow_owner.append(lex)
        self.ac = ahocorasick_rs.AhoCorasick(self.patterns, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest) \
            if self.patterns else None
        self.allow_ac = ahocorasick_rs.AhoCorasick(self.allow_patterns) if self.allow_patterns else None

    @classmethod
    def build(cls, config: ScanConfig, ruleset: Ruleset, policy: Policy) -> TermDetector:
        return cls(ruleset.lexicons)

    def detect(self, ctx: ScanContext) -> list[Finding]:
        return self._scan(ctx.joined("compact"))

    def _scan(self, jt: JoinedText) -> list[Finding]:
        if self.ac is None:
            return []
        t = jt.text
        hits = self.ac.find_matches_as_indexes(t)
        if not hits:
            return []
        allowed: list[tuple[int, int, Lexicon]] = []
        if self.allow_ac is not None:
            allowed = [(s, e, self.allow_owner[k]) for k, s, e in
                       self.allow_ac.find_matches_as_indexes(t, overlapping=True)]
        out = []
        for k, s, e in hits:
            lex = self.owner[k]
            if any(a <= s and e <= b and lx is lex for a, b, lx in allowed):
                continue
            where = jt.locate(s, e)
            if where is None:
                continue
            n, ls, le = where
            term = self.patterns[k]
            out.append(make_finding(jt.segments[n], jt.views[n], ls, le, category=lex.category,
                                    rule_id=f"{lex.category}.lexicon.v1", severity=lex.severity,
                                    confidence=lex.confidence, explanation=lex.explanation.replace("{term}", term),
                                    suggestion=lex.suggestion, evidence=[f"lexicon:{lex.name}"]))
        return out
