"""Core nouns of the scanner: Segment, Document, Finding, ScanError, Report.

Text is never altered: a Segment holds text exactly as extracted, and every Finding's
start/end are code-point offsets into that segment's text (spaCy's rule).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ._version import __version__
from .fingerprint import fingerprint
from .taxonomy import LAYERS, SEVERITIES, SEVERITY_RANK  # noqa: F401  (the vocabulary lives in scanner.taxonomy)


@dataclass
class Segment:
    """A piece of text as extracted, with where it came from.

    locator: free-form dict, e.g. {"page": 1, "paragraph": 3}, {"table": 0, "row": 1, "col": 0},
    {"sheet": "Sheet1", "cell": "B2"}, {"member": "a/b.docx"}, {"part": "word/comments.xml",
    "author": "...", "kind": "del"}. Must be JSON-serialisable.
    """
    id: int
    layer: str
    text: str
    locator: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"id": self.id, "layer": self.layer, "text": self.text, "locator": self.locator}


def near_text(segs: list[Segment], index: int, window: int = 1) -> str:
    """Segment `index` of `segs` and its neighbours of the same layer within `window`, joined by
    "\n" (the context harm reads around a finding; the names scope reads the same)."""
    if not (0 <= index < len(segs)):
        return ""
    layer = segs[index].layer
    return "\n".join(s.text for s in segs[max(0, index - window):index + window + 1] if s.layer == layer)


@dataclass
class ScanError:
    """Something the scanner could not read. A report with errors is never `pass` (fail closed)."""
    code: str            # stable machine code, e.g. "extract.unsupported", "extract.timeout"
    message: str         # Chinese message for people
    detail: str = ""     # English detail for operators; never document text

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "detail": self.detail}

    @classmethod
    def from_dict(cls, d: dict) -> ScanError:
        return cls(d["code"], d["message"], d.get("detail", ""))


@dataclass
class Document:
    source: str
    sha256: str
    media_type: str
    segments: list[Segment] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)   # page_count, truncated, encoding, ...

    def add(self, layer: str, text: str, **locator: Any) -> Segment | None:
        if not text:
            return None
        seg = Segment(id=len(self.segments), layer=layer, text=text, locator=locator)
        self.segments.append(seg)
        return seg

    @classmethod
    def failed(cls, source: str, error: ScanError, sha256: str = "",
               media_type: str = "application/octet-stream") -> Document:
        """A document that could not be read: no segments, one error (the scan fails closed)."""
        return cls(source=source, sha256=sha256, media_type=media_type, errors=[error])

    def to_dict(self) -> dict:
        """The JSON form (what the extraction child prints, what `from_dict` reads back)."""
        return {"source": self.source, "sha256": self.sha256, "media_type": self.media_type,
                "segments": [s.to_dict() for s in self.segments],
                "errors": [e.to_dict() for e in self.errors], "meta": self.meta}

    @classmethod
    def from_dict(cls, d: dict, source: str | None = None) -> Document:
        """Inverse of `to_dict`; segment ids are their positions. `source` overrides the recorded one."""
        doc = cls(source=d.get("source", "") if source is None else source, sha256=d.get("sha256", ""),
                  media_type=d.get("media_type", ""), meta=d.get("meta") or {})
        for s in d.get("segments", []):
            doc.segments.append(Segment(id=len(doc.segments), layer=s["layer"], text=s["text"],
                                        locator=s.get("locator") or {}))
        doc.errors.extend(ScanError.from_dict(e) for e in d.get("errors", []))
        return doc


@dataclass(frozen=True)
class Finding:
    """One thing a reviewer must look at. Frozen: post-processing returns changed copies
    (`dataclasses.replace`), so no step edits a finding another step holds."""
    category: str
    rule_id: str
    start: int
    end: int
    text: str
    layer: str = "body"
    segment_id: int = 0
    location: dict[str, Any] = field(default_factory=dict)
    severity: str = "medium"
    confidence: float = 0.8
    explanation: str = ""
    suggestion: str = ""
    evidence: list[str] = field(default_factory=list)   # how the score came to be (English codes)
    fingerprint: str = ""
    group: str = ""                       # findings with the same rule and normalised text share it
    needs_verdict: bool = False           # True when this finding changes the decision
    allowlisted: dict | None = None       # {"reason", "entry", "scope", ...} when an allowlist entry applies

    def with_fingerprint(self, key: bytes) -> Finding:
        """A copy with the HMAC of rule + normalised matched text under the install secret
        (scanner.fingerprint), never the plaintext, and the group id derived from it (same rule and
        text, same group)."""
        fp = fingerprint(key, self.rule_id, self.text)
        return self.evolve(fingerprint=fp, group="g" + fp[:12])

    def evolve(self, **changes: Any) -> Finding:
        """`dataclasses.replace(self, **changes)` for the steps every finding of every scan goes
        through (fingerprint, needs_verdict): the same copy (the other fields' values shared, as
        replace shares them) at a fifth of the cost, without calling __init__ (Finding has no
        __post_init__ and no init=False field, so replace would do nothing else)."""
        unknown = changes.keys() - _FINDING_FIELDS
        if unknown:
            raise TypeError(f"Finding has no field {sorted(unknown)}")
        out = object.__new__(Finding)
        d = out.__dict__
        d.update(self.__dict__)
        d.update(changes)
        return out

    def to_dict(self) -> dict:
        return {
            "category": self.category, "rule_id": self.rule_id, "text": self.text,
            "start": self.start, "end": self.end, "layer": self.layer,
            "segment_id": self.segment_id, "location": self.location,
            "severity": self.severity, "confidence": round(self.confidence, 3),
            "explanation": self.explanation, "suggestion": self.suggestion,
            "evidence": self.evidence, "fingerprint": self.fingerprint,
            "group": self.group, "needs_verdict": self.needs_verdict, "allowlisted": self.allowlisted,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Finding:
        keys = ("category", "rule_id", "start", "end", "text", "layer", "segment_id", "location", "severity",
                "confidence", "explanation", "suggestion", "evidence", "fingerprint", "group", "needs_verdict",
                "allowlisted")
        return cls(**{k: d[k] for k in keys if k in d})


_FINDING_FIELDS = frozenset(f.name for f in fields(Finding))


@dataclass
class Report:
    source: str
    sha256: str
    decision: str
    risk_score: float
    findings: list[Finding]
    errors: list[ScanError]
    scanner_version: str
    ruleset_hash: str
    model_version: str
    timings_ms: dict[str, float]
    media_type: str = ""
    segments: list[Segment] = field(default_factory=list)   # kept for html/text rendering
    decision_reasons: list[str] = field(default_factory=list)
    fingerprint_key_id: str = ""          # which install secret keyed the fingerprints (not the key)
    notes: list[ScanError] = field(default_factory=list)   # info about the reading; never decides

    def groups(self) -> list[dict]:
        """Identical findings (same rule, same normalised text) as one reviewable item: the group
        id, its rule and category, the highest severity, whether it needs a verdict, and the
        indexes of its occurrences in `findings`."""
        out: dict[str, dict] = {}
        for i, f in enumerate(self.findings):
            g = out.get(f.group)
            if g is None:
                g = out[f.group] = {"group": f.group, "rule_id": f.rule_id, "category": f.category,
                                    "severity": f.severity, "needs_verdict": False, "count": 0,
                                    "occurrences": [], "allowlisted": f.allowlisted}
            g["count"] += 1
            g["occurrences"].append(i)
            g["needs_verdict"] = g["needs_verdict"] or f.needs_verdict
            if SEVERITY_RANK[f.severity] > SEVERITY_RANK[g["severity"]]:
                g["severity"] = f.severity
            if not f.allowlisted:
                g["allowlisted"] = None
        return list(out.values())

    def to_dict(self, with_segments: bool = False) -> dict:
        groups = self.groups()
        d = {
            "source": self.source, "sha256": self.sha256, "media_type": self.media_type,
            "decision": self.decision, "risk_score": round(self.risk_score, 3),
            "decision_reasons": self.decision_reasons,
            "findings": [f.to_dict() for f in self.findings],
            "groups": groups,
            "needs_verdict": sum(1 for g in groups if g["needs_verdict"]),
            "fingerprint_key_id": self.fingerprint_key_id,
            "errors": [e.to_dict() for e in self.errors],
            "notes": [n.to_dict() for n in self.notes],
            "scanner_version": self.scanner_version, "ruleset_hash": self.ruleset_hash,
            "model_version": self.model_version,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
        if with_segments:
            d["segments"] = [s.to_dict() for s in self.segments]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Report:
        """Inverse of `to_dict` (with or without segments); keys it does not know are ignored."""
        return cls(source=d.get("source", ""), sha256=d.get("sha256", ""), decision=d["decision"],
                   risk_score=float(d.get("risk_score", 0.0)),
                   findings=[Finding.from_dict(f) for f in d.get("findings", [])],
                   errors=[ScanError.from_dict(e) for e in d.get("errors", [])],
                   scanner_version=d.get("scanner_version", ""), ruleset_hash=d.get("ruleset_hash", ""),
                   model_version=d.get("model_version", ""), timings_ms=dict(d.get("timings_ms") or {}),
                   media_type=d.get("media_type", ""),
                   segments=[Segment(id=s["id"], layer=s["layer"], text=s["text"], locator=s.get("locator") or {})
                             for s in d.get("segments", [])],
                   decision_reasons=list(d.get("decision_reasons", [])),
                   fingerprint_key_id=d.get("fingerprint_key_id", ""),
                   notes=[ScanError.from_dict(n) for n in d.get("notes", [])])

    @classmethod
    def could_not_scan(cls, source: str, errors: list[ScanError], *, sha256: str = "", media_type: str = "",
                       risk_score: float = 0.5) -> Report:
        """The report of a file that could not be scanned at all (a crashed worker or child, a
        scanner fault, a failed job): no findings, decision review (fail closed)."""
        return cls(source=source, sha256=sha256, decision="review", risk_score=risk_score, findings=[],
                   errors=list(errors), scanner_version=__version__, ruleset_hash="", model_version="",
                   timings_ms={}, media_type=media_type,
                   decision_reasons=[f"error:{e.code}" for e in errors])
