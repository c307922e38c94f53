"""The register (审查登记表) as an xlsx workbook: sheet 登记表 (one row per item), 汇总 (counts, the
rules applied) and 目录未匹配 (catalogue rows without a file). Written with XlsxWriter (write-only,
no reader at run time). Cells that start with = + - @ are written as text, never as formulas."""
from __future__ import annotations

import io
import os
from collections import Counter
from dataclasses import dataclass, field

from .assess import Assessment
from .catalog import MATCH_ZH, Entry

COLUMNS = ("序号", "档号", "题名", "文件", "形成日期", "保管期限", "目录匹配", "建议保密属性", "密级", "保密期限",
           "成文日期", "日期来源", "保密期限届满日", "到期情况", "开放建议", "理由", "开放审核候选", "发现摘要", "扫描结论")
SUMMARY_SHEET = "汇总"
REGISTER_SHEET = "登记表"


@dataclass
class Row:
    path: str                     # relative to the input
    assessment: Assessment
    entry: Entry | None = None
    match: str = ""               # catalog.MATCH_ZH key
    extra: list = field(default_factory=list)   # values of write_register's extra_columns (the service's step opinions)

    def cells(self, n: int) -> list:
        a, e = self.assessment, self.entry
        from ..taxonomy import decision_zh
        return [n, e.get("档号") if e else "", e.get("题名") if e else "", self.path,
                e.get("形成日期") if e else "", e.get("保管期限") if e else "", MATCH_ZH.get(self.match, self.match),
                a.attribute_zh, a.level, a.period, a.text_date, a.date_source, a.expires, a.expiry_zh, a.access,
                "、".join(a.reasons) + ("：" if a.reasons else "") + "；".join(a.notes),
                "是" if a.opening_review else "", a.findings_zh(), decision_zh(a.decision), *self.extra]


@dataclass
class Totals:
    items: int = 0
    attribute: Counter = field(default_factory=Counter)
    access: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    levels: Counter = field(default_factory=Counter)
    expiry: Counter = field(default_factory=Counter)
    opening_review: int = 0
    matched: int = 0
    unmatched_catalog: int = 0
    errors: int = 0

    @classmethod
    def of(cls, rows: list[Row], unmatched: list[Entry]) -> Totals:
        t = cls(items=len(rows), unmatched_catalog=len(unmatched))
        for r in rows:
            a = r.assessment
            t.attribute[a.attribute_zh] += 1
            t.access[a.access] += 1
            t.reasons.update(a.reasons)
            if a.level:
                t.levels[a.level] += 1
            if a.expiry:
                t.expiry[a.expiry_zh] += 1
            t.opening_review += a.opening_review
            t.matched += r.entry is not None
            t.errors += bool(a.errors)
        return t

    def lines(self) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = [("档案件数", self.items), ("已关联目录", self.matched),
                                         ("目录中未找到文件的条目", self.unmatched_catalog), ("未能完整读取", self.errors),
                                         ("开放审核候选（形成满25年）", self.opening_review)]
        for title, c in (("建议保密属性", self.attribute), ("密级", self.levels), ("保密期限", self.expiry),
                         ("开放建议", self.access), ("理由", self.reasons)):
            out += [(f"{title}：{k}", v) for k, v in sorted(c.items())]
        return out


def _safe(v):
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
        return "'" + v
    return v


def write_register(path_or_buf, rows: list[Row], unmatched: list[Entry], meta: list[tuple[str, str]],
                   extra_columns: tuple[str, ...] = ()) -> Totals:
    """Write the workbook to a path or a binary buffer; returns the totals (the 汇总 sheet).
    extra_columns: headings after COLUMNS, filled from each row's `extra`."""
    import xlsxwriter
    totals = Totals.of(rows, unmatched)
    target = path_or_buf
    if isinstance(path_or_buf, (str, os.PathLike)):
        target = io.BytesIO()
    wb = xlsxwriter.Workbook(target, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                      "strings_to_numbers": False})
    head = wb.add_format({"bold": True, "bg_color": "#e8e8e8", "border": 1, "text_wrap": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
    red = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "font_color": "#b3261e", "bold": True})
    ws = wb.add_worksheet(REGISTER_SHEET)
    widths = (5, 16, 30, 28, 11, 9, 14, 16, 6, 12, 11, 12, 12, 18, 9, 48, 8, 30, 10) + (30,) * len(extra_columns)
    columns = COLUMNS + tuple(extra_columns)
    for i, (c, w) in enumerate(zip(columns, widths)):
        ws.write(0, i, c, head)
        ws.set_column(i, i, w)
    ws.freeze_panes(1, 0)
    for n, r in enumerate(rows, 1):
        fmt = red if r.assessment.attribute.startswith("secret") else wrap
        for i, v in enumerate(r.cells(n)):
            ws.write(n, i, _safe(v) if v is not None else "", fmt)
    ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
    ss = wb.add_worksheet(SUMMARY_SHEET)
    ss.set_column(0, 0, 40)
    ss.set_column(1, 1, 60)
    ss.write(0, 0, "档案保密审查汇总（机器初筛建议，须经初审、复核、审核确认）", head)
    rown = 1
    for k, v in meta:
        ss.write(rown, 0, k, wrap)
        ss.write(rown, 1, _safe(v), wrap)
        rown += 1
    rown += 1
    for k, v in totals.lines():
        ss.write(rown, 0, k, wrap)
        ss.write(rown, 1, v, wrap)
        rown += 1
    us = wb.add_worksheet("目录未匹配")
    for i, c in enumerate(("目录行", "档号", "题名", "形成日期", "保管期限")):
        us.write(0, i, c, head)
    for n, e in enumerate(unmatched, 1):
        for i, v in enumerate((e.row, e.get("档号"), e.get("题名"), e.get("形成日期"), e.get("保管期限"))):
            us.write(n, i, _safe(v), wrap)
    wb.close()
    if target is not path_or_buf:
        data = target.getvalue()
        tmp = str(path_or_buf) + ".part"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path_or_buf)
    return totals
