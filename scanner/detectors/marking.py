"""国家秘密标志 (marking.level / marking.field) and restriction marks (marking.internal).

Patterns come from lexicons/rules/marking.toml and run on the compact normalised text, so
"秘 密 ★ １ 年" and "機密★十年" match; the finding maps back to the exact original characters.
Position decides between a marking and a mention. The patterns are assembled from pieces that
admins edit, so they run with the rules' time limit; a segment that runs out of time is skipped
and the report gets an error (at least review).
"""
from __future__ import annotations

from dataclasses import replace

import regex as re

from ..config import ScanConfig
from ..model import Finding, Segment
from ..normalize import NormalizedText
from ..policy import Policy
from ..rules import MarkingFile, MarkingMessage, Ruleset
from .base import Detector, ScanContext, make_finding

DEFAULT_TIMEOUT_S = 1.0

POSITION_NAMES = {"header": "页眉", "footer": "页脚", "first": "文首", "standalone": "单独一行",
                  "table": "表格", "hidden": "隐藏内容"}
QUOTES = set("“‘\"'「『《〈(（[【如")
TRAILING_PUNCT = set("。.，,；;：:、!！)）】」』\"'“”")


class MarkingDetector(Detector):
    name = "marking"

    def __init__(self, cfg: MarkingFile, timeout_s: float = DEFAULT_TIMEOUT_S):
        m = cfg.marking
        self.messages = cfg.messages
        self.timeout = timeout_s
        levels = "|".join(map(re.escape, m.levels))
        stars = "[" + "".join(re.escape(s) for s in m.stars) + "]"
        period = m.period.replace("{number}", m.number)
        not_after = "".join(f"(?<!{re.escape(w)})" for w in m.not_after)
        self.first_lines = m.first_lines
        self.levels = set(m.levels)
        # level + star (+ period): the GB/T 9704 form
        self.strong = re.compile(rf"{not_after}(?:{levels})级?{stars}(?:{period})?")
        # 密级：机密 (a form field written inline); 原密级 (a declassified list) is history, not a mark
        self.field = re.compile(rf"(?<!原)密级[:：]?((?:{levels})级?(?:{stars}(?:{period})?)?)(?![、和或及与/])")
        # 密级为机密 / 密级是机密: only in a short form line, not in running text (…最高密级为绝密级)
        self.field_verb = re.compile(rf"(?<!原)密级(?:为|是)((?:{levels})(?:{stars}(?:{period})?)?)(?![级、和或及与/])")
        # a line that is nothing but a level (机密 / 机密级), for first lines, headers and table fields
        # (also with the star dropped or moved: 绝密·长期 compacts to 绝密长期; ★秘密)
        self.bare = re.compile(rf"^{stars}?(?:{levels})级?{stars}?(?:{period})?$")
        internal = sorted(m.internal, key=len, reverse=True)
        companions = "|".join(map(re.escape, m.internal_companions))
        self.internal_line = re.compile(
            rf"^(?:(?:{'|'.join(map(re.escape, internal))})(?:{stars}(?:{period})?)?[，,、]?)+"
            rf"(?:{companions})?[。.]?$")
        self.internal_star = re.compile(rf"内部{stars}(?:{period})?")

    # -- helpers -------------------------------------------------------------------------------
    def _position(self, seg: Segment, ctx: ScanContext, standalone: bool) -> str | None:
        if seg.layer in ("header", "footer"):
            return seg.layer
        if seg.layer in ("body", "table") and ctx.ordinal.get(seg.id, 99) < self.first_lines:
            return "first"
        if seg.layer == "ocr" and int(seg.locator.get("line", 99)) - 1 < self.first_lines:
            return "first"          # the first lines of a scanned page or a picture of one
        if standalone:
            return "standalone"
        return None

    @staticmethod
    def _strip(s: str) -> str:
        while s and s[-1] in TRAILING_PUNCT:
            s = s[:-1]
        while s and s[0] in TRAILING_PUNCT:
            s = s[1:]
        return s

    def _table_field(self, seg: Segment, ctx: ScanContext) -> bool:
        loc = seg.locator
        if "table" not in loc:
            return False
        for other in ctx.document.segments:
            ol = other.locator
            if ol.get("table") != loc.get("table") or ol.get("part") != loc.get("part"):
                continue
            left = ol.get("row") == loc.get("row") and ol.get("col") == loc.get("col", 0) - 1
            above = ol.get("col") == loc.get("col") and ol.get("row") == loc.get("row", 0) - 1
            if (left or above) and "密级" in "".join(other.text.split()):
                return True
        return False

    def _messages(self, key: str) -> MarkingMessage:
        return getattr(self.messages, key.split(".")[1])

    def _msg(self, key: str, field: str, **kw) -> str:
        return getattr(self._messages(key), field).format(**kw)

    # -- detection -----------------------------------------------------------------------------
    @classmethod
    def build(cls, config: ScanConfig, ruleset: Ruleset, policy: Policy) -> MarkingDetector | None:
        if ruleset.marking is None:
            return None
        return cls(ruleset.marking, config.regex_timeout_s)

    def detect(self, ctx: ScanContext) -> list[Finding]:
        out: list[Finding] = []
        for seg, norm in ctx.views():
            try:
                out.extend(self.detect_segment(seg, norm, ctx))
            except TimeoutError:
                ctx.rule_timed_out(self.name, "marking", seg.id)
        return out

    def detect_segment(self, seg: Segment, norm: NormalizedText, ctx: ScanContext) -> list[Finding]:
        t_out = self.timeout
        nt = norm.text
        if "密" not in nt and "内" not in nt and "存" not in nt and "发" not in nt:
            return []
        comp = norm.compact()
        t = comp.text
        if not t:
            return []
        has_level = any(lv in t for lv in self.levels)
        has_internal = "内部" in t or "注意保存" in t or "限国内发行" in t
        if not has_level and not has_internal:
            return []
        out: list[Finding] = []
        line = self._strip(t)
        standalone_line = bool(line) and (self.bare.match(line, timeout=t_out) is not None)
        taken: list[tuple[int, int]] = []

        def add(i, j, category, severity, conf, key, field_, evidence, **kw):
            f = make_finding(seg, comp, i, j, category=category, rule_id=f"{category}.v1", severity=severity,
                             confidence=conf, explanation="", suggestion=self._messages(key).suggestion,
                             evidence=evidence)
            out.append(replace(f, explanation=self._msg(key, field_, text="".join(f.text.split()), **kw)))
            taken.append((i, j))

        if has_level:
            # 1. 密级 field (inline form or table cell next to a 密级 label)
            declassified = any(w in t for w in ("已解密", "解除密级", "已解除", "解密后"))
            field_hits = list(self.field.finditer(t, timeout=t_out))
            if len(t) <= 20 or seg.layer == "table":
                field_hits += list(self.field_verb.finditer(t, timeout=t_out))
            for m in field_hits:
                i, j = m.span(1)
                if declassified:
                    add(i, j, "marking.field", "low", 0.6, "marking.field", "explanation",
                        ["pattern:field", "context:declassified"])
                elif len(t) > 40 and m.group(1).endswith("级"):
                    continue      # 密级：绝密级 inside a long sentence is a description
                else:
                    add(i, j, "marking.field", "critical", 0.95, "marking.field", "explanation", ["pattern:field"])
            if seg.layer == "table" and standalone_line and self._table_field(seg, ctx):
                i = t.find(line)
                if not any(a <= i < b for a, b in taken):
                    add(i, i + len(line), "marking.field", "critical", 0.95, "marking.field", "explanation",
                        ["position:table-field"])
            # 2. level + star
            for m in self.strong.finditer(t, timeout=t_out):
                i, j = m.span()
                if any(a <= i < b for a, b in taken):
                    continue
                standalone = self._strip(t.replace(m.group(0), "", 1)) == "" or len(self._strip(t)) <= len(m.group(0)) + 2
                pos = self._position(seg, ctx, standalone)
                quoted = i > 0 and t[i - 1] in QUOTES
                at_edge = i <= 2 or j >= len(t) - 2
                if pos == "first" and not standalone and not at_edge and len(t) > 40:
                    pos = None      # inside a long sentence near the top: running text, not the mark position
                if quoted and pos in (None, "first"):
                    # quoted inside running text: an example of the format (GB/T 9704 teaching material)
                    add(i, j, "marking.level", "low", 0.6, "marking.level", "explanation_inline",
                        ["position:inline", "form:star", "quoted"])
                    continue
                if pos is None and seg.layer not in ("body", "table", "ocr"):
                    pos = "hidden"   # a marking left in a hidden layer is still a marking
                if pos is not None:
                    add(i, j, "marking.level", "critical", 0.97, "marking.level", "explanation",
                        [f"position:{pos}", "form:star"], position=POSITION_NAMES.get(pos, pos))
                else:
                    add(i, j, "marking.level", "high", 0.7, "marking.level", "explanation_inline",
                        ["position:inline", "form:star"])
            # 3. a bare level alone on a line at the marking position
            if standalone_line and not out:
                pos = self._position(seg, ctx, False)
                if pos is not None:
                    i = t.find(line)
                    add(i, i + len(line), "marking.level", "critical", 0.85, "marking.level", "explanation",
                        [f"position:{pos}", "form:bare"], position=POSITION_NAMES.get(pos, pos))
        if has_internal:
            if line and self.internal_line.match(line, timeout=t_out):
                pos = self._position(seg, ctx, True) or "standalone"
                i = t.find(line)
                add(i, i + len(line), "marking.internal", "high", 0.9, "marking.internal", "explanation",
                    [f"position:{pos}"], position=POSITION_NAMES.get(pos, pos))
            else:
                for m in self.internal_star.finditer(t, timeout=t_out):
                    pos = self._position(seg, ctx, False) or "standalone"
                    add(m.start(), m.end(), "marking.internal", "high", 0.85, "marking.internal", "explanation",
                        ["form:star"], position=POSITION_NAMES.get(pos, "正文"))
        return out
