"""The detector contract and the scan context shared by detectors.

A detector is a subclass of `Detector` with one method, `detect(ctx)`, that returns the Findings
it sees in the document; their start/end are offsets into a segment's ORIGINAL text (build them
with `make_finding`). The context gives the segments with their normalised texts (`ctx.views()`),
the whole document joined into one text (`ctx.joined("norm" | "compact")`) for one regex or
automaton pass, and `ctx.add_error` for what the detector could not check (the decision is then at
least review). A detector never changes other detectors' findings: what looks across findings is
a step in scanner/postprocess.py. It may read those of the detectors that ran before it
(`ctx.found`, set by the engine) to narrow where it looks, never to change what it reports there
(the names tagger reads only segments where a name can reach the report). The detectors that run, and their order, are the
explicit list in scanner/detectors/__init__.py.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from ..model import Document, Finding, ScanError, Segment
from ..normalize import NormalizedText, normalize

if TYPE_CHECKING:   # pragma: no cover
    from ..config import ScanConfig
    from ..policy import Policy
    from ..rules import Ruleset

log = logging.getLogger("baomi.detectors")
VISIBLE_TEXT_LIMIT = 2_000_000


class JoinedText:
    """All segments' normalised (or compact) texts joined with "\n", so a detector runs one regex or
    automaton pass per document instead of one per segment; `locate` maps a match back."""

    def __init__(self, segments: list[Segment], views: list[NormalizedText]):
        self.segments = segments
        self.views = views
        self.starts: list[int] = []
        pos = 0
        parts = []
        for v in views:
            self.starts.append(pos)
            parts.append(v.text)
            pos += len(v.text) + 1
        self.text = "\n".join(parts)
        self._lower: str | None = None

    @property
    def lower(self) -> str:
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

    def segment_at(self, i: int) -> int:
        """Index of the segment holding joined offset i (a joining "\n" counts to the segment before)."""
        return max(0, bisect_right(self.starts, i) - 1)

    def segment_end(self, k: int) -> int:
        """Joined offset just past segment k's text (where its joining "\n" stands)."""
        return self.starts[k] + len(self.views[k].text)

    def locate(self, i: int, j: int) -> tuple[int, int, int] | None:
        """(index of segment, local start, local end), or None when [i, j) crosses a segment boundary."""
        k = bisect_right(self.starts, i) - 1
        if k < 0:
            return None
        base = self.starts[k]
        if j - base > len(self.views[k].text):
            return None
        return k, i - base, j - base


