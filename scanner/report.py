"""Report renderers: jsonl/json (the contract), text (Chinese, terminal), html (standalone page,
escaped by construction), sarif (for code-scanning style integrations)."""
from __future__ import annotations

import html
import json

from .model import Report

DECISION_ZH = {"pass": "通过", "review": "需人工审查", "block": "禁止发布"}
SEVERITY_ZH = {"critical": "严重", "high": "高", "medium": "中", "low": "低", "info": "提示"}
LAYER_ZH = {"body": "正文", "table": "表格", "header": "页眉", "footer": "页脚", "revision": "修订痕迹",
            "comment": "批注", "hidden": "隐藏内容", "metadata": "文档属性", "redaction": "遮盖区域下",
            "script": "脚本/样式", "note": "脚注/尾注", "attachment": "附件"}
CATEGORY_ZH = {"marking": "密级标志", "pii": "个人信息", "secret": "口令密钥/内网", "geo": "精确坐标",
               "term": "敏感用语", "passage": "敏感段落", "hidden": "隐藏内容"}


def to_json_line(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False)


def location_zh(loc: dict, layer: str) -> str:
    parts = [LAYER_ZH.get(layer, layer)]
    if "member" in loc:
        parts.append(f"附件 {loc['member']}")
    if "page" in loc:
        parts.append(f"第{loc['page']}页")
    if "sheet" in loc:
        parts.append(f"工作表 {loc['sheet']}")
    if "cell" in loc:
        parts.append(f"单元格 {loc['cell']}")
    if "slide" in loc:
        parts.append(f"第{loc['slide']}张幻灯片")
    if "table" in loc:
        parts.append(f"表{loc['table'] + 1} 第{loc.get('row', 0) + 1}行第{loc.get('col', 0) + 1}列")
    elif "line" in loc:
        parts.append(f"第{loc['line']}行")
    elif "paragraph" in loc:
        parts.append(f"第{loc['paragraph'] + 1}段")
    if "field" in loc:
        parts.append(f"字段 {loc['field']}")
    return "，".join(parts)


def to_text(report: Report, context_chars: int = 18) -> str:
    lines = [f"文件：{report.source}",
             f"结论：{DECISION_ZH.get(report.decision, report.decision)}（风险分 {report.risk_score:.2f}）"]
    segs = {s.id: s for s in report.segments}
    if not report.findings and not report.errors:
        lines.append("  未发现需要处理的问题。")
    for n, f in enumerate(report.findings, 1):
        seg = segs.get(f.segment_id)
        snippet = ""
        if seg is not None:
            a, b = max(0, f.start - context_chars), min(len(seg.text), f.end + context_chars)
            snippet = (("…" if a else "") + seg.text[a:f.start] + "【" + seg.text[f.start:f.end] + "】"
                       + seg.text[f.end:b] + ("…" if b < len(seg.text) else "")).replace("\n", " ")
        lines.append(f"  {n}. [{SEVERITY_ZH.get(f.severity, f.severity)}] {f.category}  {location_zh(f.location, f.layer)}")
        if snippet:
            lines.append(f"     原文：{snippet}")
        lines.append(f"     说明：{f.explanation}")
        if f.suggestion:
            lines.append(f"     建议：{f.suggestion}")
    for e in report.errors:
        lines.append(f"  ! 无法完整审查 [{e.code}]：{e.message}")
    return "\n".join(lines)


