"""Detector protocol and the scan context shared by detectors.

A detector is small: it looks at one Segment (original text + its NormalizedText) and returns
Findings whose start/end are offsets into the segment's ORIGINAL text. Document-level detectors
(e.g. hidden-layer presence, name severity next to other personal data) implement `finalize`.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..model import Document, Finding, Segment
from ..normalize import NormalizedText


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
    document: Document
    options: dict[str, Any] = field(default_factory=dict)   # e.g. {"light": True}
    # per-segment cache of normalised texts, filled by the engine before detectors run
    normalized: dict[int, NormalizedText] = field(default_factory=dict)
    # per (layer) ordinal of the segment among non-empty segments of that layer (0 = first line)
    ordinal: dict[int, int] = field(default_factory=dict)

    _joined: dict[str, JoinedText] = field(default_factory=dict)
    # document-level facts a detector computes once per scan (e.g. "is this teaching material")
    memo: dict[str, Any] = field(default_factory=dict)

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

    def segment(self, seg_id: int) -> Segment:
        return self.document.segments[seg_id]

    def neighbours(self, seg: Segment, before: int = 1, after: int = 1) -> list[Segment]:
        segs = self.document.segments
        lo, hi = max(0, seg.id - before), min(len(segs), seg.id + after + 1)
        return [s for s in segs[lo:hi] if s.id != seg.id and s.layer == seg.layer]


class Detector(Protocol):
    name: str

    def detect(self, seg: Segment, norm: NormalizedText, ctx: ScanContext) -> list[Finding]:
        ...


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
