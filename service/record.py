"""The record (审查单 / 审批单, 一事一审) of one submission, in Chinese only: `collect` reads every
version with its findings and verdicts, the decisions, people and times; `blocks` lays the content
out once; HTML (escaped), PDF (reportlab, built-in STSong-Light CID font: no font files needed) and
docx (service.wordml) render those same blocks, signature/date/seal block included."""
from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import select

from scanner.report.locate import location_zh
from scanner.taxonomy import SEVERITY_ZH, category_zh, decision_zh, layer_zh

from .models import Decision, FindingAllow, FindingRow, ReportRow, Submission, User, Verdict, Version
from .clock import beijing
from .recordno import record_number
from .remembered import LABEL_ZH, SCOPE_ZH
from .remembered import status as entry_status
from .reports import finding_detail, reading_issues
from .workflow import LEVEL_ZH, OPINION_ZH, STATUS_ZH, VERDICT_ZH, carried_zh


def fmt_ts(ts: float | None) -> str:
    """A timestamp as people in China read it (UTC+8, to the minute); "" for none."""
    if not ts:
        return ""
    return beijing(ts).strftime("%Y-%m-%d %H:%M")


ENTRY_STATUS_ZH = {"revoked": "（该条目现已撤销）", "expired": "（该条目现已过期）"}


def scope_zh(scope: str) -> str:
    """An allowlist entry's scope in Chinese: 全部 / 本申请人（name） / 本网站/渠道（channel）."""
    kind, _, value = (scope or "everywhere").partition(":")
    label = SCOPE_ZH.get(kind, "其他")
    return f"{label}（{value}）" if value else label


def _memory(f: FindingRow, v: Verdict | None, entry: FindingAllow | None, name) -> dict:
    """What the record says about a finding's verdict, in Chinese: a verdict given here, in a batch
    or carried over from an earlier version (with the original reviewer and time); no verdict needed
    because an allowlist entry applied (its reason, scope and who) or because it is low/info; or
    still waiting. -> verdict / reason / by / at cells."""
    if v is not None:
        notes = [x for x in ("（批量）" if v.batch else "",
                             carried_zh(v.carried_from_version) if v.carried_from_version else "") if x]
        return {"verdict": "\n".join([VERDICT_ZH.get(v.verdict, "其他"), *notes]), "reason": v.reason,
                "by": name(v.user_id), "at": fmt_ts(v.created_at)}
    if f.allow_entry_id is not None:
        if entry is None:
            return {"verdict": "无需结论（白名单已覆盖）", "reason": "白名单条目已不存在", "by": "", "at": ""}
        reason = (f"白名单理由：{entry.reason}\n适用范围：{scope_zh(entry.scope)}\n"
                  f"原结论：{LABEL_ZH.get(entry.label, '其他')}{ENTRY_STATUS_ZH.get(entry_status(entry), '')}")
        return {"verdict": "无需结论（白名单已覆盖）", "reason": reason,
                "by": name(entry.created_by), "at": fmt_ts(entry.created_at)}
    if not f.needs_verdict:
        return {"verdict": "无需结论（提示，不影响结论）", "reason": "", "by": "", "at": ""}
    return {"verdict": "未审查", "reason": "", "by": "", "at": ""}


def _finding_rows(s, report_id: str | None, name) -> list[dict]:
    """The findings of one version's report with their verdicts (or why none is needed), every
    field in Chinese."""
    if not report_id:
        return []
    rows = s.execute(select(FindingRow).where(FindingRow.report_id == report_id).order_by(FindingRow.idx)).scalars().all()
    verdicts = {v.finding_id: v for v in s.execute(select(Verdict).where(
        Verdict.finding_id.in_([r.id for r in rows]))).scalars()} if rows else {}
    entry_ids = {r.allow_entry_id for r in rows if r.allow_entry_id is not None}
    entries = {e.id: e for e in s.execute(select(FindingAllow).where(
        FindingAllow.id.in_(entry_ids))).scalars()} if entry_ids else {}
    out = []
    for i, r in enumerate(rows, 1):
        v = verdicts.get(r.id)
        detail = finding_detail(s, r)
        loc = {k: val for k, val in (detail.get("location") or {}).items() if k != "field"}
        out.append({"n": i, "category": r.category, "category_zh": category_zh(r.category),
                    "severity": r.severity, "severity_zh": SEVERITY_ZH.get(r.severity, "未定级"),
                    "layer": r.layer, "layer_zh": layer_zh(r.layer),
                    "location": location_zh(loc, r.layer, with_layer=True) if loc else layer_zh(r.layer),
                    "explanation": detail.get("explanation", ""), "fingerprint": r.fingerprint[:12],
                    **_memory(r, v, entries.get(r.allow_entry_id) if r.allow_entry_id is not None else None, name)})
    return out


