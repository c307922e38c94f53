"""One archive item's suggestion, from its scan report (and its catalogue row): 保密属性 (涉密 with
the level / 非涉密), 开放建议 (开放 / 控制使用 / 不开放) with the reasons (国家秘密, 商业秘密, 个人隐私,
工作秘密), the 保密期限 reasoning (mark period + 成文日期 or 形成日期 -> expired or not, both dates listed),
and whether it is an 开放审核 candidate (older than the 档案法 opening age). Fail closed: an item that
could not be read completely is 待人工确定 and 控制使用."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass, field

from ..taxonomy import SEVERITY_RANK, TAXONOMY
from .rules import ACCESS_RANK, ArchiveRules, Period

LEVEL_RANK = {"秘密": 1, "机密": 2, "绝密": 3}
# stable codes for programs (the service stores them), Chinese for people (the register)
ATTRIBUTE_ZH = {"secret": "涉密", "secret_expired": "涉密（自行解密候选，待确认）", "non_secret": "非涉密",
                "unknown": "待人工确定"}
EXPIRY_ZH = {"expired": "已到期（自行解密候选，待确认）", "running": "未到期", "long": "长期（不自行解密）",
             "check": "需核实解密条件", "no_date": "无法判断：缺少成文日期", "": ""}


@dataclass
class Assessment:
    attribute: str = "non_secret"          # ATTRIBUTE_ZH key
    level: str = ""                        # 绝密 / 机密 / 秘密 (涉密 items)
    access: str = "开放"                    # 开放 / 控制使用 / 不开放
    reasons: list[str] = field(default_factory=list)     # 国家秘密, 商业秘密, 个人隐私, 工作秘密
    notes: list[str] = field(default_factory=list)       # 理由 in words
    period: str = ""                       # 保密期限 as written or the default applied
    period_basis: str = ""
    doc_date: str = ""                     # 成文日期 / 形成日期 used (ISO)
    date_source: str = ""                  # where it came from
    text_date: str = ""                    # the date found in the text (ISO), listed beside the catalogue's
    expires: str = ""                      # the day the period runs out (ISO)
    expiry: str = ""                       # EXPIRY_ZH key
    age_years: int | None = None
    opening_review: bool = False           # older than the opening age: 开放审核候选
    findings: dict[str, int] = field(default_factory=dict)  # category -> count
    decision: str = ""
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def attribute_zh(self) -> str:
        return ATTRIBUTE_ZH.get(self.attribute, self.attribute)

    @property
    def expiry_zh(self) -> str:
        return EXPIRY_ZH.get(self.expiry, self.expiry)

    def findings_zh(self) -> str:
        return "；".join(f"{TAXONOMY.category_zh(c)} {n}" for c, n in self.findings.items())


def years_between(a: dt.date, b: dt.date) -> int:
    return b.year - a.year - ((b.month, b.day) < (a.month, a.day))


def assess(rules: ArchiveRules, record: dict, as_of: dt.date, catalog_date: dt.date | None = None) -> Assessment:
    """The suggestion for one scanned item. record: the scan report's JSON (scanner.model.Report),
    with `archive.text_date` (成文日期 found in the text, ISO) where the archive run added it."""
    a = Assessment(decision=record.get("decision", "review"))
    findings = [f for f in record.get("findings", []) if not f.get("allowlisted")]
    a.findings = dict(Counter(f.get("category", "?") for f in findings))
    a.errors = sorted({e.get("code", "?") for e in record.get("errors", [])})
    marks: list[Period] = []
    for f in sorted(findings, key=lambda f: -SEVERITY_RANK.get(f.get("severity", ""), 0)):
        cat, sev = f.get("category", ""), f.get("severity", "low")
        rule = next((r for r in rules.reasons if r.matches(cat, sev)), None)
        if rule is None:
            continue
        if ACCESS_RANK[rule.access] > ACCESS_RANK[a.access]:
            a.access = rule.access
        if rule.reason not in a.reasons:
            a.reasons.append(rule.reason)
        if rule.note and rule.note not in a.notes:
            a.notes.append(rule.note)
        if rule.secret:
            p = rules.parse_mark(f.get("text", ""))
            if p is not None:
                marks.append(p)
    # the date: the catalogue's 形成日期 first (the archive's own record), else the text's 成文日期
    text_date = (record.get("archive") or {}).get("text_date") or ""
    a.text_date = text_date
    made = catalog_date or (dt.date.fromisoformat(text_date) if text_date else None)
    if made is not None:
        a.doc_date = made.isoformat()
        a.date_source = "目录形成日期" if catalog_date else (record.get("archive") or {}).get("date_source") or "正文日期"
        a.age_years = years_between(made, as_of)
        if a.age_years >= rules.opening_age_years:
            a.opening_review = True
            a.notes.append(f"形成已满{rules.opening_age_years}年，列为开放审核候选（{rules.opening_basis}）")
    if marks:
        # the strictest mark decides (highest level, then the longest period)
        def key(p: Period):
            end = rules.expiry(p, made)
            return (LEVEL_RANK.get(p.level, 0), p.kind == "long", end or dt.date.max)
        p = max(marks, key=key)
        a.level, a.period = p.level, p.label
        a.attribute = "secret"
        if p.kind == "default":
            a.period_basis = rules.default_basis
        end = rules.expiry(p, made)
        if p.kind == "long":
            a.expiry = "long"
        elif p.kind in ("condition", "until_use"):
            a.expiry = "check"
            a.notes.append(f"保密期限为“{p.text}”，需核实解密条件是否已成就")
        elif end is None:
            a.expiry = "no_date"
            a.notes.append("未找到成文日期或形成日期，无法计算保密期限")
        else:
            a.expires = end.isoformat()
            if end <= as_of:
                a.expiry = "expired"
                a.attribute = "secret_expired"
                a.access = "控制使用"
                a.notes.append(f"保密期限（{p.label}，自{a.doc_date}起）已于{a.expires}届满，属自行解密候选，"
                               "须经审核确认后方可按非涉密处理")
            else:
                a.expiry = "running"
    if a.errors:      # fail closed
        if a.attribute == "non_secret":
            a.attribute = "unknown"
        if ACCESS_RANK[a.access] < ACCESS_RANK["控制使用"]:
            a.access = "控制使用"
        a.notes.append("文件未能完整读取，需人工审查")
    if not a.notes:
        a.notes.append("未发现涉密或敏感内容")
    return a

