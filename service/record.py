"""The record (审查单) of one submission: HTML (escaped by Jinja2 autoescape) and PDF (reportlab,
built-in STSong-Light CID font: no font files needed)."""
from __future__ import annotations

import datetime as dt
import io

from jinja2 import Environment, select_autoescape
from sqlalchemy import select

from scanner.taxonomy import SEVERITY_ZH, category_zh

from .models import Decision, FindingRow, Submission, User, Verdict, Version
from .workflow import LEVEL_ZH, OPINION_ZH, STATUS_ZH, VERDICT_ZH


def fmt_ts(ts: float | None) -> str:
    """A timestamp as people in China read it (UTC+8, to the minute); "" for none."""
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


def collect(s, sub: Submission) -> dict:
    users = {u.id: u for u in s.execute(select(User)).scalars()}

    def name(uid):
        return (users[uid].display_name or users[uid].username) if uid in users else ""
    vers = s.execute(select(Version).where(Version.submission_id == sub.id).order_by(Version.number)).scalars().all()
    cur = next(v for v in vers if v.number == sub.current_version)
    findings = []
    if cur.report_id:
        rows = s.execute(select(FindingRow).where(FindingRow.report_id == cur.report_id).order_by(FindingRow.idx)).scalars().all()
        verdicts = {v.finding_id: v for v in s.execute(select(Verdict).where(
            Verdict.finding_id.in_([r.id for r in rows]))).scalars()} if rows else {}
        for i, r in enumerate(rows, 1):
            v = verdicts.get(r.id)
            findings.append({"n": i, "category": r.category, "severity": r.severity, "layer": r.layer,
                             "explanation": r.explanation, "fingerprint": r.fingerprint[:12],
                             "verdict": VERDICT_ZH.get(v.verdict, "") if v else "未审查",
                             "reason": v.reason if v else "", "by": name(v.user_id) if v else ""})
    decisions = [{"level": LEVEL_ZH.get(d.level, d.level), "decision": OPINION_ZH.get(d.decision, d.decision),
                  "reason": d.reason, "by": name(d.user_id), "at": fmt_ts(d.created_at), "version": d.version_number}
                 for d in s.execute(select(Decision).where(Decision.submission_id == sub.id).order_by(Decision.id)).scalars()]
    return {"sub": sub, "status": STATUS_ZH.get(sub.status, sub.status), "owner": name(sub.owner_id),
            "reviewer": name(sub.reviewer_id) if sub.reviewer_id else "", "approver": name(sub.approver_id) if sub.approver_id else "",
            "created": fmt_ts(sub.created_at), "published": fmt_ts(sub.published_at), "versions": vers, "cur": cur,
            "findings": findings, "decisions": decisions, "generated": fmt_ts(dt.datetime.now().timestamp())}


_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_env.filters["ts"] = fmt_ts
HTML = _env.from_string("""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>上网信息发布保密审查单</title>
<style>body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:900px;margin:2em auto;color:#111}
table{border-collapse:collapse;width:100%;margin:.6em 0}td,th{border:1px solid #444;padding:.35em .5em;vertical-align:top;text-align:left}
th{background:#eee;width:9em}h1{text-align:center;font-size:1.4em}.small{color:#555;font-size:.85em}
@media print{body{margin:0}}</style></head><body>
<h1>上网信息发布保密审查单</h1>
<p class="small">编号：{{ sub.id }}　生成时间：{{ generated }}</p>
<table>
<tr><th>信息名称</th><td colspan="3">{{ sub.title }}</td></tr>
<tr><th>内容摘要</th><td colspan="3">{{ sub.summary }}</td></tr>
<tr><th>发布目的</th><td colspan="3">{{ sub.purpose }}</td></tr>
<tr><th>拟发布渠道</th><td>{{ sub.channel }}</td><th>拟公开范围</th><td>{{ sub.scope }}</td></tr>
<tr><th>申请人</th><td>{{ owner }}</td><th>申请时间</th><td>{{ created }}</td></tr>
<tr><th>当前版本</th><td>第 {{ cur.number }} 版：{{ cur.filename }}（{{ cur.size }} 字节）</td><th>内容 SHA-256</th><td class="small">{{ cur.sha256 }}</td></tr>
<tr><th>保密审查人</th><td>{{ reviewer }}</td><th>审批人</th><td>{{ approver }}</td></tr>
<tr><th>状态</th><td>{{ status }}</td><th>发布时间</th><td>{{ published }}</td></tr>
</table>
<h2>自动审查发现与逐条审查结论</h2>
{% if findings %}<table><tr><th>#</th><th>类别</th><th>级别</th><th>位置层</th><th>说明</th><th>结论</th><th>理由</th><th>审查人</th></tr>
{% for f in findings %}<tr><td>{{ f.n }}</td><td>{{ f.category }}</td><td>{{ f.severity }}</td><td>{{ f.layer }}</td><td>{{ f.explanation }}</td><td>{{ f.verdict }}</td><td>{{ f.reason }}</td><td>{{ f.by }}</td></tr>
{% endfor %}</table>{% else %}<p>未发现风险项。</p>{% endif %}
<h2>审查与审批意见</h2>
<table><tr><th>环节</th><th>版本</th><th>意见</th><th>理由</th><th>签署人</th><th>时间</th></tr>
{% for d in decisions %}<tr><td>{{ d.level }}</td><td>{{ d.version }}</td><td>{{ d.decision }}</td><td>{{ d.reason }}</td><td>{{ d.by }}</td><td>{{ d.at }}</td></tr>
{% endfor %}</table>
<h2>版本</h2><table><tr><th>版本</th><th>文件</th><th>SHA-256</th><th>提交时间</th></tr>
{% for v in versions %}<tr><td>{{ v.number }}</td><td>{{ v.filename }}</td><td class="small">{{ v.sha256 }}</td><td>{{ v.created_at|ts }}</td></tr>{% endfor %}</table>
<p class="small">本审查单由 Baomi 保密审查系统生成；审计记录经哈希链保护，可用 baomi audit verify 校验。</p>
</body></html>""")