def collect(s, sub: Submission) -> dict:
    """Everything the record shows, in Chinese: the 申请 fields, every version with its scan
    decision, findings and verdicts, the review and approval decisions, the people and times."""
    users = {u.id: u for u in s.execute(select(User)).scalars()}

    def name(uid):
        return (users[uid].display_name or users[uid].username) if uid in users else ""
    vers = s.execute(select(Version).where(Version.submission_id == sub.id).order_by(Version.number)).scalars().all()
    cur = next(v for v in vers if v.number == sub.current_version)
    reports = {r.id: r for r in s.execute(select(ReportRow).where(
        ReportRow.id.in_([v.report_id for v in vers if v.report_id]))).scalars()}
    versions = []
    for v in vers:
        rep = reports.get(v.report_id) if v.report_id else None
        errors, notes = reading_issues(s, rep) if rep else ([], [])
        versions.append({"number": v.number, "filename": v.filename, "size": v.size, "sha256": v.sha256,
                         "created": fmt_ts(v.created_at), "note": v.note or "",
                         "decision": decision_zh(rep.decision) if rep else "自动审查未完成",
                         "purged": bool(v.purged_at or (rep and rep.purged_at)),
                         "current": v.number == sub.current_version,
                         "findings": _finding_rows(s, v.report_id, name), "errors": errors, "notes": notes})
    decisions = [{"level": LEVEL_ZH.get(d.level, "其他"), "decision": OPINION_ZH.get(d.decision, "其他"),
                  "reason": d.reason, "by": name(d.user_id), "at": fmt_ts(d.created_at), "version": d.version_number}
                 for d in s.execute(select(Decision).where(Decision.submission_id == sub.id).order_by(Decision.id)).scalars()]
    findings = next(v["findings"] for v in versions if v["current"])
    return {"sub": sub, "number": record_number(sub), "status": STATUS_ZH.get(sub.status, "其他"),
            "owner": name(sub.owner_id),
            "reviewer": name(sub.reviewer_id) if sub.reviewer_id else "", "approver": name(sub.approver_id) if sub.approver_id else "",
            "created": fmt_ts(sub.created_at), "published": fmt_ts(sub.published_at), "versions": versions, "cur": cur,
            "findings": findings, "decisions": decisions, "generated": fmt_ts(dt.datetime.now().timestamp())}


# -- the record's content, once: a list of blocks that HTML, PDF and docx each render -------------
TITLE = "上网信息发布保密审查单"
SUBTITLE = "（保密审查单 / 审批单）"
FINDING_HEAD = ("序号", "类别", "级别", "位置", "说明", "审查结论", "理由", "审查人 / 时间")
FINDING_MM = (11, 22, 10, 22, 40, 17, 28, 22)
DECISION_HEAD = ("环节", "版本", "意见", "理由", "签署人", "时间")
DECISION_MM = (18, 13, 22, 67, 22, 30)
VERSION_HEAD = ("版本", "文件", "大小（字节）", "内容 SHA-256", "提交时间", "自动审查结论", "修改说明")
VERSION_MM = (13, 30, 15, 44, 24, 20, 26)
ERROR_HEAD = ("序号", "代码", "未能读取的内容（需人工审查）")
NOTE_HEAD = ("序号", "代码", "读取说明（供参考，不影响结论）")
ISSUE_MM = (11, 45, 116)
PURGED_MESSAGE = "（草稿已按保留期清除，说明不再保存）"
SIGN_ROWS = (("保密审查人签字：", "日期："), ("审批人签字：", "日期："))
SEAL = "单位（盖章）："
FOOT = "本审查单由保密审查系统生成，一事一审；审计记录经哈希链保护，管理员可用 baomi audit verify 校验。"


