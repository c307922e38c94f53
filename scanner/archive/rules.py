"""lexicons/archive.toml as typed data: the statutory figures, the period forms, the date patterns
and the finding -> reason table; parsing of a mark's text (level and period, with the marking
detector's own pieces from lexicons/rules/marking.toml) and of 成文日期 in a text."""
from __future__ import annotations

import calendar
import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex as re

from ..errors import ConfigError
from ..rules import Ruleset
from ..taxonomy import SEVERITY_RANK

ACCESS = ("开放", "控制使用", "不开放")          # ascending strictness
ACCESS_RANK = {a: i for i, a in enumerate(ACCESS)}
REASONS = ("国家秘密", "商业秘密", "个人隐私", "工作秘密")
KINDS = ("years", "months", "long", "until_use", "date", "condition", "default")

_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}


def cn_number(s: str) -> int:
    """12, 十, 十二, 二十, 二〇一九 (digit by digit) -> int."""
    if s.isdigit():
        return int(s)
    if "十" not in s:
        n = 0
        for ch in s:
            n = n * 10 + _CN_DIGITS[ch]
        return n
    head, _, tail = s.partition("十")
    return (_CN_DIGITS[head] if head else 1) * 10 + (_CN_DIGITS[tail] if tail else 0)


def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Reason:
    categories: tuple[str, ...]
    min_severity: str
    reason: str
    access: str
    note: str
    secret: bool = False

    def matches(self, category: str, severity: str) -> bool:
        ok = any(category == c or (c.endswith(".") and category.startswith(c)) for c in self.categories)
        return ok and SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK[self.min_severity]


@dataclass(frozen=True)
class Period:
    """A mark parsed: level, period kind, months (years and months, and the statutory default) or
    the date it ends (kind date), the condition's text, and whether the default was applied."""
    level: str
    kind: str
    months: int | None = None
    until: dt.date | None = None
    text: str = ""          # the period as written (5年, 长期, 解密条件：…)

    @property
    def label(self) -> str:
        if self.kind == "default":
            return f"未标明（按{self.months // 12}年）" if self.months else "未标明"
        return {"long": "长期", "until_use": "启用前"}.get(self.kind, self.text)


