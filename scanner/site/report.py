"""The site inspection report: per URL the page title, the URL, the findings and a take-down
suggestion (下架 / 整改), in Chinese for people and with stable codes for programs.

JSON (`format: baomi.site.report/1`): `start_url`, `started_at`, `finished_at`, `since`, `stats`,
`entries[]` (one per reported resource: `url`, `kind`, `title`, `page_title`, `referrer`,
`link_text`, `change` new/changed, `decision`, `risk_score`, `action` take_down/fix/check/none,
`action_zh`, `suggestion`, `categories`, `findings[]` with `category`, `rule_id`, `severity`,
`text`, `location`, `explanation`, `suggestion`, and `errors[]`), `skipped[]` (`url`, `code`,
`reason`), `skipped_total`, `removed[]`, `exit_code` (as `baomi scan`: 0 pass, 1 review, 2 block,
3 could not check). The xlsx has the same rows (sheets 检查结果, 发现明细, 未检查, 已消失); the
HTML is one standalone page."""
from __future__ import annotations

import html
import json
from collections import Counter

from ..policy import exit_code
from ..report.locate import location_zh
from ..report.xlsxwrite import Sheet, write_xlsx
from ..taxonomy import DECISION_RANK, TAXONOMY, Taxonomy, decision_zh, severity_zh
from .crawl import KIND_ZH, PAGE, SKIP_ZH, CrawlResult

REPORT_FORMAT = "baomi.site.report/1"
ACTION = {"block": "take_down", "review": "fix", "pass": "none"}
ACTION_ZH = {"take_down": "下架", "fix": "整改", "check": "人工核查", "none": "无需处理"}
CHANGE_ZH = {"new": "新增", "changed": "已变化", "unchanged": "未变化"}
MAX_FINDINGS = 100


def _suggestion(action: str, cats: list[str], tax: Taxonomy) -> str:
    what = "、".join(dict.fromkeys(tax.category_zh(c) for c in cats)) or "无法读取的内容"
    if action == "take_down":
        return f"立即下架：含{what}。下架后核查该信息的发布审查记录，按规定报告保密工作机构，并检查是否已被转载。"
    if action == "fix":
        return f"整改：核查并删除或处理其中的{what}，经保密审查后重新发布；不能确认前先下架。"
    if action == "check":
        return "人工核查：文件未能完整读取（损坏、加密、超出限制或无法访问），请人工打开核查。"
    return "未发现需处理的内容。"


def entry(rs, titles: dict[str, str], tax: Taxonomy = TAXONOMY) -> dict:
    rep = rs.report or {}
    findings = rep.get("findings") or []
    decision = rep.get("decision", "review")
    errors = [{"code": e.get("code", ""), "message": e.get("message", "")} for e in rep.get("errors") or []]
    action = ACTION.get(decision, "fix")
    if decision == "review" and errors and not any(f.get("needs_verdict") for f in findings):
        action = "check"
    cats = [f.get("category", "") for f in findings if f.get("needs_verdict")] or \
           [f.get("category", "") for f in findings]
    order = sorted(findings, key=lambda f: (-int(bool(f.get("needs_verdict"))),
                                            -["info", "low", "medium", "high", "critical"].index(f.get("severity", "info"))
                                            if f.get("severity") in ("info", "low", "medium", "high", "critical") else 0))
    return {
        "url": rs.url, "kind": rs.kind, "kind_zh": KIND_ZH.get(rs.kind, rs.kind),
        "title": rs.title if rs.kind == PAGE else (rs.link_text or rs.url.rsplit("/", 1)[-1]),
        "page_title": rs.title if rs.kind == PAGE else titles.get(rs.referrer or "", ""),
        "referrer": rs.referrer, "link_text": rs.link_text, "depth": rs.depth,
        "change": rs.change, "change_zh": CHANGE_ZH.get(rs.change, rs.change),
        "content_type": rs.content_type, "media_type": rep.get("media_type", ""), "size": rs.size,
        "sha256": rs.sha256, "decision": decision, "decision_zh": decision_zh(decision),
        "risk_score": rep.get("risk_score", 0.0), "action": action, "action_zh": ACTION_ZH[action],
        "suggestion": _suggestion(action, cats, tax),
        "categories": sorted(set(cats) - {""}),
        "findings": [{"category": f.get("category", ""), "category_zh": tax.category_zh(f.get("category", "")),
                      "rule_id": f.get("rule_id", ""), "severity": f.get("severity", ""),
                      "severity_zh": severity_zh(f.get("severity", "info")), "text": f.get("text", ""),
                      "layer": f.get("layer", ""), "location": location_zh(f.get("location") or {}, f.get("layer", "")),
                      "needs_verdict": bool(f.get("needs_verdict")), "explanation": f.get("explanation", ""),
                      "suggestion": f.get("suggestion", "")} for f in order[:MAX_FINDINGS]],
        "finding_count": len(findings), "errors": errors,
    }


