"""What looks across the findings of several detectors, in one ordered place (scrubadub's
post-processors): each step takes every finding of the document and returns the new list. Steps
never edit a finding in place (Finding is frozen): a changed finding is a `dataclasses.replace`
copy. The engine runs STEPS in order, then `merge`.

Adding a step: a function (findings, ctx, setup) -> findings here, and its place in STEPS; data it
needs that is built once per Scanner goes into `Setup`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from . import harm
from .config import ScanConfig
from .detectors.base import ScanContext
from .detectors.hidden import EXIF_RULE
from .detectors.names import PUBLIC_PLACE_RE
from .harmrules import PERSONAL, HarmRules, default_path
from .extract.ocr import annotate_finding
from .model import Finding, ScanError
from .taxonomy import SEVERITY_RANK, family_of

log = logging.getLogger("baomi.postprocess")


@dataclass(frozen=True)
class Setup:
    """What the steps need beyond the findings, built once per Scanner."""
    harm: HarmRules
    names_report: str = "relevant"

    @classmethod
    def build(cls, config: ScanConfig, lexicon_dir: Path) -> Setup:
        if config.names_report not in harm.NAMES_REPORT:
            raise ValueError(f"names_report must be one of {harm.NAMES_REPORT}")
        return cls(harm=HarmRules.load(default_path(lexicon_dir)), names_report=config.names_report)


Step = Callable[[list[Finding], ScanContext, Setup], list[Finding]]

NAME_RULE_ADDRESS = "model.names.address"


def drop_duplicate_exif_geo(findings: list[Finding], ctx: ScanContext, setup: Setup) -> list[Finding]:
    """An image's EXIF position (hidden detector) is dropped when the coordinate rule already
    reported that segment: one finding per place."""
    geo_other = {f.segment_id for f in findings if f.category.startswith("geo.") and not f.rule_id.startswith(EXIF_RULE)}
    if not geo_other:
        return findings
    return [f for f in findings if not (f.rule_id.startswith(EXIF_RULE) and f.segment_id in geo_other)]


def personal_data_combinations(findings: list[Finding], ctx: ScanContext, setup: Setup) -> list[Finding]:
    """A name, or a model address, alone is low; beside other personal data in the same segment or
    table row it identifies a person and becomes medium (models/MODEL_CARD_names.md)."""
    segs = ctx.document.segments

    def row_key(seg_id: int):
        loc = segs[seg_id].locator if 0 <= seg_id < len(segs) else {}
        if "table" in loc and "row" in loc:
            return ("row", segs[seg_id].layer, loc.get("table"), loc.get("row"))
        return ("seg", seg_id)

    window = setup.harm.combination_window

    def close(f: Finding, g: Finding) -> bool:
        """In the same table row, or within `window` characters in the same segment (a long paragraph
        holds unrelated mentions far apart: 如天气 and the project site 600 characters away)."""
        if f.segment_id != g.segment_id:
            return True          # same row key, other cell
        return max(f.start, g.start) - min(f.end, g.end) <= window

    personal: dict = {}
    for f in findings:
        if f.category.startswith(PERSONAL) and f.severity in ("medium", "high", "critical"):
            personal.setdefault(row_key(f.segment_id), []).append(f)
    names: dict = {}
    for f in findings:
        if f.category == "pii.name":
            names.setdefault(row_key(f.segment_id), []).append(f)
    out = list(findings)
    for n, f in enumerate(out):
        if f.rule_id == NAME_RULE_ADDRESS and f.severity == "low" and not PUBLIC_PLACE_RE.search(f.text):
            key = row_key(f.segment_id)
            other = {g.category for g in personal.get(key, ()) if close(f, g)} - {"pii.address"}
            named = any(close(f, g) for g in names.get(key, ()))
            if named or other:
                out[n] = replace(f, severity="medium",
                                 explanation="模型识别出具体地址，且同一段落/表格行中有人名或其他个人信息，可能是个人住址。",
                                 evidence=f.evidence + ["near:" + c for c in
                                                        sorted(other | ({"pii.name"} if named else set()))])
                personal.setdefault(key, []).append(out[n])
    for n, f in enumerate(out):
        if f.category == "pii.name" and f.severity == "low":
            near = {g.category for g in personal.get(row_key(f.segment_id), ()) if close(f, g)}
            if near:
                out[n] = replace(f, severity="medium", confidence=max(f.confidence, 0.8),
                                 explanation=("人名与同一段落/表格行中的身份证号、电话或住址等个人信息同时出现，"
                                              "构成可识别到个人的信息组合，需去标识化后再发布。"),
                                 evidence=f.evidence + ["near:" + c for c in sorted(near)])
    return out


def severity_follows_harm(findings: list[Finding], ctx: ScanContext, setup: Setup) -> list[Finding]:
    """Published institutional data is low or info, a private person's is not (scanner/harm.py,
    lexicons/harm.toml); names only where they matter unless names_report="all"."""
    return harm.apply(findings, ctx.document.segments, setup.harm, setup.names_report)


def ocr_locations(findings: list[Finding], ctx: ScanContext, setup: Setup) -> list[Finding]:
    """A finding read from a picture: its box narrowed to the matched characters and an explanation
    that says so (scanner.extract.ocr.annotate_finding)."""
    by_id = {s.id: s for s in ctx.document.segments}
    return [annotate_finding(f, by_id[f.segment_id]) if f.layer == "ocr" and f.segment_id in by_id else f
            for f in findings]


STEPS: Sequence[Step] = (
    drop_duplicate_exif_geo,
    personal_data_combinations,
    severity_follows_harm,
    ocr_locations,
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
            if g.segment_id == f.segment_id and g.start <= f.start and f.end <= g.end \
                    and family_of(g.category) == fam \
                    and SEVERITY_RANK[g.severity] >= SEVERITY_RANK[f.severity]:
                dup = True
                break
        if not dup:
            out.append(f)
    return out


def run(findings: list[Finding], ctx: ScanContext, setup: Setup, steps: Sequence[Step] = STEPS) -> list[Finding]:
    """The steps in order, then merge. A step that fails is skipped (its input passes on unchanged)
    and the context gets an error, so the decision is at least review."""
    for step in steps:
        try:
            findings = step(findings, ctx, setup)
        except Exception as exc:    # noqa: BLE001 - a post-processing bug must not turn into a silent pass
            log.warning("post-processing step %s failed: %s", step.__name__, type(exc).__name__)
            ctx.add_error(ScanError("scan.postprocess_failed", "部分检测项执行失败，结果不完整，需人工审查。",
                                    f"{step.__name__}: {type(exc).__name__}"))
    return merge(findings)
