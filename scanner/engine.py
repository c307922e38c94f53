"""The scan pipeline: Document -> normalise -> detectors -> merge -> policy -> Report.

Heavy objects (rules, automata, models) are built once per Scanner; a Scanner is thread-safe
for concurrent scans (detectors keep no per-scan state).
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

from ._version import __version__
from .detectors import build_detectors
from .detectors.base import ScanContext
from . import harm
from .model import Document, Finding, Report, ScanError
from .normalize import normalize
from .policy import Policy
from .rules import Ruleset, default_lexicon_dir
from .taxonomy import SEVERITY_RANK



class Scanner:
    def __init__(self, lexicon_dir: str | Path | None = None, light: bool = False,
                 names_scope: str | None = None, names_report: str | None = None):
        self.lexicon_dir = Path(lexicon_dir) if lexicon_dir else default_lexicon_dir()
        self.ruleset = Ruleset.load(self.lexicon_dir)
        self.policy = Policy.load(self.lexicon_dir / "policy.toml")
        self.light = light
        self.names_scope = names_scope
        # names_report: "relevant" (default: names only where they matter) or "all" (inventory)
        self.names_report = names_report or "relevant"
        if self.names_report not in harm.NAMES_REPORT:
            raise ValueError(f"names_report must be one of {harm.NAMES_REPORT}")
        self.harm = harm.HarmRules.load(harm.default_path(self.lexicon_dir))
        self.detectors, self.model_version = build_detectors(
            self.ruleset, light=light,
            options={"names_scope": names_scope, "names_report": self.names_report, "harm_rules": self.harm})
        self.ruleset_hash = hashlib.sha256(
            (self.ruleset.hash + self.policy.source_hash + self.harm.source_hash).encode()).hexdigest()[:16]

    # -- entry points ---------------------------------------------------------------------------
    def scan_text(self, text: str, source: str = "<text>") -> Report:
        from .extract.txt import add_lines
        data = text.encode("utf-8")
        doc = Document(source=source, sha256=hashlib.sha256(data).hexdigest(), media_type="text/plain")
        add_lines(doc, text, "body")
        return self.scan_document(doc)

    def scan_bytes(self, data: bytes, source: str, isolated: bool = False) -> Report:
        t0 = time.perf_counter()
        if isolated:
            from .extract.isolated import extract_bytes_isolated
            doc = extract_bytes_isolated(data, source)
        else:
            from .extract import extract_bytes
            doc = extract_bytes(data, source)
        return self.scan_document(doc, extract_ms=(time.perf_counter() - t0) * 1000)

    def scan_file(self, path: str | Path, source: str | None = None, isolated: bool = False) -> Report:
        t0 = time.perf_counter()
        if isolated:
            from .extract.isolated import extract_isolated
            doc = extract_isolated(path, source=source)
        else:
            from .extract import extract
            doc = extract(path, source=source)
        return self.scan_document(doc, extract_ms=(time.perf_counter() - t0) * 1000)

    # -- pipeline -------------------------------------------------------------------------------
    def scan_document(self, doc: Document, extract_ms: float = 0.0) -> Report:
        timings = {"extract": extract_ms}
        t0 = time.perf_counter()
        ctx = ScanContext(document=doc, options={"light": self.light})
        counts: dict[str, int] = {}
        for seg in doc.segments:
            ctx.normalized[seg.id] = normalize(seg.text)
            ctx.ordinal[seg.id] = counts.get(seg.layer, 0)
            counts[seg.layer] = counts.get(seg.layer, 0) + 1
        timings["normalize"] = (time.perf_counter() - t0) * 1000
        findings: list[Finding] = []
        errors: list[ScanError] = list(doc.errors)
        for det in self.detectors:
            t1 = time.perf_counter()
            try:
                detect_document = getattr(det, "detect_document", None)
                if detect_document is not None:
                    findings.extend(detect_document(ctx))
                else:
                    for seg in doc.segments:
                        findings.extend(det.detect(seg, ctx.normalized[seg.id], ctx))
                finalize = getattr(det, "finalize", None)
                if finalize is not None:
                    findings = finalize(findings, ctx)
            except Exception as exc:   # a detector bug must not turn into a silent pass
                errors.append(ScanError("scan.detector_failed", "部分检测项执行失败，结果不完整，需人工审查。",
                                        f"{det.name}: {type(exc).__name__}"))
            timings[f"detect.{det.name}"] = (time.perf_counter() - t1) * 1000
        t2 = time.perf_counter()
        try:
            findings = harm.apply(findings, doc.segments, self.harm, self.names_report)
        except Exception as exc:   # a post-processing bug must not turn into a silent pass
            errors.append(ScanError("scan.detector_failed", "部分检测项执行失败，结果不完整，需人工审查。",
                                    f"harm: {type(exc).__name__}"))
        findings = merge_findings(findings)
        for f in findings:
            f.compute_fingerprint()
        decision, risk, reasons = self.policy.decide(findings, errors)
        timings["policy"] = (time.perf_counter() - t2) * 1000
        timings["detect"] = sum(v for k, v in timings.items() if k.startswith("detect."))
        timings["total"] = (time.perf_counter() - t0) * 1000 + extract_ms
        return Report(source=doc.source, sha256=doc.sha256, decision=decision, risk_score=risk,
                      findings=findings, errors=errors, scanner_version=__version__,
                      ruleset_hash=self.ruleset_hash, model_version=self.model_version,
                      timings_ms=timings, media_type=doc.media_type, segments=doc.segments,
                      decision_reasons=reasons)


def merge_findings(findings: list[Finding]) -> list[Finding]:
    """One place that merges, sorts and validates (scrubadub): drop exact duplicates and findings
    contained in a stronger finding of the same category family on the same segment."""
    findings = [f for f in findings if 0 <= f.start < f.end]
    # on the same span, the more confident finding (a vendor rule over a generic key=value) is kept
    findings.sort(key=lambda f: (f.segment_id, f.start, -(f.end - f.start), -SEVERITY_RANK[f.severity], -f.confidence))
    out: list[Finding] = []
    for f in findings:
        fam = f.category.split(".")[0]
        dup = False
        for g in out[-8:]:
            if g.segment_id == f.segment_id and g.category.split(".")[0] == fam \
                    and g.start <= f.start and f.end <= g.end \
                    and SEVERITY_RANK[g.severity] >= SEVERITY_RANK[f.severity]:
                dup = True
                break
        if not dup:
            out.append(f)
    return out
