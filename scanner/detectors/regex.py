"""Pattern rules from lexicons/rules/*.toml (pii.*, secret.*, geo.*): regex + keyword prefilter +
validator + context words that raise or lower confidence + allowlists (gitleaks / Presidio ideas)."""
from __future__ import annotations

from collections.abc import Mapping

import ahocorasick_rs

from ..config import ScanConfig
from ..model import Finding, Segment
from ..normalize import NormalizedText
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
        headers = self._headers(jt)
        for rule in self.rules:
            try:
                self._scan_rule(rule, jt, present, out, headers)
            except TimeoutError:      # the findings before the timeout stand; the rest is not checked
                ctx.rule_timed_out(self.name, rule.id)
        if any(r.cross_lines for r in self.rules):
            try:
                out.extend(self._across_lines(jt, present))
            except TimeoutError:
                ctx.rule_timed_out(self.name, "across-line-break")
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

    def _scan_rule(self, rule: Rule, jt: JoinedText, present: set[int], out: list[Finding],
                   headers: dict[int, str] | None = None) -> None:
        text = jt.text
        for m in self._matches(rule, jt, present):
            i, j = self._span(rule, m)
            if i < 0 or j <= i:
                continue
            where = jt.locate(i, j)
            if where is None:
                continue
            judged = self._judge(rule, text, i, j, headers.get(where[0], "") if headers else "")
            if judged is None:
                continue
            conf, evidence = judged
            k, li, lj = where
            out.append(self._finding(rule, jt.segments[k], jt.views[k], li, lj, text[i:j], conf, evidence))

    @staticmethod
    def _span(rule: Rule, m) -> tuple[int, int]:
        if rule.group == "first":     # alternatives with one value group each
            return next((m.span(g) for g in range(1, (m.re.groups or 0) + 1) if m.start(g) >= 0), m.span())
        return m.span(rule.group)

    def _judge(self, rule: Rule, text: str, i: int, j: int, header: str = "") -> tuple[float, list[str]] | None:
        """(confidence, evidence) of the value text[i:j], or None when allowlists, entropy, context or
        the validator drop it. `header`: the column header of a table cell (its label, rows away)."""
        t = self.timeout
        value = text[i:j]
        lo, hi = max(0, i - rule.context_window), min(len(text), j + rule.context_window)
        before, after = text[lo:i], text[j:hi]
        context = before + " " + after + (" " + header if header else "")
        if any(a.search(value, timeout=t) for a in rule.allow):
            return None
        if rule.entropy and shannon_entropy(value) < rule.entropy:
            return None
        if any(a.search(text[lo:hi], timeout=t) for a in rule.allow_context):
            return None
        conf = rule.confidence
        evidence = [f"pattern:{rule.id}"]
        ctx_lower = context.lower()
        plus = [w for w in rule.context_plus if w.lower() in ctx_lower]
        minus = [w for w in rule.context_minus if w.lower() in ctx_lower]
        if rule.context_required and not plus:
            return None
        if rule.context_all and not all(a.search(text[lo:hi], timeout=t) for a in rule.context_all):
            return None
        if rule.validator:
            verdict = self.validators[rule.validator](value, context, before=before, after=after)
            if verdict is False:
                return None
            if verdict is True:
                conf = max(conf, 0.95)
                evidence.append(f"validator:{rule.validator}:valid")
        if plus:
            conf = min(0.99, conf + CONTEXT_PLUS)
            evidence.append("context+:" + ",".join(plus[:3]))
        elif rule.severity_no_context is not None:
            evidence.append("context:none")
        if minus:
            conf = max(0.05, conf - rule.context_minus_weight)
            evidence.append("context-:" + ",".join(minus[:3]))
        return conf, evidence

    @staticmethod
    def _finding(rule: Rule, seg: Segment, view: NormalizedText, i: int, j: int, value: str, conf: float,
                 evidence: list[str], note: str = "") -> Finding:
        severity = rule.severity_no_context if rule.severity_no_context and "context:none" in evidence else rule.severity
        return make_finding(seg, view, i, j, category=rule.category, rule_id=rule.id, severity=severity,
                            confidence=conf, explanation=rule.explanation.replace("{text}", value) + note,
                            suggestion=rule.suggestion, evidence=evidence)

    @staticmethod
    def _headers(jt: JoinedText) -> dict[int, str]:
        """Segment index -> the text of the header cell (row 0) above it, for table cells below the
        first row: a label such as 身份证号 stands at the top of its column, far from the values."""
        cells = [(k, seg.locator) for k, seg in enumerate(jt.segments) if "table" in seg.locator]
        if not cells:
            return {}
        top = {(loc.get("table"), loc.get("part"), loc.get("col")): jt.segments[k].text
               for k, loc in cells if loc.get("row") == 0}
        return {k: top.get((loc.get("table"), loc.get("part"), loc.get("col")), "") for k, loc in cells if loc.get("row")}

    SEAM = 24    # characters each side of a line break that a number split by it can take

    def _across_lines(self, jt: JoinedText, present: set[int]) -> list[Finding]:
        """Numbers split by a line break (a PDF line wrap): for rules with `cross_lines`, the end of one
        line and the start of the next (same layer, digits on both sides) are matched as one text;
        a number found across the break is reported as two findings, one per line."""
        out: list[Finding] = []
        views, segs = jt.views, jt.segments
        rules = [r for r in self.rules if r.cross_lines and (not r.keywords or self._rule_kw[id(r)] & present)]
        for k in range(len(views) - 1):
            a, b = views[k].text, views[k + 1].text
            if not a or not b or not a[-1].isdigit() or not (b[0].isdigit() or b[0] in "Xx") \
                    or segs[k].layer != segs[k + 1].layer or "table" in segs[k].locator:
                continue
            tail, head = a[-self.SEAM:], b[:self.SEAM]
            joined = tail + head
            cut = len(tail)
            for rule in rules:
                for m in rule.regex.finditer(joined, timeout=self.timeout):
                    i, j = self._span(rule, m)
                    if not (i < cut < j):
                        continue
                    if rule.cross_lines_not_after is not None and rule.cross_lines_not_after.search(joined[:i]):
                        continue
                    judged = self._judge(rule, joined, i, j)
                    if judged is None:
                        continue
                    conf, evidence = judged
                    evidence = [*evidence, "position:across-line-break"]
                    value = joined[i:j]
                    note = "（号码被换行断开，两行合起来才是完整号码。）"
                    base = len(a) - len(tail)
                    out.append(self._finding(rule, segs[k], views[k], base + i, len(a), value, conf, evidence, note))
                    out.append(self._finding(rule, segs[k + 1], views[k + 1], 0, j - cut, value, conf, evidence, note))
        return out