@dataclass(frozen=True)
class ArchiveRules:
    default_years: dict[str, int]
    default_basis: str
    max_basis: str
    opening_age_years: int
    opening_basis: str
    period_forms: tuple[tuple[str, re.Pattern], ...]
    date_labels: tuple[str, ...]
    date_pattern: re.Pattern
    reasons: tuple[Reason, ...]
    levels: tuple[str, ...]
    stars: str
    examples: dict
    number_format: str = "{batch}-{no:03d}"
    instruction_format: str = ""

    def marking_instruction(self, no: int, batch: str, level: str, period: str, dh: str = "") -> tuple[str, str]:
        """(编号, 标记 instruction) of the no-th item of the final list of 涉密 items."""
        number = self.number_format.format(batch=batch, no=no, dh=dh)
        return number, self.instruction_format.format(number=number, level=level, period=period, dh=dh, no=no,
                                                      batch=batch)

    # -- marks ---------------------------------------------------------------------------------
    def parse_mark(self, text: str) -> Period | None:
        """秘密★5年 -> Period(秘密, years, 60); a level without a period gets the statutory default."""
        t = "".join(text.split())
        level = next((lv for lv in sorted(self.levels, key=len, reverse=True) if lv in t), None)
        if level is None:
            return None
        rest = t[t.index(level) + len(level):].lstrip("级")
        star = next((i for i, ch in enumerate(rest) if ch in self.stars), None)
        period = rest[star + 1:] if star is not None else rest
        period = period.strip("】）)」』〕]")
        if not period:
            years = self.default_years.get(level)
            return Period(level, "default", months=years * 12 if years else None)
        for kind, pat in self.period_forms:
            m = pat.match(period)
            if m is None:
                continue
            g = m.groupdict()
            if kind in ("years", "months"):
                n = cn_number(g["n"])
                return Period(level, kind, months=n * 12 if kind == "years" else n, text=period)
            if kind == "date":
                try:
                    until = dt.date(cn_number(g["y"]), cn_number(g["m"]), cn_number(g["d"]))
                except ValueError:
                    return Period(level, "condition", text=period)
                return Period(level, "date", until=until, text=period)
            return Period(level, kind, text=period)
        return Period(level, "condition", text=period)      # unknown wording: to be checked by a person

    def expiry(self, p: Period, made: dt.date | None) -> dt.date | None:
        """The day the period runs out, when it can be computed."""
        if p.kind == "date":
            return p.until
        if p.months is not None and made is not None:
            return add_months(made, p.months)
        return None

    # -- dates in a text -----------------------------------------------------------------------
    def _date(self, m) -> dt.date | None:
        g = m.groupdict()
        y, mo, d = (g["y"], g["m"], g["d"]) if g.get("y") else (g["y2"], g["m2"], g["d2"])
        try:
            return dt.date(cn_number(y), cn_number(mo), cn_number(d))
        except (ValueError, KeyError):
            return None

    def find_date(self, text: str) -> tuple[dt.date | None, str]:
        """(成文日期, how found): a labelled date, else the last date in the text."""
        last = None
        for m in self.date_pattern.finditer(text):
            d = self._date(m)
            if d is None:
                continue
            before = text[max(0, m.start() - 8):m.start()]
            if "解密" in before:
                continue               # 解密时间：… is the mark's period, not the document's date
            if any(lab in before for lab in self.date_labels if lab != "日期") or \
                    before.rstrip(" :：").endswith("日期"):
                return d, "正文标注的日期"
            last = d
        return (last, "正文落款日期") if last else (None, "")


def _compile(pattern: str, file: str, field: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"bad regular expression: {exc}", file=file, field=field) from None


@lru_cache(maxsize=4)
def load_rules(lexicon_dir: Path) -> ArchiveRules:
    file = "archive.toml"
    path = Path(lexicon_dir) / file
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=file) from None
    marking = Ruleset.load(Path(lexicon_dir)).marking
    if marking is None:
        raise ConfigError("the archive review needs the marking rules", file="rules/marking.toml")
    try:
        law = doc["law"]
        forms = []
        for i, f in enumerate(doc["period_forms"]):
            if f["kind"] not in KINDS:
                raise ConfigError(f"unknown kind {f['kind']!r}", file=file, field=f"period_forms[{i}].kind")
            forms.append((f["kind"], _compile(f["pattern"], file, f"period_forms[{i}].pattern")))
        reasons = []
        for i, r in enumerate(doc["reasons"]):
            if r["reason"] not in REASONS or r["access"] not in ACCESS or r["min_severity"] not in SEVERITY_RANK:
                raise ConfigError("reason, access or min_severity not in the vocabulary", file=file,
                                  field=f"reasons[{i}]")
            reasons.append(Reason(tuple(r["categories"]), r["min_severity"], r["reason"], r["access"],
                                  r.get("note", ""), bool(r.get("secret", False))))
        return ArchiveRules(
            default_years={k: int(v) for k, v in law["default_years"].items()},
            default_basis=law["default_basis"], max_basis=law["max_basis"],
            opening_age_years=int(law["opening_age_years"]), opening_basis=law["opening_basis"],
            period_forms=tuple(forms), date_labels=tuple(doc["dates"]["labels"]),
            date_pattern=_compile(doc["dates"]["pattern"], file, "dates.pattern"),
            reasons=tuple(reasons), levels=tuple(marking.marking.levels),
            stars="".join(marking.marking.stars), examples=doc.get("examples", {}),
            number_format=doc["marking"]["number"], instruction_format=doc["marking"]["instruction"])
    except KeyError as exc:
        raise ConfigError(f"missing key {exc}", file=file) from None