def blocks(data: dict) -> list[tuple]:
    """("title", text) ("p", text) ("h2", text) ("kv", [(label, value), ...])
    ("table", head, rows, widths_mm) ("sign", name_reviewer, name_approver)."""
    sub, cur = data["sub"], data["cur"]
    out: list[tuple] = [("title", TITLE), ("p", SUBTITLE),
                        ("p", f"一事一审编号：{data['number']}　生成时间：{data['generated']}")]
    out.append(("kv", [("信息名称", sub.title), ("内容摘要", sub.summary), ("发布目的", sub.purpose),
                       ("拟发布渠道", sub.channel), ("拟公开范围", sub.scope),
                       ("申请人", data["owner"]), ("申请时间", data["created"]),
                       ("当前版本", f"第 {cur.number} 版：{cur.filename}"), ("版本数", f"共 {len(data['versions'])} 版"),
                       ("保密审查人", data["reviewer"]), ("审批人", data["approver"]),
                       ("状态", data["status"]), ("发布时间", data["published"]),
                       ("发布地址", getattr(sub, "published_url", "") or "")]))
    out.append(("h2", "一、版本"))
    out.append(("table", VERSION_HEAD, [(f"第 {v['number']} 版", v["filename"], str(v["size"]), v["sha256"], v["created"],
                                         v["decision"], v["note"]) for v in data["versions"]], VERSION_MM))
    out.append(("h2", "二、自动审查发现与逐条审查结论（每一版）"))
    for v in data["versions"]:
        unread = f"，未能完整读取 {len(v['errors'])} 处" if v["errors"] else ""
        out.append(("h3", f"第 {v['number']} 版（{v['filename']}）：自动审查结论 {v['decision']}，"
                          f"发现 {len(v['findings'])} 项{unread}{'（当前版本）' if v['current'] else ''}"))
        for head, issues in ((ERROR_HEAD, v["errors"]), (NOTE_HEAD, v["notes"])):
            if issues:
                out.append(("table", head, [(str(n), i["code"], i["message"] or PURGED_MESSAGE)
                                            for n, i in enumerate(issues, 1)], ISSUE_MM))
        if v["findings"]:
            out.append(("table", FINDING_HEAD, [
                (str(f["n"]), f["category_zh"], f["severity_zh"], f["location"], f["explanation"], f["verdict"],
                 f["reason"], "\n".join(x for x in (f["by"], f["at"].replace(" ", "\n")) if x)) for f in v["findings"]], FINDING_MM))
        else:
            out.append(("p", "草稿已按保留期清除，发现明细不再保存。" if v["purged"] else "未发现风险项。"))
    out.append(("h2", "三、审查与审批意见"))
    if data["decisions"]:
        out.append(("table", DECISION_HEAD, [(d["level"], f"第 {d['version']} 版", d["decision"], d["reason"], d["by"],
                                              d["at"]) for d in data["decisions"]], DECISION_MM))
    else:
        out.append(("p", "尚无审查或审批意见。"))
    out.append(("h2", "四、签字与盖章"))
    out.append(("sign", data["reviewer"], data["approver"]))
    out.append(("small", FOOT))
    return out


def _sign_rows(reviewer: str, approver: str) -> list[list[str]]:
    """The signature block: printed name from the system beside the space for the hand signature."""
    return [["保密审查人（系统记录）", reviewer or "", "审批人（系统记录）", approver or ""],
            [SIGN_ROWS[0][0], "", SIGN_ROWS[0][1], ""], [SIGN_ROWS[1][0], "", SIGN_ROWS[1][1], ""],
            [SEAL, ""]]


SIGN_MM = (36, 62, 30, 44)
SIGN_HEIGHTS_MM = (8, 16, 16, 30)
SIGN_SPANS = {(3, 1): 3}


_CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:960px;margin:2em auto;color:#111}
table{border-collapse:collapse;width:100%;margin:.6em 0}td,th{border:1px solid #444;padding:.35em .5em;vertical-align:top;text-align:left}
th{background:#eee}table.kv th{width:9em}h1{text-align:center;font-size:1.4em;margin-bottom:0}h2{font-size:1.15em}
h3{font-size:1em}.sub{text-align:center}.small{color:#555;font-size:.85em}td.hand{height:3.5em}td.seal{height:7em}
.dl{text-align:right;font-size:.9em}@media print{body{margin:0}.dl{display:none}}"""


def render_html(data: dict) -> str:
    from markupsafe import escape

    def e(x) -> str:
        return str(escape(str(x if x is not None else ""))).replace("\n", "<br>")
    h = [f'<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{TITLE}</title>'
         f"<style>{_CSS}</style></head><body>",
         '<p class="dl"><a href="record.pdf" id="record-pdf">下载 PDF</a>　<a href="record.docx" id="record-docx">下载 Word</a></p>']
    for b in blocks(data):
        kind = b[0]
        if kind == "title":
            h.append(f"<h1>{e(b[1])}</h1>")
        elif kind == "p":
            h.append(f'<p class="{"sub" if b[1] == SUBTITLE else "small"}">{e(b[1])}</p>')
        elif kind == "small":
            h.append(f'<p class="small">{e(b[1])}</p>')
        elif kind in ("h2", "h3"):
            h.append(f"<{kind}>{e(b[1])}</{kind}>")
        elif kind == "kv":
            pairs = b[1]
            h.append('<table class="kv">' + "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in pairs)
                     + "</table>")
        elif kind == "table":
            h.append("<table><tr>" + "".join(f"<th>{e(x)}</th>" for x in b[1]) + "</tr>"
                     + "".join("<tr>" + "".join(f"<td>{e(x)}</td>" for x in row) + "</tr>" for row in b[2])
                     + "</table>")
        elif kind == "sign":
            rows = _sign_rows(b[1], b[2])
            h.append('<table class="sign">'
                     f"<tr><th>{e(rows[0][0])}</th><td>{e(rows[0][1])}</td><th>{e(rows[0][2])}</th><td>{e(rows[0][3])}</td></tr>"
                     + "".join(f'<tr><th>{e(r[0])}</th><td class="hand"></td><th>{e(r[2])}</th><td class="hand"></td></tr>'
                               for r in rows[1:3])
                     + f'<tr><th>{e(rows[3][0])}</th><td class="seal" colspan="3"></td></tr></table>')
    h.append("</body></html>")
    return "".join(h)


def render_pdf(data: dict) -> bytes:
    return pdf_from_blocks(blocks(data), TITLE)


def pdf_from_blocks(bl: list[tuple], title_text: str = TITLE) -> bytes:
    """A PDF of record blocks (see `blocks`): the layout and the built-in CJK font of every record
    the service prints (the 审查单, the archive review summary of service.archive)."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    base = ParagraphStyle("cjk", fontName="STSong-Light", fontSize=9, leading=12.5, wordWrap="CJK")
    title = ParagraphStyle("t", parent=base, fontSize=16, leading=22, alignment=1)
    center = ParagraphStyle("c", parent=base, fontSize=10.5, leading=15, alignment=1)
    small = ParagraphStyle("s", parent=base, fontSize=8.5, textColor=colors.HexColor("#444444"))
    h2 = ParagraphStyle("h2", parent=base, fontSize=12, leading=18, spaceBefore=6, keepWithNext=1)
    h3 = ParagraphStyle("h3", parent=base, fontSize=10, leading=15, spaceBefore=4, keepWithNext=1)

    def P(x, style=base):
        return Paragraph(escape(str(x if x is not None else "")).replace("\n", "<br/>"), style)
    grid = [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    story: list = []
    for b in bl:
        kind = b[0]
        if kind == "title":
            story.append(P(b[1], title))
        elif kind == "p":
            story.append(P(b[1], center if b[1] == SUBTITLE else base))
        elif kind == "small":
            story += [Spacer(1, 4 * mm), P(b[1], small)]
        elif kind == "h2":
            story.append(P(b[1], h2))
        elif kind == "h3":
            story.append(P(b[1], h3))
        elif kind == "kv":
            rows = [[P(k), P(v)] for k, v in b[1]]
            story.append(Table(rows, colWidths=[32 * mm, 140 * mm],
                               style=TableStyle(grid + [("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke)])))
        elif kind == "table":
            rows = [[P(x) for x in b[1]]] + [[P(x) for x in row] for row in b[2]]
            story.append(Table(rows, colWidths=[w * mm for w in b[3]], repeatRows=1,
                               style=TableStyle(grid + [("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)])))
        elif kind == "sign":
            rows = [[P(x) for x in r] + [P("")] * (4 - len(r)) for r in _sign_rows(b[1], b[2])]
            story.append(Table(rows, colWidths=[w * mm for w in SIGN_MM],
                               rowHeights=[h * mm for h in SIGN_HEIGHTS_MM],
                               style=TableStyle(grid + [("SPAN", (1, 3), (3, 3))])))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=15 * mm,
                      bottomMargin=15 * mm, title=title_text, author="保密审查系统").build(story)
    return buf.getvalue()


def render_docx(data: dict) -> bytes:
    """The same record as a Word document (service.wordml: no python-docx at run time)."""
    from .wordml import Docx
    d = Docx(TITLE)
    for b in blocks(data):
        kind = b[0]
        if kind == "title":
            d.paragraph(b[1], size=16, bold=True, center=True, after_pt=0)
        elif kind == "p":
            d.paragraph(b[1], size=10.5 if b[1] == SUBTITLE else 9.5, center=b[1] == SUBTITLE)
        elif kind == "small":
            d.paragraph(b[1], size=8.5, before_pt=6)
        elif kind == "h2":
            d.paragraph(b[1], size=12, bold=True, before_pt=8, keep_next=True)
        elif kind == "h3":
            d.paragraph(b[1], size=10, bold=True, before_pt=4, keep_next=True)
        elif kind == "kv":
            d.table([[k, v] for k, v in b[1]], [32, 140], shade_first_col=True)
        elif kind == "table":
            d.table([list(b[1])] + [list(r) for r in b[2]], list(b[3]), header=True, size=8.5)
        elif kind == "sign":
            d.table(_sign_rows(b[1], b[2]), list(SIGN_MM), heights_mm=list(SIGN_HEIGHTS_MM), spans=SIGN_SPANS)
    return d.to_bytes()


# -- 档案保密审查 summary (service.archive): the same blocks and PDF layout -----------------------------
ARCHIVE_TITLE = "档案保密审查汇总表"
ARCHIVE_ITEM_HEAD = ("序号", "档号", "题名 / 文件", "系统建议", "初审", "复核", "审核")
ARCHIVE_ITEM_MM = (9, 22, 38, 27, 25, 25, 26)
ARCHIVE_FINAL_HEAD = ("序号", "编号", "档号", "题名", "密级", "保密期限", "标记说明")
ARCHIVE_FINAL_MM = (9, 26, 22, 30, 11, 16, 58)
ARCHIVE_SIGN_HEAD = ("环节", "审查人（系统记录）", "签字", "日期")
ARCHIVE_SIGN_MM = (24, 48, 60, 40)


def archive_blocks(detail: dict, names: dict[str, str], generated: str) -> list[tuple]:
    """The archive batch summary (service.archive.batch_detail) as record blocks."""
    from .archive import ATTRIBUTE_ZH, STEP_ZH

    def op(d: dict) -> str:
        if not d:
            return "—"
        lv = f"（{d['level']}）" if d.get("level") else ""
        return f"{ATTRIBUTE_ZH.get(d.get('attribute', ''), '')}{lv} {d.get('access', '')}"
    items = detail["items_detail"]
    out: list[tuple] = [("title", ARCHIVE_TITLE), ("p", f"批次编号：{detail['id']}　生成时间：{generated}"),
                        ("kv", [("批次名称", detail["title"]), ("档案包", detail["filename"]),
                                ("目录", detail["catalogue"] or "（未提供）"), ("审查基准日", detail["as_of"]),
                                ("档案件数", str(len(items))), ("状态", detail["status_zh"])]),
                        ("h2", "一、逐件审查意见")]
    rows = []
    for n, it in enumerate(items, 1):
        sg = it["suggestion"]
        lv = f"（{sg['level']}）" if sg["level"] else ""
        rows.append((str(n), it["dh"], f"{it['title']}\n{it['path']}", f"{sg['attribute_zh']}{lv} {sg['access']}"
                     + (f"\n{sg['expiry_zh']}" if sg["expiry_zh"] else ""),
                     op(it["initial"]), op(it["recheck"]), op(it["final"])))
    out.append(("table", ARCHIVE_ITEM_HEAD, rows, ARCHIVE_ITEM_MM))
    out.append(("h2", "二、涉密档案清单（编号、标记）"))
    final = detail.get("final_list") or []
    if final:
        out.append(("table", ARCHIVE_FINAL_HEAD, [(str(f["no"]), f["number"], f["dh"], f["title"] or f["path"],
                                                   f["level"], f["period"], f["instruction"]) for f in final],
                    ARCHIVE_FINAL_MM))
    else:
        out.append(("p", "审核完成后列出。" if detail["status"] != "done" else "经审核，本批次无涉密档案。"))
    out.append(("h2", "三、审查环节与签字"))
    out.append(("table", ARCHIVE_SIGN_HEAD, [(STEP_ZH[k], "、".join(names.get(k) or []) or "—", "", "")
                                            for k in ("initial", "recheck", "final")], ARCHIVE_SIGN_MM))
    out.append(("small", "本汇总表由保密审查系统生成；系统建议仅供参考，以初审、复核、审核意见为准。"
                         "每项意见均记入审计记录（哈希链保护，可用 baomi audit verify 校验）。"))
    return out


def render_archive_pdf(detail: dict) -> bytes:
    return pdf_from_blocks(archive_blocks(detail, detail.get("people", {}),
                                          fmt_ts(dt.datetime.now().timestamp())), ARCHIVE_TITLE)
