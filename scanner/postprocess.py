"""What looks across the findings of several detectors, in one ordered place (scrubadub's
post-processors): each step takes every finding of the document and returns the new list. Steps
never edit a finding in place (Finding is frozen): a changed finding is a `dataclasses.replace`
copy. The engine runs STEPS in order, then `merge`.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

from .detectors.base import ScanContext
from .detectors.hidden import EXIF_RULE
from .detectors.names import PERSONAL, PUBLIC_PLACE_RE
from .model import Finding
from .taxonomy import SEVERITY_RANK, family_of

Step = Callable[[list[Finding], ScanContext], list[Finding]]

NAME_RULE_ADDRESS = "model.names.address"


def drop_duplicate_exif_geo(findings: list[Finding], ctx: ScanContext) -> list[Finding]:
    """An image's EXIF position (hidden detector) is dropped when the coordinate rule already
    reported that segment: one finding per place."""
    geo_other = {f.segment_id for f in findings if f.category.startswith("geo.") and not f.rule_id.startswith(EXIF_RULE)}
    if not geo_other:
        return findings
    return [f for f in findings if not (f.rule_id.startswith(EXIF_RULE) and f.segment_id in geo_other)]


def personal_data_combinations(findings: list[Finding], ctx: ScanContext) -> list[Finding]:
    """A name, or a model address, alone is low; beside other personal data in the same segment or
    table row it identifies a person and becomes medium (models/MODEL_CARD_names.md)."""
    segs = ctx.document.segments

    def row_key(seg_id: int):
        loc = segs[seg_id].locator if 0 <= seg_id < len(segs) else {}
        if "table" in loc and "row" in loc:
            return ("row", segs[seg_id].layer, loc.get("table"), loc.get("row"))
        return ("seg", seg_id)

    personal: dict = {}
    for f in findings:
        if f.category.startswith(PERSONAL) and f.severity in ("medium", "high", "critical"):
            personal.setdefault(row_key(f.segment_id), set()).add(f.category)
    named = {row_key(f.segment_id) for f in findings if f.category == "pii.name"}
    out = list(findings)
    for n, f in enumerate(out):
        if f.rule_id == NAME_RULE_ADDRESS and f.severity == "low" and not PUBLIC_PLACE_RE.search(f.text):
            key = row_key(f.segment_id)
            other = (personal.get(key) or set()) - {"pii.address"}
            if key in named or other:
                out[n] = replace(f, severity="medium",
                                 explanation="模型识别出具体地址，且同一段落/表格行中有人名或其他个人信息，可能是个人住址。",
                                 evidence=f.evidence + ["near:" + c for c in
                                                        sorted(other | ({"pii.name"} if key in named else set()))])
                personal.setdefault(key, set()).add("pii.address")
    for n, f in enumerate(out):
        if f.category == "pii.name" and f.severity == "low":
            near = personal.get(row_key(f.segment_id))
            if near:
                out[n] = replace(f, severity="medium", confidence=max(f.confidence, 0.8),
                                 explanation=("人名与同一段落/表格行中的身份证号、电话或住址等个人信息同时出现，"
                                              "构成可识别到个人的信息组合，需去标识化后再发布。"),
                                 evidence=f.evidence + ["near:" + c for c in sorted(near)])
    return out


STEPS: Sequence[Step] = (
    drop_duplicate_exif_geo,
    personal_data_combinations,
)

# a finding is compared with this many kept before it: sorted by (segment, start, longest first), a
# containing finding comes before what it contains, so looking back a few keeps the merge linear;
# a containment further back only leaves a duplicate shown, it never drops a finding
MERGE_WINDOW = 8


def merge(findings: list[Finding]) -> list[Finding]:
    """One place that merges, sorts and validates (scrubadub): drop empty spans, exact duplicates and
    findings contained in a stronger finding of the same category family on the same segment."""
    findings = [f for f in findings if 0 <= f.start < f.end]
    # on the same span, the more confident finding (a vendor rule over a generic key=value) is kept
    findings.sort(key=lambda f: (f.segment_id, f.start, -(f.end - f.start), -SEVERITY_RANK[f.severity], -f.confidence))
    out: list[Finding] = []
    for f in findings:
        fam = family_of(f.category)
        dup = False
        for g in out[-MERGE_WINDOW:]:
            if g.segment_id == f.segment_id and family_of(g.category) == fam \
                    and g.start <= f.start and f.end <= g.end \
                    and SEVERITY_RANK[g.severity] >= SEVERITY_RANK[f.severity]:
                dup = True
                break
        if not dup:
            out.append(f)
    return out


def run(findings: list[Finding], ctx: ScanContext, steps: Sequence[Step] = STEPS) -> list[Finding]:
    for step in steps:
        findings = step(findings, ctx)
    return merge(findings)