def build(res: CrawlResult, tax: Taxonomy = TAXONOMY, fail_on: str = "review") -> dict:
    titles = {r.url: r.title for r in res.resources if r.kind == PAGE}
    shown = [r for r in res.resources if r.change != "unchanged"]
    entries = [entry(r, titles, tax) for r in shown]
    entries.sort(key=lambda e: (-DECISION_RANK.get(e["decision"], 1), -e["risk_score"], e["url"]))
    skip_errors = [s for s in res.skipped if s.error]
    decisions = [e["decision"] for e in entries] + ["review"] * len(skip_errors)
    n_err = sum(1 for e in entries if e["errors"]) + len(skip_errors)
    elapsed = res.crawl_s + res.scan_s
    kinds = Counter(r.kind for r in res.resources)
    stats = {"fetched": len(res.resources), "pages": kinds.get(PAGE, 0),
             "attachments": kinds.get("attachment", 0), "images": kinds.get("image", 0),
             "reported": len(entries), "unchanged": len(res.resources) - len(shown),
             "decisions": dict(Counter(e["decision"] for e in entries)),
             "actions": dict(Counter(e["action"] for e in entries)),
             "requests": res.requests, "bytes": res.bytes, "crawl_s": res.crawl_s, "scan_s": res.scan_s,
             "pages_per_s": round(len(res.resources) / elapsed, 3) if elapsed > 0 else 0.0,
             "stopped": res.stopped}
    return {"format": REPORT_FORMAT, "start_url": res.start_url, "started_at": res.started_at,
            "finished_at": res.finished_at, "since": res.since, "options": res.options, "stats": stats,
            "entries": entries,
            "skipped": [{"url": s.url, "code": s.code, "reason": SKIP_ZH.get(s.code, s.code), "referrer": s.referrer,
                         "detail": s.detail, "error": s.error} for s in res.skipped],
            "skipped_total": dict(res.skipped_total), "removed": res.removed,
            "exit_code": exit_code(decisions, n_err, fail_on)}


# -- writers ---------------------------------------------------------------------------------------
def write_json(doc: dict, path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1)


