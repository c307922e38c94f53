"""Text: Chinese, for a terminal. Each report as it arrives; a count of decisions after several."""
from __future__ import annotations

from collections import Counter

from ..model import Report
from ..taxonomy import TAXONOMY, Taxonomy, decision_zh, severity_zh
from .base import Writer
from .locate import location_zh, snippet, valid_span


def to_text(report: Report, context_chars: int = 18, taxonomy: Taxonomy | None = None) -> str:
    tax = taxonomy or TAXONOMY
    lines = [f"文件：{report.source}",
             f"结论：{decision_zh(report.decision)}（风险分 {report.risk_score:.2f}）"]
    segs = {s.id: s for s in report.segments}
    if not report.findings and not report.errors:
        lines.append("  未发现需要处理的问题。")
    for n, f in enumerate(report.findings, 1):
        seg = segs.get(f.segment_id)
        lines.append(f"  {n}. [{severity_zh(f.severity)}] {tax.category_zh(f.category)}（{f.category}）  "
                     f"{location_zh(f.location, f.layer, with_layer=True)}")
        if seg is not None and valid_span(f, len(seg.text)):
            before, match, after = snippet(seg.text, f.start, f.end, context_chars)
            lines.append(f"     原文：{before}【{match}】{after}".replace("\n", " "))
        lines.append(f"     说明：{f.explanation}")
        if f.suggestion:
            lines.append(f"     建议：{f.suggestion}")
    for e in report.errors:
        lines.append(f"  ! 无法完整审查 [{e.code}]：{e.message}")
    return "\n".join(lines)


def decisions_line(decisions: Counter) -> str:
    n = sum(decisions.values())
    return (f"共 {n} 个文件：{decision_zh('pass')} {decisions['pass']}，{decision_zh('review')} "
            f"{decisions['review']}，{decision_zh('block')} {decisions['block']}")


class TextWriter(Writer):
    name = "text"

    def __init__(self, out, taxonomy=None):
        super().__init__(out, taxonomy)
        self.decisions: Counter = Counter()

    def add(self, report: Report) -> None:
        self.out.write(to_text(report, taxonomy=self.taxonomy) + "\n\n")
        self.out.flush()
        self.decisions[report.decision] += 1

    def close(self) -> None:
        if sum(self.decisions.values()) > 1:
            self.out.write(decisions_line(self.decisions) + "\n")
