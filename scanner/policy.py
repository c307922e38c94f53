"""Decision policy from a data file (lexicons/policy.toml), not from code.

Each finding's severity maps to a decision; category prefixes may raise or lower that; any
extraction/scan error forces at least `review` (fail closed).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .model import Finding, ScanError

RANK = {"pass": 0, "review": 1, "block": 2}


@dataclass
class Policy:
    severity_decision: dict[str, str]
    category_decision: dict[str, str] = field(default_factory=dict)   # prefix -> decision (longest wins)
    severity_weight: dict[str, float] = field(default_factory=dict)
    error_decision: str = "review"
    min_confidence: float = 0.5
    source_hash: str = ""

    @classmethod
    def load(cls, path: Path) -> "Policy":
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
        import hashlib
        p = cls(severity_decision=data["severity_decision"],
                category_decision=data.get("category_decision", {}),
                severity_weight=data.get("severity_weight", {}),
                error_decision=data.get("error_decision", "review"),
                min_confidence=float(data.get("min_confidence", 0.5)),
                source_hash=hashlib.sha256(raw).hexdigest()[:16])
        if RANK.get(p.error_decision, 0) < RANK["review"]:
            raise ValueError("policy: error_decision must be review or block (the scan fails closed)")
        return p

    def finding_decision(self, f: Finding) -> str:
        best = None
        for prefix, decision in self.category_decision.items():
            if f.category == prefix or f.category.startswith(prefix + "."):
                if best is None or len(prefix) > len(best[0]):
                    best = (prefix, decision)
        by_sev = self.severity_decision.get(f.severity, "review")
        if best is not None and best[1] != "severity":
            return best[1]
        return by_sev

    def decide(self, findings: list[Finding], errors: list[ScanError]) -> tuple[str, float, list[str]]:
        decision, reasons = "pass", []
        for f in findings:
            if f.confidence < self.min_confidence:
                continue
            d = self.finding_decision(f)
            if RANK[d] > RANK[decision]:
                decision = d
            if d != "pass":
                reasons.append(f"{f.category}:{d}")
        if errors:
            if RANK[self.error_decision] > RANK[decision]:
                decision = self.error_decision
            reasons.extend(f"error:{e.code}" for e in errors)
        risk = 0.0
        keep = 1.0
        for f in findings:
            w = self.severity_weight.get(f.severity, 0.5)
            keep *= 1.0 - min(0.999, w * f.confidence)
        risk = 1.0 - keep
        if errors:
            risk = max(risk, 0.5)
        if decision == "block":
            risk = max(risk, 0.9)
        elif decision == "review":
            risk = max(risk, 0.4)
        return decision, risk, sorted(set(reasons))
