"""Decision policy from a data file (lexicons/policy.toml), not from code.

Each finding's severity maps to a decision; category prefixes may raise or lower that; any
extraction/scan error forces at least `review` (fail closed).
"""
from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from .errors import ConfigError, from_validation
from .model import Finding, ScanError
from .taxonomy import DECISION_RANK, SEVERITIES, TAXONOMY, Taxonomy

RANK = DECISION_RANK    # the old name

# Exit codes of a publishing gate (`baomi scan`, batch): the decision's code, or CANNOT_SCAN when
# some file could not be fully read and none was blocked.
EXIT = {"pass": 0, "review": 1, "block": 2}
CANNOT_SCAN = 3
FAIL_ON = ("review", "block", "never")


def exit_code(decisions: Iterable[str], errors: bool | int, fail_on: str | None = "review") -> int:
    """The one exit-code rule. decisions: one per file; errors: whether (or how many) files had
    errors. 0 pass, 1 review, 2 block, 3 could not scan (errors and nothing blocked).
    fail_on="block": review exits 0; "never": always 0 (report only)."""
    fail_on = fail_on or "review"
    if fail_on not in FAIL_ON:
        raise ValueError(f"fail_on must be one of {FAIL_ON}, not {fail_on!r}")
    decisions = list(decisions)
    if fail_on == "never" or not decisions:
        return 0
    if "block" in decisions:
        return EXIT["block"]
    code = CANNOT_SCAN if errors else max(EXIT.get(d, EXIT["review"]) for d in decisions)
    if fail_on == "block" and code == EXIT["review"]:
        return 0
    return code


Decision = Literal["pass", "review", "block"]
assert set(Decision.__args__) == set(DECISION_RANK)     # type: ignore[attr-defined]


class PolicyFile(BaseModel):
    """lexicons/policy.toml, checked at load (unknown keys, decision values, fail-closed errors)."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_confidence: float = Field(0.5, ge=0, le=1)
    error_decision: Decision = "review"
    severity_decision: dict[Literal["info", "low", "medium", "high", "critical"], Decision]
    # category prefix -> decision, or "severity" (use the finding's severity); the longest prefix wins
    category_decision: dict[str, Decision | Literal["severity"]] = {}
    severity_weight: dict[Literal["info", "low", "medium", "high", "critical"], float] = {}

    @field_validator("severity_decision")
    @classmethod
    def _every_severity(cls, v: dict) -> dict:
        missing = [s for s in SEVERITIES if s not in v]
        if missing:
            raise ValueError(f"a decision is needed for every severity; missing: {missing}")
        return v

    @field_validator("error_decision")
    @classmethod
    def _fails_closed(cls, v: str) -> str:
        if DECISION_RANK[v] < DECISION_RANK["review"]:
            raise ValueError("must be review or block (the scan fails closed)")
        return v

    @field_validator("category_decision")
    @classmethod
    def _prefixes(cls, v: dict, info: ValidationInfo) -> dict:
        tx: Taxonomy = (info.context or {}).get("taxonomy") or TAXONOMY
        for prefix in v:
            if "." in prefix:
                problem = tx.check_category(prefix)
                if problem:
                    raise ValueError(f"{prefix!r}: {problem}")
            elif prefix not in tx.families:
                raise ValueError(f"{prefix!r}: unknown category family (known: {', '.join(tx.families)})")
        return v


@dataclass(frozen=True)
class Policy:
    severity_decision: dict[str, str]
    category_decision: dict[str, str] = field(default_factory=dict)   # prefix -> decision (longest wins)
    severity_weight: dict[str, float] = field(default_factory=dict)
    error_decision: str = "review"
    min_confidence: float = 0.5
    source_hash: str = ""
    # category -> _category_rule(category), filled as categories are met (the tables above are
    # not changed once the policy is loaded)
    _by_category: dict[str, str | None] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, path: Path, taxonomy: Taxonomy | None = None) -> Policy:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the policy: {exc.strerror or exc}", file=str(path)) from None
        return cls.loads(raw, file=path.name, taxonomy=taxonomy)

    @classmethod
    def loads(cls, raw: bytes, file: str = "policy.toml", taxonomy: Taxonomy | None = None) -> Policy:
        """Parse and validate policy.toml content; ConfigError names the file and the field."""
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"not valid UTF-8 TOML: {exc}", file=file) from None
        try:
            spec = PolicyFile.model_validate(data, context={"taxonomy": taxonomy or TAXONOMY})
        except ValidationError as exc:
            raise from_validation(exc, file=file, known_keys=PolicyFile.model_fields) from None
        return cls(severity_decision={k: v for k, v in spec.severity_decision.items()},
                   category_decision=dict(spec.category_decision),
                   severity_weight={k: v for k, v in spec.severity_weight.items()}, error_decision=spec.error_decision,
                   min_confidence=spec.min_confidence, source_hash=hashlib.sha256(raw).hexdigest()[:16])

    def finding_decision(self, f: Finding) -> str:
        try:
            by_cat = self._by_category[f.category]
        except KeyError:       # once per category: a finding's decision is asked twice per scan
            by_cat = self._by_category[f.category] = self._category_rule(f.category)
        if by_cat is not None and by_cat != "severity":
            return by_cat
        return self.severity_decision.get(f.severity, "review")

    def _category_rule(self, category: str) -> str | None:
        """The decision of the longest category_decision prefix that covers `category` (the
        category itself or a dotted parent), None when none does."""
        best = None
        for prefix, decision in self.category_decision.items():
            if (category == prefix or category.startswith(prefix + ".")) \
                    and (best is None or len(prefix) > len(best[0])):
                best = (prefix, decision)
        return best[1] if best is not None else None

    def needs_verdict(self, f: Finding) -> bool:
        """A finding needs a reviewer's verdict only when it changes the decision: not remembered
        by an allowlist entry, confident enough, and deciding more than pass."""
        return not f.allowlisted and f.confidence >= self.min_confidence and self.finding_decision(f) != "pass"

    def finalize(self, report) -> None:
        """Set each finding's needs_verdict and the report's decision, risk and reasons."""
        report.findings = [f.evolve(needs_verdict=self.needs_verdict(f)) for f in report.findings]
        report.decision, report.risk_score, report.decision_reasons = self.decide(report.findings, report.errors)

    def decide(self, findings: list[Finding], errors: list[ScanError]) -> tuple[str, float, list[str]]:
        decision, reasons = "pass", []
        findings = [f for f in findings if not f.allowlisted]    # remembered verdicts do not decide
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
