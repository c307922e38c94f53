"""SARIF 2.1.0, for code-scanning style integrations: one run, a rule per rule id (named by its
category and Chinese label), a result per finding and per error."""
from __future__ import annotations

import json

from .._version import __version__
from ..model import Report
from ..taxonomy import Taxonomy
from .base import Writer

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


class SarifWriter(Writer):
    name = "sarif"

    def __init__(self, out, taxonomy=None):
        super().__init__(out, taxonomy)
        self.rules: dict[str, dict] = {}
        self.results: list[dict] = []

    def add(self, r: Report) -> None:
        tax = self.taxonomy
        for f in r.findings:
            self.rules.setdefault(f.rule_id, {"id": f.rule_id, "name": f.category,
                                              "shortDescription": {"text": tax.category_zh(f.category)},
                                              "properties": {"category": f.category,
                                                             "family_zh": tax.family_zh(f.category)}})
            loc: dict = {"physicalLocation": {"artifactLocation": {"uri": r.source}}}
            if "line" in f.location:
                loc["physicalLocation"]["region"] = {"startLine": f.location["line"],
                                                     "startColumn": f.start + 1, "endColumn": f.end + 1}
            self.results.append({"ruleId": f.rule_id, "level": LEVEL.get(f.severity, "warning"),
                                 "message": {"text": f.explanation}, "locations": [loc],
                                 "partialFingerprints": {"baomi/v1": f.fingerprint},
                                 "properties": {"category": f.category, "category_zh": tax.category_zh(f.category),
                                                "layer": f.layer, "location": f.location,
                                                "confidence": f.confidence}})
        for err in r.errors:
            self.results.append({"ruleId": err.code, "level": "error", "message": {"text": err.message},
                                 "locations": [{"physicalLocation": {"artifactLocation": {"uri": r.source}}}]})

    def close(self) -> None:
        self.out.write(json.dumps({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
                                   "runs": [{"tool": {"driver": {"name": "baomi", "version": __version__,
                                                                 "rules": list(self.rules.values())}},
                                             "results": self.results}]},
                                  ensure_ascii=False, indent=2) + "\n")


def to_sarif(reports: list[Report], taxonomy: Taxonomy | None = None) -> str:
    import io
    buf = io.StringIO()
    w = SarifWriter(buf, taxonomy)
    for r in reports:
        w.add(r)
    w.close()
    return buf.getvalue().rstrip("\n")
