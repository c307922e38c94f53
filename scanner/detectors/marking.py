"""国家秘密标志 (marking.level / marking.field), restriction marks (marking.internal), 工作秘密 and
商业秘密 marks (marking.work, marking.commercial) and 政府信息公开属性 (marking.disclosure).

Patterns come from lexicons/rules/marking.toml and run on the compact normalised text, so
"秘 密 ★ １ 年" and "機密★十年" match; the finding maps back to the exact original characters.
Position decides between a marking and a mention: a mark in the marking position (first lines,
header/footer, a standalone line, a 密级 field) is a mark, bracketed (【秘密★5年】, 〔机密〕) or not;
in running text, quoted, or in a table of a GB/T 9704 teaching text it is an example. A mark in a
document that notes its declassification (已解密, 解密日期) goes to review with that said, not block.
The patterns are assembled from pieces that admins edit, so they run with the rules' time limit; a
segment that runs out of time is skipped and the report gets an error (at least review).
"""
from __future__ import annotations

from dataclasses import replace

import regex as re

from ..config import ScanConfig
from ..model import Finding, Segment
from ..normalize import FILLER, NormalizedText
from ..policy import Policy
from ..rules import MarkingFile, MarkingMessage, Ruleset
from .base import Detector, ScanContext, make_finding

DEFAULT_TIMEOUT_S = 1.0

POSITION_NAMES = {"header": "页眉", "footer": "页脚", "first": "文首", "standalone": "单独一行",
                  "table": "表格", "hidden": "隐藏内容", "watermark": "水印", "last": "文末",
                  "repeated": "多处重复的单独一行", "label": "文档属性（敏感度标签）",
                  "undisplayed_header": "文件中保留但不显示的页眉", "undisplayed_footer": "文件中保留但不显示的页脚",
                  "master": "幻灯片母版或版式（使用它的每张幻灯片上都显示）",
                  "undisplayed_master": "文件中保留、但没有可见幻灯片使用的母版或版式"}
# around an English label on its line: brackets, quotes, asterisks, end punctuation ((Confidential), *CONFIDENTIAL*)
EN_STRIP = " \t\u3000()[]{}<>（）【】〔〕「」『』*_#~=\"'“”‘’.。,，;；:：!！-–—|"
# a page number after a label in a footer (Confidential | Page 3 of 10)
EN_PAGE = r"(?:\s*[-–—|,:/]?\s*(?i:page)?\s*\d{1,4}(?:\s*(?i:of|/)\s*\d{1,4})?)?"
QUOTES = set("“‘\"'「『《〈(（[【如")
TRAILING_PUNCT = set("。.，,；;：:、!！)）】」』\"'“”")
# a header/footer line's pieces are aligned by runs of spaces or a tab (dashes around a piece are
# fillers, left out of the compacted text: -内部资料，注意保密-)
HEADER_GAP = re.compile(r"\t|[ \u3000\u00a0]{3,}")
SEVERITY_CONF = {"medium": 0.85, "low": 0.6}


MASTER_KINDS = {"slide_master", "slide_layout"}
UNUSED_MASTER_KINDS = {"unused_master", "unused_layout"}


def story(seg: Segment) -> str | None:
    """"header"/"footer" for the text of a header or footer story, displayed or not (a Word part no
    section shows is read into the hidden layer with locator story=header/footer:
    scanner.extract.docx); "master" for the text of a slide master's or layout's shapes, shown on
    the slides that use it (body) or on none (hidden: scanner.extract.pptx). A mark there is in the
    marking position all the same."""
    if seg.layer in ("header", "footer"):
        return seg.layer
    kind = seg.locator.get("kind")
    if seg.layer == "body":
        return "master" if kind in MASTER_KINDS else None
    if seg.layer != "hidden":
        return None
    if kind in UNUSED_MASTER_KINDS:
        return "master"
    st = seg.locator.get("story")
    return st if st in ("header", "footer") else None


