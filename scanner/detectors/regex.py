"""Pattern rules from lexicons/rules/*.toml (pii.*, secret.*, geo.*): regex + keyword prefilter +
validator + context words that raise or lower confidence + allowlists (gitleaks / Presidio ideas)."""
from __future__ import annotations

from collections.abc import Mapping

import ahocorasick_rs

from ..config import ScanConfig
from ..model import Finding
from ..policy import Policy
from ..rules import Rule, Ruleset
from ..validators import Tables, Validator, bound, shannon_entropy
from .base import Detector, JoinedText, ScanContext, make_finding

CONTEXT_PLUS = 0.1
WINDOW_MIN_CHARS = 4096     # below this, one pass over the whole text costs as little
DEFAULT_TIMEOUT_S = 1.0


class RegexDetector(Detector):
    name = "regex"

    def __init__(self, rules: list[Rule], validators: Mapping[str, Validator] | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S):
        self.rules = [r for r in rules if r.category.split(".")[0] not in ("marking",)]
        self.validators = validators if validators is not None else bound(Tables.load())
        self.timeout = timeout_s
        for r in self.rules:
            if r.validator and r.validator not in self.validators:    # the rule loader checks this too
                raise ValueError(f"rule {r.id}: unknown validator {r.validator}")
        # every rule's keywords in one automaton: one pass per document says which are present, instead
        # of one substring search per keyword per rule (dozens of rules carry keywords)
        kws = sorted({k.lower() for r in self.rules for k in r.keywords})
        index = {k: i for i, k in enumerate(kws)}
        self._kw_ac = ahocorasick_rs.AhoCorasick(kws) if kws else None
        self._rule_kw = {id(r): frozenset(index[k.lower()] for k in r.keywords) for r in self.rules}

    @classmethod
    def build(cls, config: ScanConfig, ruleset: Ruleset, policy: Policy) -> RegexDetector:
        return cls(ruleset.rules, bound(Tables.load(ruleset.lexicon_dir)), config.regex_timeout_s)

    def detect(self, ctx: ScanContext) -> list[Finding]:
        jt = ctx.joined("norm")
        out: list[Finding] = []
        present = self._present_keywords(jt)
        for rule in self.rules:
            try:
                self._scan_rule(rule, jt, present, out)
            except TimeoutError:      # the findings before the timeout stand; the rest is not checked
                ctx.rule_timed_out(self.name, rule.id)
        return out

    def _present_keywords(self, jt: JoinedText) -> set[int]:
        if self._kw_ac is None:
            return set()
        return {k for k, _, _ in self._kw_ac.find_matches_as_indexes(jt.lower, overlapping=True)}

    def _matches(self, rule: Rule, jt: JoinedText, present: set[int]):
        """The rule's regex matches in the joined text. For a rule whose keywords and prefilter
        always lie inside a match (`anchors_in_match = true`) on a long text, the regex runs only
        on the segments that hold an anchor: Python's `re` scans CJK text at a few MB/s per
        pattern, and most segments of a long document hold no digit run, '@' or keyword.
        Same findings (a match never crosses a segment: `locate` drops those anyway)."""
        text = jt.text
        if rule.keywords and not (self._rule_kw[id(rule)] & present):
            return
        if not (rule.anchors_in_match and len(text) >= WINDOW_MIN_CHARS and len(jt.lower) == len(text)):
            if rule.prefilter is not None and rule.prefilter.search(text, timeout=self.timeout) is None:
                return
            yield from rule.regex.finditer(text, timeout=self.timeout)
            return
        n = len(text)
        if rule.keywords:       # anchors by plain substring search (fast), then the prefilter per segment
            segs: set[int] = set()
            low = jt.lower
            for k in rule.keywords:
                k = k.lower()
                i = low.find(k)
                while i != -1:
                    s = jt.segment_at(i)
                    segs.add(s)
                    i = low.find(k, jt.segment_end(s) + 1)
            for s in sorted(segs):
                a, b = jt.starts[s], min(jt.segment_end(s) + 1, n)
                if rule.prefilter is not None and rule.prefilter.search(text, a, b, timeout=self.timeout) is None:
                    continue
                yield from rule.regex.finditer(text, a, b, timeout=self.timeout)
            return
        if rule.prefilter is None:
            yield from rule.regex.finditer(text, timeout=self.timeout)
            return
        done_to = -1
        for h in rule.prefilter.finditer(text, timeout=self.timeout):
            if h.start() < done_to:
                continue
            a = jt.starts[jt.segment_at(h.start())]
            done_to = min(jt.segment_end(jt.segment_at(max(h.end() - 1, h.start()))) + 1, n)
            yield from rule.regex.finditer(text, a, done_to, timeout=self.timeout)

    def _scan_rule(self, rule: Rule, jt: JoinedText, present: set[int], out: list[Finding]) -> None:
        text = jt.text
        t = self.timeout
        for m in self._matches(rule, jt, present):
            if rule.group == "first":     # alternatives with one value group each
                i, j = next((m.span(g) for g in range(1, (m.re.groups or 0) + 1) if m.start(g) >= 0), m.span())
            else:
                i, j = m.span(rule.group)
            if i < 0 or j <= i:
                continue
            where = jt.locate(i, j)
            if where is None:
                continue
            value = text[i:j]
            lo, hi = max(0, i - rule.context_window), min(len(text), j + rule.context_window)
            before, after = text[lo:i], text[j:hi]
            context = before + " " + after
            if any(a.search(value, timeout=t) for a in rule.allow):
                continue
            if rule.entropy and shannon_entropy(value) < rule.entropy:
                continue
            if any(a.search(text[lo:hi], timeout=t) for a in rule.allow_context):
                continue
            conf = rule.confidence
            evidence = [f"pattern:{rule.id}"]
            ctx_lower = context.lower()
            plus = [w for w in rule.context_plus if w.lower() in ctx_lower]
            minus = [w for w in rule.context_minus if w.lower() in ctx_lower]
            if rule.context_required and not plus:
                continue
            if rule.validator:
                verdict = self.validators[rule.validator](value, context, before=before, after=after)
                if verdict is False:
                    continue
                if verdict is True:
                    conf = max(conf, 0.95)
                    evidence.append(f"validator:{rule.validator}:valid")
            if plus:
                conf = min(0.99, conf + CONTEXT_PLUS)
                evidence.append("context+:" + ",".join(plus[:3]))
            if minus:
                conf = max(0.05, conf - rule.context_minus_weight)
                evidence.append("context-:" + ",".join(minus[:3]))
            k, li, lj = where
            out.append(make_finding(jt.segments[k], jt.views[k], li, lj, category=rule.category,
                                    rule_id=rule.id, severity=rule.severity, confidence=conf,
                                    explanation=rule.explanation.replace("{text}", value),
                                    suggestion=rule.suggestion, evidence=evidence))
