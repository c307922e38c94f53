"""Detector registry. Rule/lexicon detectors always run; model detectors unless light mode."""
from __future__ import annotations

import importlib
import inspect

# (module, factory) pairs; each factory(ruleset, light) returns a detector or None.
RULE_DETECTORS = [
    ("scanner.detectors.marking", "create"),
    ("scanner.detectors.regex", "create"),
    ("scanner.detectors.terms", "create"),
    ("scanner.detectors.hidden", "create"),
]
MODEL_DETECTORS = [
    ("scanner.detectors.passage", "create"),
    ("scanner.detectors.names", "create"),
]


def build_detectors(ruleset, light: bool = False, options: dict | None = None):
    """options (e.g. {"names_scope": "cue"}) reach the factories that take a keyword of that name."""
    options = {k: v for k, v in (options or {}).items() if v is not None}
    detectors, versions = [], []
    for module_name, factory in RULE_DETECTORS + ([] if light else MODEL_DETECTORS):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue     # detector not built yet
            raise
        make = getattr(module, factory)
        params = inspect.signature(make).parameters
        det = make(ruleset, light=light, **{k: v for k, v in options.items() if k in params})
        if det is None:
            continue
        detectors.append(det)
        v = getattr(det, "model_version", None)
        if v:
            versions.append(v)
    # post-processing detectors (e.g. severity of names next to other personal data) run last
    detectors.sort(key=lambda d: getattr(d, "order", 50))
    return detectors, ("+".join(versions) if versions else "rules-only")
