"""The scan pipeline: Document -> normalise -> detectors -> postprocess (steps, merge) -> policy -> Report.

Heavy objects (rules, automata, models) are built once per Scanner, from one ScanConfig; a Scanner
is thread-safe for concurrent scans (detectors keep no per-scan state). Whatever fails inside a
scan (a detector, a post-processing step, the policy) becomes an error in the report, so the
decision is at least review: the scan fails closed, never open.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from . import postprocess
from ._version import __version__
from .allowlist import Allowlist, Scope
from .allowlist import apply as apply_allowlist
from .config import NamesScope, ScanConfig
from .detectors import build as build_detectors
from .detectors.base import ScanContext
from .extract.ocr import OcrOptions
from .extract.ocr import from_config as ocr_from_config
from .fingerprint import key_id, load_or_create_key
from .model import Document, Finding, Report, ScanError
from .policy import Policy
from .rules import Ruleset

log = logging.getLogger("baomi.engine")
merge_findings = postprocess.merge      # the old name

_FAILED = "部分检测项执行失败，结果不完整，需人工审查。"


class Scanner:
    def __init__(self, lexicon_dir: str | Path | None = None, light: bool | None = None,
                 names_scope: str | NamesScope | None = None, names_report: str | None = None,
                 config: ScanConfig | None = None, fingerprint_key: bytes | None = None,
                 fingerprint_key_file: str | Path | None = None, allowlist: Allowlist | None = None,
                 scope: Scope | None = None, ocr: OcrOptions | None = None):
        """config: the whole configuration; the keyword arguments given override its fields.
        names_report: "relevant" (default: names only where they matter) or "all" (inventory).
        fingerprint_key (or the key file; default config.fingerprint_key_file, else
        scanner.fingerprint.default_key_path(), created on first use) keys the findings' HMAC
        fingerprints. allowlist and scope (scanner.allowlist) mark remembered verdicts in every report.
        ocr: scanner.extract.ocr.OcrOptions for the files this scanner extracts (default from the
        config: OCR on, off in light mode, where image-only content fails closed with
        extract.ocr_unavailable)."""
        overrides = {k: v for k, v in (("lexicon_dir", lexicon_dir), ("light", light),
                                       ("names_scope", names_scope), ("names_report", names_report),
                                       ("fingerprint_key_file", fingerprint_key_file))
                     if v is not None}
        self.config = (config or ScanConfig()).replace(**overrides) if overrides else (config or ScanConfig())
        self.ocr = ocr if ocr is not None else ocr_from_config(self.config)
        self.lexicon_dir = self.config.lexicons
        self.ruleset = Ruleset.load(self.lexicon_dir)
        self.policy = Policy.load(self.lexicon_dir / "policy.toml", taxonomy=self.ruleset.taxonomy)
        self.light = self.config.light
        self.names_scope = self.config.names_scope.value
        self.names_report = self.config.names_report
        self.taxonomy = self.ruleset.taxonomy
        self.postprocess = postprocess.Setup.build(self.config, self.lexicon_dir)
        self.fingerprint_key = fingerprint_key or load_or_create_key(self.config.fingerprint_key_file)
        self.fingerprint_key_id = key_id(self.fingerprint_key)
        self.allowlist = allowlist
        self.scope = scope or Scope()
        self.detectors, self.model_version = build_detectors(self.config, self.ruleset, self.policy)
        self.ruleset_hash = hashlib.sha256(
            (self.ruleset.hash + self.policy.source_hash + self.postprocess.harm.source_hash
             + "".join(d.rules_hash for d in self.detectors)).encode()).hexdigest()[:16]

    def warm(self) -> Scanner:
        """Load what the detectors load lazily (see Detector.warm); before forking workers."""
        for det in self.detectors:
            det.warm()
        return self

    # -- entry points ---------------------------------------------------------------------------
    def scan_text(self, text: str, source: str = "<text>") -> Report:
        from .extract.txt import add_lines
        data = text.encode("utf-8")
        doc = Document(source=source, sha256=hashlib.sha256(data).hexdigest(), media_type="text/plain")
        add_lines(doc, text, "body")
        return self.scan_document(doc)

    def scan_bytes(self, data: bytes, source: str, isolated: bool = False,
                   progress: Callable[[int, int], None] | None = None) -> Report:
        """progress(done, total): called as the pages of a multi-page scan are OCR'd."""
        t0 = time.perf_counter()
        if isolated:
            from .extract.isolated import extract_bytes_isolated
            doc = extract_bytes_isolated(data, source, ocr=self._ocr(progress))
        else:
            from .extract import extract_bytes
            doc = extract_bytes(data, source, ocr=self._ocr(progress))
        return self.scan_document(doc, extract_ms=(time.perf_counter() - t0) * 1000)

    def scan_file(self, path: str | Path, source: str | None = None, isolated: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> Report:
        """progress(done, total): called as the pages of a multi-page scan are OCR'd."""
        doc, ms = self.extract_file(path, source=source, isolated=isolated, progress=progress)
        return self.scan_document(doc, extract_ms=ms)

    def extract_file(self, path: str | Path, source: str | None = None, isolated: bool = False,
                     progress: Callable[[int, int], None] | None = None) -> tuple[Document, float]:
        """The document scan_file scans, and the milliseconds its extraction took."""
        t0 = time.perf_counter()
        if isolated:
            from .extract.isolated import extract_isolated
            doc = extract_isolated(path, source=source, ocr=self._ocr(progress))
        else:
            from .extract import extract
            doc = extract(path, source=source, ocr=self._ocr(progress))
        return doc, (time.perf_counter() - t0) * 1000

    def _ocr(self, progress: Callable[[int, int], None] | None = None) -> OcrOptions:
        """A fresh copy per file: the OCR budget is per document."""
        from dataclasses import replace
        return replace(self.ocr, started=None, on_progress=progress)

    # -- pipeline -------------------------------------------------------------------------------
    def scan_document(self, doc: Document, extract_ms: float = 0.0) -> Report:
        return self.scan_documents([doc], [extract_ms])[0]

    def scan_documents(self, docs: list[Document], extract_ms: list[float] | None = None) -> list[Report]:
        """scan_document of each document, the detectors run over all of them at once
        (Detector.detect_many: the names tagger tags every document's text in one batch, which
        costs less per document than one batch each: scanner.batch scans its chunks this way).
        The reports are those of one scan_document each; a detector's time is shared equally."""
        extract_ms = list(extract_ms) if extract_ms is not None else [0.0] * len(docs)
        t0 = time.perf_counter()
        ctxs = [ScanContext.of(doc) for doc in docs]
        share = len(docs) or 1
        timings = [{"extract": ms, "normalize": (time.perf_counter() - t0) * 1000 / share} for ms in extract_ms]
        findings: list[list[Finding]] = [[] for _ in docs]
        for ctx, found in zip(ctxs, findings):
            ctx.found = found       # what the detectors before each one found (read, never changed)
        errors: list[list[ScanError]] = [list(doc.errors) for doc in docs]
        for det in self.detectors:
            t1 = time.perf_counter()
            got = None
            if len(ctxs) > 1:
                try:
                    got = det.detect_many(ctxs)
                except Exception:     # noqa: BLE001 - retried document by document below
                    got = None
            for k, ctx in enumerate(ctxs):
                if got is not None:
                    findings[k].extend(got[k])
                    continue
                try:
                    findings[k].extend(det.detect(ctx))
                except Exception as exc:   # noqa: BLE001 - a detector bug must not turn into a silent pass
                    log.warning("detector %s failed: %s", det.name, type(exc).__name__)
                    errors[k].append(ScanError("scan.detector_failed", _FAILED, f"{det.name}: {type(exc).__name__}"))
            ms = (time.perf_counter() - t1) * 1000 / share
            for tm in timings:
                tm[f"detect.{det.name}"] = ms
        return [self._finish(doc, ctx, fs, errs, tm, ms0)
                for doc, ctx, fs, errs, tm, ms0 in zip(docs, ctxs, findings, errors, timings, extract_ms)]

    def _finish(self, doc: Document, ctx: ScanContext, findings: list[Finding], errors: list[ScanError],
                timings: dict[str, float], extract_ms: float) -> Report:
        """Post-processing, fingerprints, allowlist and policy: the report of one document."""
        t0 = time.perf_counter() - sum(v for k, v in timings.items() if k != "extract") / 1000
        t2 = time.perf_counter()
        findings = [f.with_fingerprint(self.fingerprint_key)
                    for f in postprocess.run(findings, ctx, self.postprocess)]
        errors.extend(ctx.errors)
        report = Report(source=doc.source, sha256=doc.sha256, decision="review", risk_score=0.5,
                        findings=findings, errors=errors, scanner_version=__version__,
                        ruleset_hash=self.ruleset_hash, model_version=self.model_version,
                        timings_ms=timings, media_type=doc.media_type, segments=doc.segments,
                        fingerprint_key_id=self.fingerprint_key_id,
                        notes=[ScanError.from_dict(n) for n in doc.meta.get("notes", [])])
        try:
            if self.allowlist is not None:
                apply_allowlist(report, self.allowlist, self.scope)
            self.policy.finalize(report)
        except Exception as exc:      # noqa: BLE001 - a policy bug must never let a draft through
            log.error("policy failed: %s", type(exc).__name__)
            errors.append(ScanError("scan.policy_failed", "审查结论计算失败，需人工审查。", type(exc).__name__))
            report.decision, report.risk_score = "review", 0.5
            report.decision_reasons = sorted({f"error:{e.code}" for e in errors})
        timings["policy"] = (time.perf_counter() - t2) * 1000
        timings["detect"] = sum(v for k, v in timings.items() if k.startswith("detect."))
        timings["total"] = (time.perf_counter() - t0) * 1000 + extract_ms
        return report