def render_text(doc: dict) -> str:
    st = doc["stats"]
    lines = [f"保密检查：{doc['start_url']}",
             f"访问 {st['fetched']} 个资源（网页 {st['pages']}，附件 {st['attachments']}，图片 {st['images']}），"
             f"报告 {st['reported']} 个" + (f"，未变化 {st['unchanged']} 个（对比 {doc['since'].get('started_at')} 的检查）"
                                         if doc.get("since") else "") + "。"]
    if st.get("stopped"):
        lines.append(f"注意：因{SKIP_ZH.get(st['stopped'], st['stopped'])}，检查提前结束。")
    for i, e in enumerate(doc["entries"], 1):
        if e["action"] == "none":
            continue
        lines.append("")
        lines.append(f"{i}. 【{e['action_zh']}】{e['title'] or '（无标题）'}  [{e['kind_zh']}，{e['change_zh']}]")
        lines.append(f"   网址：{e['url']}")
        if e["kind"] != PAGE and e["referrer"]:
            lines.append(f"   所在页面：{e['page_title'] or ''} {e['referrer']}")
        lines.append(f"   结论：{e['decision_zh']}（风险分 {e['risk_score']:.2f}）")
        for f in [f for f in e["findings"] if f["needs_verdict"]][:10]:
            lines.append(f"   - [{f['severity_zh']}] {f['category_zh']}（{f['rule_id']}）{f['location']}：{f['explanation']}")
        for er in e["errors"]:
            lines.append(f"   - 错误 {er['code']}：{er['message']}")
        lines.append(f"   建议：{e['suggestion']}")
    clean = sum(1 for e in doc["entries"] if e["action"] == "none")
    lines.append("")
    lines.append(f"未发现问题：{clean} 个。未检查：{sum(doc['skipped_total'].values())} 个链接"
                 + ("（" + "，".join(f"{SKIP_ZH.get(k, k).split('，')[0]} {v}" for k, v in
                             sorted(doc["skipped_total"].items())) + "）" if doc["skipped_total"] else "") + "。")
    if doc.get("removed"):
        lines.append(f"上次检查有、本次未访问到：{len(doc['removed'])} 个（已下架、已移动或超出本次范围）。")
    return "\n".join(lines) + "\n"


RESULT_HEADER = ["序号", "处理建议", "结论", "风险分", "类型", "变化", "标题", "网址", "所在页面", "所在页面网址",
                 "发现类别", "发现数", "主要问题", "建议", "错误", "内容哈希"]


def write_xlsx_report(doc: dict, path) -> None:
    rows = []
    details = []
    for i, e in enumerate(doc["entries"], 1):
        top = [f for f in e["findings"] if f["needs_verdict"]][:3]
        rows.append([i, e["action_zh"], e["decision_zh"], round(e["risk_score"], 2), e["kind_zh"], e["change_zh"],
                     e["title"], e["url"], e["page_title"] if e["kind"] != PAGE else "",
                     e["referrer"] if e["kind"] != PAGE else "", "、".join(f["category_zh"] for f in e["findings"]
                                                                          if f["needs_verdict"]) or "",
                     e["finding_count"], "；".join(f["explanation"] for f in top), e["suggestion"],
                     "；".join(f"{x['code']}：{x['message']}" for x in e["errors"]), e["sha256"]])
        for f in e["findings"]:
            details.append([i, e["url"], e["title"], f["category_zh"], f["category"], f["rule_id"], f["severity_zh"],
                            "是" if f["needs_verdict"] else "否", f["text"], f["location"], f["explanation"],
                            f["suggestion"]])
    sheets = [Sheet("检查结果", RESULT_HEADER, rows, [6, 10, 10, 8, 8, 8, 30, 50, 24, 40, 24, 8, 50, 50, 30, 20]),
              Sheet("发现明细", ["序号", "网址", "标题", "类别", "类别代码", "规则", "严重程度", "影响结论", "原文", "位置",
                             "说明", "建议"], details, [6, 50, 30, 16, 18, 30, 10, 8, 30, 20, 50, 50]),
              Sheet("未检查", ["网址", "原因代码", "原因", "来源页面", "说明"],
                    [[s["url"], s["code"], s["reason"], s["referrer"] or "", s["detail"]] for s in doc["skipped"]],
                    [50, 16, 40, 50, 20])]
    if doc.get("removed"):
        sheets.append(Sheet("已消失", ["网址", "类型", "上次结论", "上次发现类别"],
                            [[r["url"], KIND_ZH.get(r.get("kind") or "", ""), decision_zh(r.get("previous_decision") or "review")
                              if r.get("previous_decision") else "", "、".join(r.get("categories") or [])]
                             for r in doc["removed"]], [50, 8, 10, 30]))
    st = doc["stats"]
    sheets.append(Sheet("概况", ["项目", "值"], [
        ["检查起点", doc["start_url"]], ["开始时间", doc["started_at"]], ["结束时间", doc["finished_at"]],
        ["对比上次检查", (doc["since"] or {}).get("started_at") or "无"], ["访问资源数", st["fetched"]],
        ["报告资源数", st["reported"]], ["未变化", st["unchanged"]], ["下架", st["actions"].get("take_down", 0)],
        ["整改", st["actions"].get("fix", 0)], ["人工核查", st["actions"].get("check", 0)],
        ["请求数", st["requests"]], ["下载字节", st["bytes"]], ["每秒资源数", st["pages_per_s"]],
        ["退出码", doc["exit_code"]]], [20, 60]))
    write_xlsx(path, sheets)