def highlight_segment(text: str, findings: list) -> str:
    """Escape every piece, then wrap findings in <mark>; overlapping findings are merged."""
    spans = sorted((f.start, f.end, f) for f in findings if 0 <= f.start < f.end <= len(text))
    out, pos = [], 0
    for start, end, f in spans:
        if start < pos:
            continue
        out.append(html.escape(text[pos:start]))
        cat = f.category.split(".")[0]
        out.append(f'<mark class="c-{html.escape(cat)}" title="{html.escape(f.category)}：'
                   f'{html.escape(f.explanation)}">{html.escape(text[start:end])}</mark>')
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def to_html(reports: list[Report]) -> str:
    body = []
    for r in reports:
        by_seg: dict[int, list] = {}
        for f in r.findings:
            by_seg.setdefault(f.segment_id, []).append(f)
        rows = []
        for s in r.segments:
            if s.id not in by_seg:
                continue
            rows.append(f'<div class="seg"><div class="loc">{html.escape(location_zh(s.locator, s.layer))}</div>'
                        f'<div class="txt">{highlight_segment(s.text, by_seg[s.id])}</div></div>')
        items = "".join(
            f"<li><b>[{html.escape(SEVERITY_ZH.get(f.severity, f.severity))}] {html.escape(f.category)}</b> "
            f"{html.escape(location_zh(f.location, f.layer))}：{html.escape(f.explanation)}"
            f"<br><small>建议：{html.escape(f.suggestion)}</small></li>" for f in r.findings)
        errs = "".join(f"<li>[{html.escape(e.code)}] {html.escape(e.message)}</li>" for e in r.errors)
        body.append(
            f'<section><h2>{html.escape(r.source)}</h2>'
            f'<p class="d-{html.escape(r.decision)}">结论：{html.escape(DECISION_ZH.get(r.decision, r.decision))}'
            f'（风险分 {r.risk_score:.2f}）</p>'
            f'{"<ul class=errors>" + errs + "</ul>" if errs else ""}'
            f'<ol>{items}</ol>{"".join(rows)}</section>')
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            "<title>保密审查报告</title><style>"
            "body{font-family:sans-serif;max-width:960px;margin:2em auto;line-height:1.6}"
            "mark{padding:0 2px;border-bottom:2px solid}mark.c-marking{background:#fbb}mark.c-pii{background:#ffd27f}"
            "mark.c-secret{background:#d9b3ff}mark.c-geo{background:#9fe}mark.c-term{background:#ff9}"
            "mark.c-passage{background:#cdf}mark.c-hidden{background:#ddd}.loc{color:#666;font-size:.85em}"
            ".seg{border-left:3px solid #ccc;padding-left:.6em;margin:.6em 0}.d-block{color:#b00;font-weight:bold}"
            ".d-review{color:#a60;font-weight:bold}.d-pass{color:#080;font-weight:bold}.errors{color:#b00}"
            "</style></head><body><h1>保密审查报告</h1>" + "".join(body) + "</body></html>")


def to_sarif(reports: list[Report]) -> str:
    rules: dict[str, dict] = {}
    results = []
    level = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
    for r in reports:
        for f in r.findings:
            rules.setdefault(f.rule_id, {"id": f.rule_id, "name": f.category,
                                         "shortDescription": {"text": f.category}})
            loc = {"physicalLocation": {"artifactLocation": {"uri": r.source}}}
            if "line" in f.location:
                loc["physicalLocation"]["region"] = {"startLine": f.location["line"],
                                                     "startColumn": f.start + 1, "endColumn": f.end + 1}
            results.append({"ruleId": f.rule_id, "level": level.get(f.severity, "warning"),
                            "message": {"text": f.explanation}, "locations": [loc],
                            "partialFingerprints": {"baomi/v1": f.fingerprint},
                            "properties": {"category": f.category, "layer": f.layer, "location": f.location,
                                           "confidence": f.confidence}})
        for e in r.errors:
            results.append({"ruleId": e.code, "level": "error", "message": {"text": e.message},
                            "locations": [{"physicalLocation": {"artifactLocation": {"uri": r.source}}}]})
    from . import __version__
    return json.dumps({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
                       "runs": [{"tool": {"driver": {"name": "baomi", "version": __version__,
                                                     "rules": list(rules.values())}},
                                 "results": results}]}, ensure_ascii=False, indent=2)
