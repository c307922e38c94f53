"""HTML: one standalone page (no scripts, a CSP that allows only inline styles), escaped by
construction. `page` and `table` are also what the batch summary page is built from."""
from __future__ import annotations

import html

from ..model import Report
from ..taxonomy import DECISION_COLOUR, DECISIONS, TAXONOMY, Taxonomy, decision_zh, severity_zh
from .base import Writer
from .locate import highlight_html, location_zh

e = html.escape

BASE_CSS = ("body{font-family:sans-serif;max-width:960px;margin:2em auto;line-height:1.6}"
            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
            "td:first-child,th:first-child{text-align:left}"
            "mark{padding:0 2px;border-bottom:2px solid}mark.multi{border-bottom-style:double}"
            ".loc{color:#666;font-size:.85em}.seg{border-left:3px solid #ccc;padding-left:.6em;margin:.6em 0}"
            ".errors{color:#b00}")


def page(title: str, body: str, taxonomy: Taxonomy | None = None) -> str:
    """A standalone page: charset, a CSP with no scripts and no network, the vocabulary's colours."""
    decision_css = "".join(f".d-{d}{{color:{DECISION_COLOUR[d]};font-weight:bold}}" for d in DECISIONS)
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>{e(title)}</title><style>{BASE_CSS}{decision_css}{(taxonomy or TAXONOMY).css()}</style>"
            f"</head><body><h1>{e(title)}</h1>{body}</body></html>\n")


def table(head: list[str], rows: list[list]) -> str:
    th = "".join(f"<th>{e(str(h))}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def section(r: Report, taxonomy: Taxonomy | None = None) -> str:
    tax = taxonomy or TAXONOMY
    by_seg: dict[int, list] = {}
    for f in r.findings:
        by_seg.setdefault(f.segment_id, []).append(f)
    rows = [f'<div class="seg"><div class="loc">{e(location_zh(s.locator, s.layer, with_layer=True))}</div>'
            f'<div class="txt">{highlight_html(s.text, by_seg[s.id], taxonomy=tax)}</div></div>'
            for s in r.segments if s.id in by_seg]
    items = "".join(
        f"<li><b>[{e(severity_zh(f.severity))}] {e(tax.category_zh(f.category))}（{e(f.category)}）</b> "
        f"{e(location_zh(f.location, f.layer, with_layer=True))}：{e(f.explanation)}"
        f"<br><small>建议：{e(f.suggestion)}</small></li>" for f in r.findings)
    errs = "".join(f"<li>[{e(e_.code)}] {e(e_.message)}</li>" for e_ in r.errors)
    return (f'<section><h2>{e(r.source)}</h2>'
            f'<p class="d-{e(r.decision)}">结论：{e(decision_zh(r.decision))}（风险分 {r.risk_score:.2f}）</p>'
            f'{"<ul class=errors>" + errs + "</ul>" if errs else ""}'
            f'<ol>{items}</ol>{"".join(rows)}</section>')


def to_html(reports: list[Report], taxonomy: Taxonomy | None = None) -> str:
    return page("保密审查报告", "".join(section(r, taxonomy) for r in reports), taxonomy)


class HtmlWriter(Writer):
    name = "html"

    def __init__(self, out, taxonomy=None):
        super().__init__(out, taxonomy)
        self.sections: list[str] = []

    def add(self, report: Report) -> None:
        self.sections.append(section(report, self.taxonomy))

    def close(self) -> None:
        self.out.write(page("保密审查报告", "".join(self.sections), self.taxonomy))