_ACTION_CLASS = {"take_down": "block", "fix": "review", "check": "review", "none": "pass"}


def render_html(doc: dict) -> str:
    e_ = html.escape
    st = doc["stats"]
    rows = []
    for i, e in enumerate(doc["entries"], 1):
        fs = "".join(f"<li><b>{e_(f['category_zh'])}</b> [{e_(f['severity_zh'])}] {e_(f['location'])}："
                     f"{e_(f['explanation'])}</li>" for f in e["findings"] if f["needs_verdict"])
        ers = "".join(f"<li>错误 {e_(x['code'])}：{e_(x['message'])}</li>" for x in e["errors"])
        page = (f"<div class='from'>所在页面：{e_(e['page_title'])} <span class='url'>{e_(e['referrer'] or '')}</span></div>"
                if e["kind"] != PAGE and e["referrer"] else "")
        rows.append(f"<tr class='{_ACTION_CLASS[e['action']]}'><td>{i}</td><td class='act'>{e_(e['action_zh'])}</td>"
                    f"<td>{e_(e['decision_zh'])}<br><small>{e['risk_score']:.2f}</small></td>"
                    f"<td>{e_(e['kind_zh'])}<br><small>{e_(e['change_zh'])}</small></td>"
                    f"<td><div class='title'>{e_(e['title'] or '（无标题）')}</div><div class='url'>{e_(e['url'])}</div>"
                    f"{page}</td><td><ul>{fs}{ers}</ul><div class='sug'>{e_(e['suggestion'])}</div></td></tr>")
    skipped = "".join(f"<tr><td class='url'>{e_(s['url'])}</td><td>{e_(s['reason'])}</td>"
                      f"<td class='url'>{e_(s['referrer'] or '')}</td></tr>" for s in doc["skipped"])
    since = (f"<p>对比 {e_(str(doc['since'].get('started_at')))} 的检查：只列出新增和已变化的资源，"
             f"未变化 {st['unchanged']} 个。</p>" if doc.get("since") else "")
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>保密检查报告 · {e_(doc['start_url'])}</title><style>
body{{font-family:sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}}.url{{font-family:monospace;font-size:.85em;word-break:break-all;color:#555}}
tr.block .act{{background:#c62828;color:#fff;font-weight:bold}}tr.review .act{{background:#f9a825}}tr.pass .act{{color:#2e7d32}}
.title{{font-weight:bold}}.sug{{margin-top:.3em;color:#333}}ul{{margin:0;padding-left:1.2em}}
</style></head><body><h1>保密检查报告</h1>
<p>检查起点：<span class="url">{e_(doc['start_url'])}</span>；时间：{e_(doc['started_at'])} — {e_(doc['finished_at'])}</p>
<p>访问 {st['fetched']} 个资源（网页 {st['pages']}，附件 {st['attachments']}，图片 {st['images']}）；
下架 {st['actions'].get('take_down', 0)}，整改 {st['actions'].get('fix', 0)}，人工核查 {st['actions'].get('check', 0)}。</p>
{since}<table><thead><tr><th>#</th><th>建议</th><th>结论</th><th>类型</th><th>标题与网址</th><th>发现与处理建议</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
<h2>未检查的链接（{sum(doc['skipped_total'].values())}）</h2>
<table><thead><tr><th>网址</th><th>原因</th><th>来源页面</th></tr></thead><tbody>{skipped}</tbody></table>
</body></html>"""
