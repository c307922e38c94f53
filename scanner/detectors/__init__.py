"""The detectors that run, in the order they run (the contract is `base.Detector`).

Adding a detector: a module with a `Detector` subclass, and its class in DETECTORS. Rule and
lexicon detectors always run; model detectors (`needs_models = True`) unless in light mode.
What looks across the findings of several detectors is not a detector: see scanner/postprocess.py.
"""
from __future__ import annotations

from ..config import ScanConfig
from ..policy import Policy
from ..rules import Ruleset
from .base import Detector, JoinedText, ScanContext, make_finding
from .hidden import HiddenDetector
from .marking import MarkingDetector
from .names import NamesDetector
from .passage import PassageDetector
from .regex import RegexDetector
from .tabular import TabularDetector
from .terms import TermDetector

__all__ = ["DETECTORS", "Detector", "JoinedText", "ScanContext", "build", "make_finding"]

DETECTORS: tuple[type[Detector], ...] = (
    MarkingDetector,     # 国家秘密标志 and restriction marks (marking.*)
    RegexDetector,       # pattern rules (pii.*, secret.*, geo.*, term patterns)
    TermDetector,        # term lists (term.*)
    TabularDetector,     # tables of private records: pay sheets, customer ledgers, quotations (pii.records, term.quotation)
    HiddenDetector,      # hidden layers: revisions, comments, hidden text, properties, redactions (hidden.*)
    PassageDetector,     # passage classifier (passage.*), model
    NamesDetector,       # person names and addresses (pii.name, pii.address), model
)


def build(config: ScanConfig, ruleset: Ruleset, policy: Policy) -> tuple[list[Detector], str]:
    """-> (the detectors for this configuration, in DETECTORS order; the models' version string)."""
    detectors: list[Detector] = []
    for cls in DETECTORS:
        if cls.needs_models and config.light:
            continue
        det = cls.build(config, ruleset, policy)
        if det is not None:
            detectors.append(det)
    versions = [d.model_version for d in detectors if d.model_version]
    return detectors, ("+".join(versions) if versions else "rules-only")