@dataclass
class ScanContext:
    """What one scan of one document shares between detectors (built by `ScanContext.of`)."""
    document: Document
    # per-segment normalised texts (segment id -> NormalizedText)
    normalized: dict[int, NormalizedText] = field(default_factory=dict)
    # per (layer) ordinal of the segment among non-empty segments of that layer (0 = first line)
    ordinal: dict[int, int] = field(default_factory=dict)
    # what detectors could not check (a rule that ran out of time ...): added to the report's errors
    errors: list[ScanError] = field(default_factory=list)

    _joined: dict[str, JoinedText] = field(default_factory=dict)
    # document-level facts a detector computes once per scan (e.g. "is this teaching material")
    memo: dict[str, Any] = field(default_factory=dict)
    # the findings of the detectors that ran before this one (the engine's list, in DETECTORS
    # order); None when a detector runs alone (then it must not rely on them)
    found: list[Finding] | None = None

    @classmethod
    def of(cls, document: Document) -> ScanContext:
        """Normalise every segment once."""
        ctx = cls(document=document)
        counts: dict[str, int] = {}
        for seg in document.segments:
            ctx.normalized[seg.id] = normalize(seg.text)
            ctx.ordinal[seg.id] = counts.get(seg.layer, 0)
            counts[seg.layer] = counts.get(seg.layer, 0) + 1
        return ctx

    def views(self) -> Iterator[tuple[Segment, NormalizedText]]:
        """Each segment with its normalised text, in document order."""
        for seg in self.document.segments:
            yield seg, self.normalized[seg.id]

    def joined(self, kind: str = "norm") -> JoinedText:
        """Document text joined over all segments: kind "norm" (normalised) or "compact"."""
        jt = self._joined.get(kind)
        if jt is None:
            segs = self.document.segments
            views = [self.normalized[s.id] for s in segs]
            if kind == "compact":
                views = [v.compact() for v in views]
            jt = self._joined[kind] = JoinedText(segs, views)
        return jt

    @cached_property
    def visible_text(self) -> str:
        """The text a reader sees (body, tables, headers, footers), joined, bounded."""
        parts = [s.text for s in self.document.segments if s.layer in ("body", "table", "header", "footer")]
        return "\n".join(parts)[:VISIBLE_TEXT_LIMIT]

    def segment(self, seg_id: int) -> Segment:
        return self.document.segments[seg_id]

    def neighbours(self, seg: Segment, before: int = 1, after: int = 1) -> list[Segment]:
        segs = self.document.segments
        lo, hi = max(0, seg.id - before), min(len(segs), seg.id + after + 1)
        return [s for s in segs[lo:hi] if s.id != seg.id and s.layer == seg.layer]

    def add_error(self, error: ScanError) -> None:
        if not any(e.code == error.code and e.detail == error.detail for e in self.errors):
            self.errors.append(error)

    def rule_timed_out(self, detector: str, rule_id: str, seg_id: int | None = None) -> None:
        """A rule's regex ran out of time: the rule is skipped there, the scan fails closed.
        Logged with the rule id and segment id only, never the text."""
        log.warning("rule %s (%s) timed out on segment %s; skipped", rule_id, detector,
                    "all" if seg_id is None else seg_id)
        self.add_error(ScanError("scan.rule_timeout", "部分规则执行超时，该规则未能完成检查，结果不完整，需人工审查。",
                                 f"{detector}: rule {rule_id}"))


class Detector(ABC):
    """One kind of detection. Subclasses set `name`, implement `detect`, and (when their
    constructor needs more than nothing) `build`. Instances are shared by concurrent scans: keep
    no per-scan state on `self` (use locals or the ScanContext)."""

    name: ClassVar[str]
    needs_models: ClassVar[bool] = False     # model detectors do not run in light mode
    model_version: str = ""                  # a model detector's version, part of every report
    rules_hash: str = ""                     # hash of rules a detector loads itself (not in the Ruleset)

    @classmethod
    def build(cls, config: ScanConfig, ruleset: Ruleset, policy: Policy) -> Detector | None:
        """The detector for this configuration, or None when it does not run (e.g. names_scope=off)."""
        return cls()

    def warm(self) -> None:
        """Load what the detector would otherwise load on first use (tables, a segmenter), so that
        processes forked from this one inherit it (scanner.batch) instead of each loading it."""
        return None

    @abstractmethod
    def detect(self, ctx: ScanContext) -> Iterable[Finding]:
        """Findings in the document (offsets into each segment's original text)."""

    def detect_many(self, ctxs: list[ScanContext]) -> list[list[Finding]]:
        """detect of each document (Scanner.scan_documents); a detector whose fixed cost per call
        is high overrides it to work on all the documents at once, with the same findings."""
        return [list(self.detect(ctx)) for ctx in ctxs]


def make_finding(seg: Segment, norm: NormalizedText, i: int, j: int, *, category: str, rule_id: str,
                 severity: str, confidence: float, explanation: str, suggestion: str = "",
                 evidence: list[str] | None = None, normalized_offsets: bool = True) -> Finding:
    """Build a Finding from a match [i, j) in the normalised text (or original if normalized_offsets=False)."""
    start, end = norm.span(i, j) if normalized_offsets else (i, j)
    loc = dict(seg.locator)
    return Finding(category=category, rule_id=rule_id, start=start, end=end, text=seg.text[start:end],
                   layer=seg.layer, segment_id=seg.id, location=loc, severity=severity,
                   confidence=confidence, explanation=explanation, suggestion=suggestion,
                   evidence=list(evidence or []))