def render_html(data: dict) -> str:
    return HTML.render(**data)


def render_pdf(data: dict) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from xml.sax.saxutils import escape

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    base = ParagraphStyle("cjk", fontName="STSong-Light", fontSize=9.5, leading=13, wordWrap="CJK")
    title = ParagraphStyle("t", parent=base, fontSize=16, leading=22, alignment=1)
    h2 = ParagraphStyle("h2", parent=base, fontSize=12, leading=18, spaceBefore=6)

    def P(x):
        return Paragraph(escape(str(x or "")), base)
    sub, cur = data["sub"], data["cur"]
    style = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke)])
    head = [[P("信息名称"), P(sub.title)], [P("内容摘要"), P(sub.summary)], [P("发布目的"), P(sub.purpose)],
            [P("拟发布渠道"), P(sub.channel)], [P("拟公开范围"), P(sub.scope)],
            [P("申请人 / 申请时间"), P(f"{data['owner']}　{data['created']}")],
            [P("当前版本"), P(f"第 {cur.number} 版：{cur.filename}；SHA-256 {cur.sha256}")],
            [P("保密审查人"), P(data["reviewer"])], [P("审批人"), P(data["approver"])],
            [P("状态 / 发布时间"), P(f"{data['status']}　{data['published']}")]]
    story = [Paragraph("上网信息发布保密审查单", title), P(f"编号：{sub.id}　生成时间：{data['generated']}"), Spacer(1, 4 * mm),
             Table(head, colWidths=[32 * mm, 140 * mm], style=style), Paragraph("自动审查发现与逐条审查结论", h2)]
    if data["findings"]:
        rows = [[P(x) for x in ("#", "类别", "级别", "说明", "结论", "理由", "审查人")]]
        rows += [[P(f["n"]), P(category_zh(f["category"])), P(SEVERITY_ZH.get(f["severity"], f["severity"])),
                  P(f["explanation"]), P(f["verdict"]),
                  P(f["reason"]), P(f["by"])] for f in data["findings"]]
        t = Table(rows, colWidths=[8 * mm, 28 * mm, 15 * mm, 55 * mm, 18 * mm, 34 * mm, 16 * mm], repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(t)
    else:
        story.append(P("未发现风险项。"))
    story.append(Paragraph("审查与审批意见", h2))
    rows = [[P(x) for x in ("环节", "版本", "意见", "理由", "签署人", "时间")]]
    rows += [[P(d["level"]), P(d["version"]), P(d["decision"]), P(d["reason"]), P(d["by"]), P(d["at"])]
             for d in data["decisions"]]
    t = Table(rows, colWidths=[20 * mm, 12 * mm, 24 * mm, 66 * mm, 20 * mm, 30 * mm], repeatRows=1)
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    sign = [[P("保密审查人签字："), P(""), P("日期："), P("")], [P("审批人签字："), P(""), P("日期："), P("")],
            [P("单位（盖章）："), P(""), P(""), P("")]]
    st = Table(sign, colWidths=[32 * mm, 70 * mm, 16 * mm, 54 * mm], rowHeights=[14 * mm, 14 * mm, 28 * mm])
    st.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                            ("SPAN", (1, 2), (3, 2))]))
    story += [t, Paragraph("签字与盖章", h2), st, Spacer(1, 6 * mm),
              P("审计记录经哈希链保护，可用 baomi audit verify 校验。")]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=15 * mm,
                      bottomMargin=15 * mm, title="上网信息发布保密审查单").build(story)
    return buf.getvalue()