def position_name(seg: Segment, pos: str) -> str:
    """What the explanation calls a position; an undisplayed header/footer says so."""
    st = story(seg)
    if st is not None and pos == st and seg.layer == "hidden":
        return POSITION_NAMES[f"undisplayed_{st}"]
    return POSITION_NAMES.get(pos, pos)


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
        # brackets around a mark (【秘密★5年】): stripped from a line's ends like punctuation
        pairs = m.brackets
        self.closer = {b[0]: b[1] for b in pairs}
        self.strip_chars = TRAILING_PUNCT | {b[0] for b in pairs} | {b[1] for b in pairs}
        self.title_pairs = {(b[0], b[1]) for b in m.title_brackets}
        self.teaching = list(m.teaching)
        self.example_headers = list(m.example_headers)
        self.declassified = list(m.declassified)
        self.not_declassified = list(m.not_declassified)
        # 工作秘密 / 商业秘密 marks: a line that is only the mark (+ star and period), the star form,
        # a 密级 field value
        self.label_line: dict[str, re.Pattern] = {}
        self.label_star: dict[str, re.Pattern] = {}
        self.label_inline: dict[str, list[str]] = {}
        values: dict[str, str] = {}
        for name in ("work", "commercial"):
            spec = getattr(cfg.labels, name)
            if spec is None:
                continue
            cat = f"marking.{name}"
            marks = "|".join(map(re.escape, sorted(spec.marks, key=len, reverse=True)))
            self.label_line[cat] = re.compile(rf"^(?:{marks})(?:{stars}(?:{period})?)?$")
            self.label_star[cat] = re.compile(rf"(?:{marks}){stars}(?:{period})?")
            self.label_inline[cat] = list(spec.inline_marks)
            for v in spec.field_values:
                values[v] = cat
        self.label_values = values
        alt = "|".join(map(re.escape, sorted(values, key=len, reverse=True)))
        self.label_field = re.compile(rf"(?<!原)密级[:：]?((?:{alt})(?:{stars}(?:{period})?)?)(?![资文刊参发使传料])") \
            if values else None
        # English confidentiality labels (Micron Confidential, Internal Use Only): a whole line
        e = cfg.english
        self.en_line: re.Pattern | None = None
        self.en_names: re.Pattern | None = None
        self.en_max = e.max_chars
        self.en_last = e.last_lines
        if e.confidential or e.internal:
            def alt(words):
                return "|".join(r"\s*".join(map(re.escape, w.split())) for w in sorted(words, key=len, reverse=True)) \
                    or "(?!)"
            org = (rf"(?:(?:[A-Z][A-Za-z0-9&.'’-]*|[\u4e00-\u9fff]{{2,16}})"
                   rf"(?:,?\s+[A-Z][A-Za-z0-9&.'’-]*){{0,{max(0, e.org_words - 1)}}},?\s*)?") if e.org_words else ""
            tails = rf"(?:\s*[-–—|:,/]\s*(?i:{alt(e.tails)}))*" if e.tails else ""
            self.en_line = re.compile(rf"^{org}(?i:(?P<conf>{alt(e.confidential)})|(?P<int>{alt(e.internal)})){tails}{EN_PAGE}$")
            self.en_names = re.compile(rf"^(?i:{alt(e.label_names)})$") if e.label_names else None
        self.en_props = [re.compile(p) for p in e.label_properties]
        # 政府信息公开属性
        d = cfg.disclosure
        self.disc_values = dict(d.values)
        self.disc_lines = dict(d.lines)
        self.disc_inline = list(d.inline)
        fields = "|".join(map(re.escape, sorted(d.fields, key=len, reverse=True)))
        vals = "|".join(map(re.escape, sorted(self.disc_values, key=len, reverse=True)))
        self.disc_field = re.compile(rf"(?:{fields})[:：]?((?:{vals}))") if fields and vals else None

    # -- helpers -------------------------------------------------------------------------------
    def _position(self, seg: Segment, ctx: ScanContext, standalone: bool) -> str | None:
        st = story(seg)
        if st is not None:
            return st
        if seg.layer == "ocr" and seg.locator.get("pass") == "faint":
            return "watermark"      # read from a picture's faint layer (scanner.extract.ocr): a mark printed across it
        if seg.layer in ("body", "table") and ctx.ordinal.get(seg.id, 99) < self.first_lines:
            return "first"
        if seg.layer == "ocr" and int(seg.locator.get("line", 99)) - 1 < self.first_lines:
            return "first"          # the first lines of a scanned page or a picture of one
        if standalone:
            return "standalone"
        return None

    def _header_piece(self, text: str, t: str) -> tuple[int, int] | None:
        """[i, j) in the compacted text t of a restriction mark that is one of the pieces a header or
        footer line aligns with runs of spaces or tabs (-内部资料，注意保密-      第 1 页 共 3 页;
        公司名称\t内部使用)."""
        if HEADER_GAP.search(text) is None:
            return None
        k = 0
        for piece in HEADER_GAP.split(text):
            c = "".join(ch for ch in piece if ch not in FILLER)      # as compact() keeps it
            if not c:
                continue
            at = t.find(c, k)
            if at < 0:
                return None
            k = at + len(c)
            line = self._strip(c)
            if line and self.internal_line.match(line, timeout=self.timeout):
                i = t.find(line, at)
                return i, i + len(line)
        return None

    def _strip(self, s: str) -> str:
        """The line without punctuation and brackets at its ends (【秘密★5年】 -> 秘密★5年)."""
        chars = self.strip_chars
        while s and s[-1] in chars:
            s = s[:-1]
        while s and s[0] in chars:
            s = s[1:]
        return s

    def _decorated(self, t: str, i: int, j: int) -> bool:
        """A mark at the start of its line in brackets (【秘密★6个月】关于……): a decoration, not a quote."""
        k = i - 1
        return k >= 0 and t[k] in self.closer and not t[:k].strip(" ") and j < len(t) and t[j] == self.closer[t[k]]

    def _title(self, t: str) -> bool:
        """The whole line is a book title (《秘密》)."""
        s = t.strip("".join(TRAILING_PUNCT - set("》〉")))
        return len(s) >= 2 and (s[0], s[-1]) in self.title_pairs

    # -- document-level facts (once per scan) ----------------------------------------------------
    def _doc(self, ctx: ScanContext) -> dict:
        facts = ctx.memo.get("marking")
        if facts is None:
            visible = [s for s in ctx.document.segments if s.layer in ("body", "table", "header", "footer")]
            text = "".join("".join(ctx.normalized[s.id].text.split()) for s in visible) \
                if ctx.normalized else "".join("".join(s.text.split()) for s in visible)
            teaching = any("".join(w.split()) in text for w in self.teaching)
            note = None
            for w in self.declassified:
                i = text.find(w)
                while i != -1:
                    if not any(text[max(0, i - len(n)):i] == n for n in self.not_declassified):
                        note = w
                        break
                    i = text.find(w, i + 1)
                if note:
                    break
            headers = {}
            for s in ctx.document.segments:
                loc = s.locator
                if "table" in loc and loc.get("row") == 0:
                    headers[(loc.get("table"), loc.get("part"), loc.get("col"))] = s.text
            facts = ctx.memo["marking"] = {"teaching": teaching, "declassified": note, "headers": headers}
        return facts

    def _example_cell(self, seg: Segment, ctx: ScanContext) -> bool:
        """A table cell of GB/T 9704 teaching material, or under a 示例 column header."""
        if "table" not in seg.locator:
            return False
        doc = self._doc(ctx)
        if doc["teaching"]:
            return True
        loc = seg.locator
        head = doc["headers"].get((loc.get("table"), loc.get("part"), loc.get("col")), "")
        return loc.get("row", 0) > 0 and any(h in head for h in self.example_headers)

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

    # -- English labels ------------------------------------------------------------------------
    def _english_position(self, seg: Segment, ctx: ScanContext, line: str) -> str | None:
        """Where an English label line counts: header/footer, a faint picture layer, the first or last
        lines of the body (not table cells: a classification table lists the labels), the first lines
        of a scanned page, or a body line the document repeats (a footer typed on every slide)."""
        st = story(seg)
        if st is not None:
            return st
        if seg.layer == "metadata":
            return "label" if self._label_property(seg) else None
        if seg.layer == "ocr":
            if seg.locator.get("pass") == "faint":
                return "watermark"
            return "first" if int(seg.locator.get("line", 99)) - 1 < self.first_lines else None
        if seg.layer != "body" or seg.locator.get("kind") == "alt_text":
            return None
        facts = ctx.memo.get("marking.english")
        if facts is None:
            lines: dict[str, int] = {}
            count = 0
            for s in ctx.document.segments:
                if s.layer != "body":
                    continue
                count += 1
                t = (ctx.normalized[s.id].text if s.id in ctx.normalized else s.text).strip(EN_STRIP).casefold()
                if t and len(t) <= self.en_max:
                    lines[t] = lines.get(t, 0) + 1
            facts = ctx.memo["marking.english"] = {"count": count, "lines": lines}
        k = ctx.ordinal.get(seg.id, 99)
        if k < self.first_lines:
            return "first"
        if k >= facts["count"] - self.en_last:
            return "last"
        if facts["lines"].get(line.casefold(), 0) >= 2:
            return "repeated"
        return None

    def _label_property(self, seg: Segment) -> bool:
        name = str(seg.locator.get("name", ""))
        return bool(name) and any(p.search(name) for p in self.en_props)

    def _english(self, seg: Segment, norm: NormalizedText, ctx: ScanContext) -> list[Finding]:
        if self.en_line is None or seg.layer == "metadata" and not self._label_property(seg):
            return []
        t = norm.text
        i, j = 0, len(t)
        while i < j and t[i] in EN_STRIP:
            i += 1
        while j > i and t[j - 1] in EN_STRIP:
            j -= 1
        line = t[i:j]
        if not line or len(line) > self.en_max or not any("a" <= c <= "z" or "A" <= c <= "Z" for c in line):
            return []
        m = self.en_line.match(line, timeout=self.timeout)
        if m is not None:
            category = "marking.commercial" if m.group("conf") else "marking.internal"
        elif seg.layer == "metadata" and self.en_names is not None and self.en_names.match(line):
            category = "marking.internal"      # a sensitivity label named Internal / Restricted
        else:
            return []
        pos = self._english_position(seg, ctx, line)
        if pos is None:
            return []
        msg = self.messages.english
        assert msg is not None      # MarkingFile requires it when labels are configured
        f = make_finding(seg, norm, i, j, category=category, rule_id=f"{category}.english.v1", severity="high",
                         confidence=0.85, explanation="", suggestion=msg.suggestion,
                         evidence=[f"position:{pos}", "form:english-label"]
                         + ([f"undisplayed:{pos}"] if seg.layer == "hidden" and pos == story(seg) else []))
        return [replace(f, explanation=msg.explanation.format(text=" ".join(f.text.split()),
                                                              position=position_name(seg, pos)))]

    def detect_segment(self, seg: Segment, norm: NormalizedText, ctx: ScanContext) -> list[Finding]:
        english = self._english(seg, norm, ctx) if self.en_line is not None else []
        if english:
            return english
        nt = norm.text
        if "密" not in nt and "内" not in nt and "存" not in nt and "发" not in nt and "公开" not in nt:
            return []
        comp = norm.compact()
        t = comp.text
        if not t:
            return []
        has_level = any(lv in t for lv in self.levels)
        has_internal = "内部" in t or "注意保存" in t or "限国内发行" in t
        has_label = "密" in t
        has_disclosure = "公开" in t or "内部发文" in t
        if not (has_level or has_internal or has_label or has_disclosure):
            return []
        out: list[Finding] = []
        line = self._strip(t)
        standalone_line = bool(line) and (self.bare.match(line, timeout=self.timeout) is not None) \
            and not self._title(t)
        taken: list[tuple[int, int]] = []

        def add(i, j, category, severity, conf, key, field_, evidence, **kw):
            if category in ("marking.level", "marking.field") and severity == "critical":
                note = self._doc(ctx)["declassified"]
                if note:      # the document says it was declassified: review, and say so
                    severity, conf, key = "high", min(conf, 0.9), "marking.declassified"
                    field_ = "explanation" if field_ == "explanation" else "explanation_inline"
                    evidence = [*evidence, f"declassified:{note}"]
                    kw["note"] = note
                elif self._example_cell(seg, ctx):
                    severity, conf, key, field_ = "low", 0.6, "marking.example", "explanation"
                    evidence = [*evidence, "example:teaching-table"]
            kw.setdefault("position", "正文")
            st = story(seg)
            if st is not None and seg.layer == "hidden":
                # a header/footer part no page shows: still a mark, and the reader does not see it
                evidence = [*evidence, f"undisplayed:{st}"]
                if kw["position"] == POSITION_NAMES[st]:
                    kw["position"] = POSITION_NAMES[f"undisplayed_{st}"]
            f = make_finding(seg, comp, i, j, category=category, rule_id=f"{category}.v1", severity=severity,
                             confidence=conf, explanation="", suggestion=self._messages(key).suggestion,
                             evidence=evidence)
            out.append(replace(f, explanation=self._msg(key, field_, text="".join(f.text.split()), **kw)))
            taken.append((i, j))

        if has_level:
            self._levels(seg, ctx, t, line, standalone_line, add, taken, out)
        if has_internal:
            if line and self.internal_line.match(line, timeout=self.timeout):
                pos = self._position(seg, ctx, True) or "standalone"
                i = t.find(line)
                add(i, i + len(line), "marking.internal", "high", 0.9, "marking.internal", "explanation",
                    [f"position:{pos}"], position=POSITION_NAMES.get(pos, pos))
            elif (st := story(seg)) is not None and (piece := self._header_piece(norm.text, t)) is not None:
                i, j = piece
                add(i, j, "marking.internal", "high", 0.9, "marking.internal", "explanation",
                    [f"position:{st}", "form:header_piece"], position=POSITION_NAMES[st])
            else:
                for m in self.internal_star.finditer(t, timeout=self.timeout):
                    pos = self._position(seg, ctx, False) or "standalone"
                    add(m.start(), m.end(), "marking.internal", "high", 0.85, "marking.internal", "explanation",
                        ["form:star"], position=POSITION_NAMES.get(pos, "正文"))
        if has_label or has_internal:
            self._labels(seg, ctx, t, line, add, taken)
        if has_disclosure:
            self._disclosure(t, line, add, taken)
        return out

    def _levels(self, seg, ctx, t, line, standalone_line, add, taken, out) -> None:
        # 1. 密级 field (inline form or table cell next to a 密级 label)
        declassified = any(w in t for w in ("已解密", "解除密级", "已解除", "解密后"))
        field_hits = list(self.field.finditer(t, timeout=self.timeout))
        if len(t) <= 20 or seg.layer == "table":
            field_hits += list(self.field_verb.finditer(t, timeout=self.timeout))
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
        for m in self.strong.finditer(t, timeout=self.timeout):
            i, j = m.span()
            if any(a <= i < b for a, b in taken):
                continue
            standalone = self._strip(t.replace(m.group(0), "", 1)) == "" or len(self._strip(t)) <= len(m.group(0)) + 2
            pos = self._position(seg, ctx, standalone)
            decorated = self._decorated(t, i, j)
            quoted = i > 0 and t[i - 1] in QUOTES and not decorated and not standalone
            at_edge = i <= 2 or j >= len(t) - 2 or decorated
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
                    [f"position:{pos}", "form:star"] + (["form:bracketed"] if decorated or t[:i].strip() else []),
                    position=POSITION_NAMES.get(pos, pos))
            else:
                add(i, j, "marking.level", "high", 0.7, "marking.level", "explanation_inline",
                    ["position:inline", "form:star"])
        # 3. a bare level alone on a line at the marking position (〔机密〕, 「秘密」 too)
        if standalone_line and not out:
            pos = self._position(seg, ctx, False)
            if pos is not None:
                i = t.find(line)
                add(i, i + len(line), "marking.level", "critical", 0.85, "marking.level", "explanation",
                    [f"position:{pos}", "form:bare"], position=POSITION_NAMES.get(pos, pos))

    def _labels(self, seg, ctx, t, line, add, taken) -> None:
        """工作秘密 and 商业秘密 marks (marking.work, marking.commercial): review, never block."""
        def free(i):
            return not any(a <= i < b for a, b in taken)
        # a 密级 field: 密级：内部, 密级：核心商密 (inline, or a table cell beside a 密级 label)
        if self.label_field is not None:
            for m in self.label_field.finditer(t, timeout=self.timeout):
                i, j = m.span(1)
                cat = self.label_values.get(re.split(r"[^\u4e00-\u9fff]", m.group(1))[0].rstrip("级"))
                if cat and free(i):
                    add(i, j, cat, "high", 0.9, cat, "explanation", ["pattern:field"], position="密级字段")
        if seg.layer == "table" and line in self.label_values and self._table_field(seg, ctx):
            i = t.find(line)
            if free(i):
                cat = self.label_values[line]
                add(i, i + len(line), cat, "high", 0.9, cat, "explanation", ["position:table-field"], position="表格密级栏")
        for cat, pat in self.label_line.items():
            # the whole line is the mark (工作秘密, 【普通商密】, 核心商密★5年) in the marking position
            if line and pat.match(line, timeout=self.timeout) and not self._title(t):
                pos = self._position(seg, ctx, False)
                if pos is None and (self.label_star[cat].search(line, timeout=self.timeout) or t[:1] in self.closer):
                    pos = "standalone"    # elsewhere a line counts with a star or brackets (【工作秘密】)
                i = t.find(line)
                if pos is not None and free(i):
                    add(i, i + len(line), cat, "high", 0.9, cat, "explanation", [f"position:{pos}"],
                        position=POSITION_NAMES.get(pos, pos))
                continue
            # the star form anywhere, a bracketed 核心商密 inline; not when quoted
            for m in self.label_star[cat].finditer(t, timeout=self.timeout):
                i, j = m.span()
                if not free(i):
                    continue
                decorated = self._decorated(t, i, j)
                if i > 0 and t[i - 1] in QUOTES and not decorated:
                    continue
                pos = self._position(seg, ctx, False)
                edge = i <= 2 or decorated
                add(i, j, cat, "high" if (pos and edge) else "medium", 0.85, cat,
                    "explanation" if (pos and edge) else "explanation_inline", ["form:star"],
                    position=POSITION_NAMES.get(pos, "正文") if pos else "正文")
            for w in self.label_inline[cat]:
                k = t.find(w)
                while k != -1:
                    if k > 0 and t[k - 1] in self.closer and t[k + len(w):k + len(w) + 1] == self.closer[t[k - 1]] \
                            and free(k) and not (k > 1 and t[k - 2] in "“‘\"'"):
                        add(k, k + len(w), cat, "medium", 0.8, cat, "explanation_inline", ["form:bracketed"])
                    k = t.find(w, k + 1)

    def _disclosure(self, t, line, add, taken) -> None:
        """政府信息公开属性 (marking.disclosure): a field, a standalone line, or 此件不公开 in the text."""
        def emit(i, j, severity, evidence):
            if severity == "none" or any(a <= i < b for a, b in taken):
                return
            add(i, j, "marking.disclosure", severity, SEVERITY_CONF.get(severity, 0.8), "marking.disclosure",
                "explanation_low" if severity == "low" else "explanation", evidence)
        if self.disc_field is not None:
            for m in self.disc_field.finditer(t, timeout=self.timeout):
                emit(*m.span(1), self.disc_values.get(m.group(1), "medium"), ["pattern:field"])
        if line in self.disc_lines:
            i = t.find(line)
            emit(i, i + len(line), self.disc_lines[line], ["position:standalone"])
        for w in self.disc_inline:
            k = t.find(w)
            while k != -1:
                if not (k > 0 and t[k - 1] in "“‘\"'"):
                    emit(k, k + len(w), "medium", ["form:inline"])
                k = t.find(w, k + 1)
