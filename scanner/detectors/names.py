"""Person names (pii.name) and addresses (pii.address) by a trained character tagger.

The model (models/names.npz, trained by `python -m training.names`; card in
models/MODEL_CARD_names.md) is an averaged structured perceptron over vectorised character
features and two lexicon lattices (jieba's dictionary by part of speech, CLUENER training
entities): scanner/detectors/names_tagger.py. Labels: B/I-N (person name), B/I-A (address), B/I-X
(other named entity, never reported), O; BIO-constrained Viterbi, batched over the document.

Policy (documented in models/MODEL_CARD_names.md):
- a name alone is severity "low"; a name in the same segment (or the same table row) as an ID
  number, phone, bank card, passport, e-mail or specific address becomes "medium" (scanner/postprocess.py, personal_data_combinations);
- masked names (马某东, 王**, 李×) and honorific-only forms (王先生, 老郑) are not names;
- an address is reported only when it is specific (a numbered house, building, unit, room or
  village group); it is "low" unless a residence cue precedes it or a name / other personal data
  shares its segment or table row ("medium"); institutional places (会议室, 医院...) stay "low".
- Scope: with names_report "relevant" (the default: the report keeps a name only where it
  matters, scanner/harm.py) the tagger reads exactly the segments where a tagged name or address
  can reach the report (`relevant_segments`, see ADDRESS_CUE_RE below): the report is the same as
  with every segment tagged. names_report "all" (inventory) tags everything; "cue" tags only cue
  segments and table cells (the CMS gate); "off" no tagger.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..config import NamesScope, ScanConfig
from ..harmrules import PERSONAL, HarmRules, default_path
from ..model import Finding, Segment, near_text
from ..normalize import NormalizedText
from ..policy import Policy
from ..rules import Ruleset
from ..taxonomy import SEVERITY_RANK
from ._firstchar import compile_guarded, guarded
from ._models import load_npz, short_hash
from .base import Detector, ScanContext, make_finding
from .names_tagger import LABELS, Tagger, spans_from_tags  # noqa: F401  (LABELS, spans_from_tags: API)

MODEL_FILE = "names.npz"


# ---- post-processing -------------------------------------------------------------------------------

MASK_RE = re.compile(r"[某*＊×Ｘ○〇□■]|X{1,}|x{2,}")
HONORIFIC_RE = re.compile(r"^(?:.{1,2}(?:先生|女士|小姐|老师|同志|师傅|阿姨|大爷|总|导|老|哥|姐|某)|[老小阿].)$")
SPECIFIC_ADDR_RE = re.compile(
    r"(?:[路街道巷弄里胡同]|大道|号|栋|幢|单元|室|楼|层|座|村|组|屯|社区|小区|公寓|花园|苑|府|城|园|庄|弄)")
NUMBERED_UNIT_RE = re.compile(r"(?:[0-9０-９]+|[一二三四五六七八九十百零〇两]+)[-－]?(?:号|栋|幢|单元|室|楼|层|组|弄|排|户|座|区)"
                              r"|[0-9０-９]+(?:[-－][0-9０-９]+)+")
NOT_ADDR_RE = re.compile(r"尾号|单号|编号|账号|卡号|订单|工号|学号|批号|型号|代码|票号")
# A residence cue just before an address makes it a person's address (severity medium).
RESIDENCE_RE = re.compile(r"(?:家住|住址|住所|住处|现住|居住|暂住|户籍|籍贯|寄至|收件|收货|送到|名下|住在|住)[于在是：:为地址\s]*$")
# Addresses of institutions (meeting rooms, hospitals, offices) are public: the cue keeps them low.
PUBLIC_PLACE_RE = re.compile(r"会议室|医院|图书馆|体育馆|剧院|博物馆|中心|大厦|广场|政府|办公|行政|学校|大学|公司|银行|酒店|宾馆|商场|车站|机场")
EDGE_PUNCT = "（）()【】[]《》“”\"'，。、；：,.;: "


MARKUP_RE = re.compile(r"[=<>\"'/;{}\[\]\\&#:]")


def is_name(text: str) -> bool:
    t = text.strip()
    if len(t) < 2 or len(t) > 20:
        return False
    if MASK_RE.search(t):
        return False
    if HONORIFIC_RE.match(t):
        return False
    return not MARKUP_RE.search(t)      # markup or code fragments (onerror=, x<y) are not names


def _ascii_fragment(text: str, i: int, j: int) -> bool:
    """A Latin span cut out of a longer word (lert in alert) is a tagging artefact, not a name."""
    if any("\u4e00" <= c <= "\u9fff" for c in text[i:j]):
        return False
    left = i > 0 and text[i - 1].isascii() and text[i - 1].isalnum()
    right = j < len(text) and text[j].isascii() and text[j].isalnum()
    return left or right


def is_specific_address(text: str) -> bool:
    """Down to a house number, building, unit, room or village group: something that locates a
    household. A road, village or landmark without a number (南市屯村, 王府饭店) is not."""
    if len(text) < 4 or not ("\u4e00" <= text[0] <= "\u9fff"):
        return False
    if MASK_RE.search(text) or NOT_ADDR_RE.search(text):
        return False
    if sum(1 for c in text if "\u4e00" <= c <= "\u9fff") < 3:
        return False
    return bool(NUMBERED_UNIT_RE.search(text)) and bool(SPECIFIC_ADDR_RE.search(text[:-1] or text))


def trim_span(text: str, i: int, j: int) -> tuple[int, int]:
    while i < j and text[i] in EDGE_PUNCT:
        i += 1
    while j > i and text[j - 1] in EDGE_PUNCT:
        j -= 1
    # an unbalanced opening bracket inside the span cuts it ("体检中心（门诊楼3楼" -> "体检中心")
    for op, cl in (("（", "）"), ("(", ")")):
        k = text.find(op, i, j)
        if k >= 0 and text.find(cl, k, j) < 0:
            j = k
    while j > i and text[j - 1] in EDGE_PUNCT:
        j -= 1
    return i, j


# ---- detector ----------------------------------------------------------------------------------------

# The "cue" scope (the CMS gate): the tagger reads only segments with a personal-data cue (an ID or
# phone word, a long digit run, an e-mail, a house number, a residence word) or the personnel cue
# of lexicons/harm.toml, and table cells. Person words that are neither (先生, 同志, 被告, 联系人...)
# are not cues.
CUE_RE = compile_guarded(r"户籍|住址|家住|居住|住所|身份证|证件|电话|手机|邮箱|出生|[男女][，,、）)]|\d+岁|\d{7,}|@|"
                         r"\d+号|\d+(?:栋|幢|单元|室)|收件|寄件")
SCOPES = ("relevant", "all", "cue", "off")   # "off": no name/address model (passage classifier still runs)
SENT_RE = re.compile(r"[^。！？!?；;\n]*[。！？!?；;]+|[^。！？!?；;\n]+")

# The "relevant" scope (the default: names_report "relevant") tags exactly the segments where a
# tagged name or address can reach the report (scanner/postprocess.py personal_data_combinations,
# scanner/harm.py step 6); elsewhere whatever the tagger found would be dropped, so the report is
# the same as with every segment tagged (tests/scanner/models/test_names_scope.py checks it on
# real corpora). A segment is tagged whole (a name anywhere in it can be raised by personal data
# anywhere in it) when
# - it is a table cell or a file property (tables that list persons, a private person's properties);
# - the personnel cue or a group-word label (获奖学生：) is in the text harm.name_matters reads for
#   it: the segment and its neighbours of the same layer joined by "\n", the original text, as
#   harm.py joins them; or the segment itself holds a group word (员工王建国: harm keeps only the
#   name a group word of the same segment labels, so the neighbours of a bare 学生 are not read);
# - it may hold a specific address: is_specific_address needs a numbered unit (NUMBERED_UNIT_RE),
#   and the dwelling rule a digit before its unit; ADDRESS_CUE_RE is looser than both. A model
#   address is reported wherever it is found, and turns medium beside a name of its segment;
# - it holds personal data a name turns medium beside: a finding of a personal-data category
#   (harmrules.PERSONAL) at medium or above by the detectors that ran before (`ctx.found`: the
#   rules); harm only lowers those, and a name beside personal data that harm lowered goes back to
#   low and is kept only if it matters for another reason above. When the detector runs alone
#   (`ctx.found` is None) a looser cue stands in: every match of a personal-data rule (pii.id_card,
#   phone, bank card, passport) holds a chain of 7 or more digits with single separators, a masked
#   ID, a filled-in 姓名 label of an ID card front, an e-mail an "@" (the rules' examples are checked against PERSONAL_CUE_RE by the tests), matched over the
#   joined text, across a line break (the rules with cross_lines report a number split over two
#   lines on both).
# A segment that may hold a specific address and nothing else above is read in two steps: first
# the sentences holding ADDRESS_CUE_RE (a specific address lies inside one sentence: the tagger reads
# sentence by sentence) or a group word; the rest of the segment only when one of them gave a
# specific address (then every name of the segment raises the address and is raised by it).
# Elsewhere in such a segment a name would be low and would not matter.
ADDRESS_CUE_RE = compile_guarded(r"[\d一二三四五六七八九十百零〇两][-－]?(?:号|栋|幢|单元|室|楼|层|组|弄|排|户|座|区)|\d[-－]\d")
# a masked ID number (3622011988****0417, 330***********2160): two digits then a mask of four or more;
# an ID card front's 姓名 label filled in (姓名刘宗源: pii.id_card.front_fields.v1 matches where no number was read)
# digits may be grouped by spaces or (spaced) dashes as the mobile rules allow (135 – 7246 – 8013)
PERSONAL_CUE_RE = compile_guarded(
    r"\d(?:(?:[ \t]{0,2}[-‐‑‒–—][ \t]{0,2}|[ \t]{1,2}|[./\n])?\d){6,}(?:[ ./\n-]?[Xx])?|\d{2}\*{4}|[@＠]"
    r"|姓\s*名[ \t:：=]*\n?[ \t]*(?!性\s*别|民\s*族|出\s*生|住\s*址|公民)[\u4e00-\u9fff·]{2}")
_ALWAYS_LAYERS = ("table", "metadata")


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


class NamesDetector(Detector):
    name = "names"
    needs_models = True

    def __init__(self, directory: Path | None = None, scope: str = "relevant", personnel_cue=None,
                 near_cue=None, own_cue=None):
        """`personnel_cue`: the lines the "cue" scope reads. `near_cue` (the cue harm reads in a name's
        segment and its neighbours) and `own_cue` (what harm reads in the name's own segment only):
        the "relevant" scope; either defaults to `personnel_cue`."""
        if scope not in SCOPES or scope == "off":
            raise ValueError(f"names scope must be one of {SCOPES}")
        self.scope = scope
        self.model = Tagger(load_npz(MODEL_FILE, directory))
        self.personnel_cue = personnel_cue
        self.near_cue = near_cue if near_cue is not None else personnel_cue
        self.own_cue = own_cue if own_cue is not None else personnel_cue
        self.model_version = (self.model.version + ("" if scope == "all" else "-" + scope)
                              + "@" + short_hash(MODEL_FILE, directory))

    def warm(self) -> None:
        self.model.spans_many(["王建国住人民路1号。"])      # dense tables and lattice hash tables

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        if not text.strip():
            return []
        return self.model.spans_many([text])[0]

    def _cue(self, text: str) -> bool:
        return bool(CUE_RE.search(text) or (self.personnel_cue is not None and self.personnel_cue.search(text)))

    def windows(self, seg: Segment, text: str, hot: bool = False) -> list[tuple[int, int]]:
        """The part of a segment the tagger reads, by scope: the whole segment or nothing. `hot`:
        the relevant scope's verdict for the segment (`relevant_segments`)."""
        if not _has_cjk(text):
            return []
        if self.scope == "all" or seg.layer in _ALWAYS_LAYERS:
            return [(0, len(text))]
        if self.scope == "cue":
            return [(0, len(text))] if self._cue(text) else []
        return [(0, len(text))] if hot else []

    def relevant_segments(self, ctx: ScanContext) -> set[int]:
        """Ids of the segments the relevant scope reads, wholly or in part (`relevant_scope`)."""
        whole, part = self.relevant_scope(ctx)
        return whole | part

    def relevant_scope(self, ctx: ScanContext) -> tuple[set[int], set[int]]:
        """(ids of the segments tagged whole, ids of the segments of which only some sentences are
        tagged first). A segment is in the second set when nothing but a group word of its own or
        the address cue makes it relevant: harm keeps only a name the group word labels (员工王建国,
        the name right after the word, in the word's sentence); a specific address lies in a
        sentence holding the address cue, and only once one is found does the rest of the segment
        matter (see ADDRESS_CUE_RE above)."""
        whole, own, addr = self._scope(ctx)
        segs = ctx.document.segments
        return {segs[k].id for k in whole}, {segs[k].id for k in own | addr}

    def _scope(self, ctx: ScanContext) -> tuple[set[int], set[int], set[int]]:
        """(indexes of the segments read whole, of those read for a group word of their own only, of
        those read for the address cue (and group words) first)."""
        segs = ctx.document.segments
        jt = ctx.joined("norm")
        hot: set[int] = set()
        if ctx.found is not None:
            medium = SEVERITY_RANK["medium"]
            hot.update(f.segment_id for f in ctx.found
                       if f.category.startswith(PERSONAL) and SEVERITY_RANK[f.severity] >= medium
                       and 0 <= f.segment_id < len(segs))
        else:
            for m in PERSONAL_CUE_RE.finditer(jt.text):
                hot.update(range(jt.segment_at(m.start()), jt.segment_at(m.end() - 1) + 1))
        near_cue, own_cue = self.near_cue, self.own_cue
        own: set[int] = set()
        addr: set[int] = set()
        for k, s in enumerate(segs):
            if k in hot:
                continue
            if s.layer in _ALWAYS_LAYERS or "table" in s.locator \
                    or (near_cue is not None and near_cue.search(near_text(segs, k))):
                hot.add(k)
            elif ADDRESS_CUE_RE.search(jt.views[k].text):
                addr.add(k)
            elif own_cue is not None and own_cue.search(s.text):
                own.add(k)
        return hot, own, addr

    def _plan(self, ctx: ScanContext) -> tuple[list[tuple[int, int, int]], dict[int, list[tuple[int, int, int]]]]:
        """(segment id, start, end) of the sentences of the document the scope reads first, and per
        segment read for the address cue, the sentences read next if those gave a specific address."""
        jobs: list[tuple[int, int, int]] = []
        later: dict[int, list[tuple[int, int, int]]] = {}
        if self.scope == "relevant":
            whole, own, addr = self._scope(ctx)
            segs = ctx.document.segments
            hot = {segs[k].id for k in whole}
            own_ids = {segs[k].id for k in own}
            addr_ids = {segs[k].id for k in addr}
        else:
            hot, own_ids, addr_ids = set(), set(), set()
        own_cue = self.own_cue
        for s, norm in ctx.views():
            text = norm.text
            if s.id in addr_ids and _has_cjk(text):
                rest = later.setdefault(s.id, [])
                for m in SENT_RE.finditer(text):
                    t = m.group()
                    first = ADDRESS_CUE_RE.search(t) or (own_cue is not None and own_cue.search(t))
                    (jobs if first else rest).append((s.id, m.start(), m.end()))
                continue
            if s.id in own_ids and own_cue is not None:
                # only the sentences holding a group word (matched on the normalised sentence, a
                # superset of what harm matches on the original text)
                jobs.extend((s.id, m.start(), m.end()) for m in SENT_RE.finditer(text)
                            if own_cue.search(m.group()))
                continue
            for a, b in self.windows(s, text, s.id in hot):
                # tagged sentence by sentence (as trained): the batched Viterbi runs over the
                # longest sentence, not the longest line
                for m in SENT_RE.finditer(text, a, b):
                    jobs.append((s.id, m.start(), m.end()))
        return jobs, later

    def _jobs(self, ctx: ScanContext) -> list[tuple[int, int, int]]:
        """(segment id, start, end) of the sentences of the document the scope reads first."""
        return self._plan(ctx)[0]

    def _documents(self, ctxs: list[ScanContext]) -> list[dict[int, list[tuple[int, int, str]]]]:
        """Per document, (segment id -> spans), every sentence of every document tagged in one
        batch (a sentence is tagged alone: the same spans as one batch per document); then, in a
        second batch, the rest of the segments read for the address cue whose first sentences gave
        a specific address."""
        plans = [self._plan(ctx) for ctx in ctxs]
        tagged: list[dict[int, list[tuple[int, list]]]] = [{} for _ in ctxs]

        def tag(jobs: list[list[tuple[int, int, int]]]) -> None:
            texts = [ctx.normalized[k].text[a:b] for ctx, js in zip(ctxs, jobs) for k, a, b in js]
            spans = iter(self.model.spans_many(texts))
            for d, js in enumerate(jobs):
                for (k, a, _), sp in zip(js, spans):
                    tagged[d].setdefault(k, []).append((a, [(a + i, a + j, kind) for i, j, kind in sp]))

        tag([p[0] for p in plans])
        more: list[list[tuple[int, int, int]]] = []
        for d, (ctx, (_, later)) in enumerate(zip(ctxs, plans)):
            js: list[tuple[int, int, int]] = []
            for k, rest in later.items():
                if rest and self._has_address(ctx.normalized[k].text, tagged[d].get(k, [])):
                    js.extend(rest)
            more.append(js)
        if any(more):
            tag(more)
        out: list[dict[int, list[tuple[int, int, str]]]] = []
        for by_sent in tagged:
            out.append({k: [sp for _, sps in sorted(v, key=lambda x: x[0]) for sp in sps]
                        for k, v in by_sent.items()})
        return out

    @staticmethod
    def _has_address(text: str, sentences: list[tuple[int, list]]) -> bool:
        """Whether the spans tagged in a segment give a reported address (as `_findings` decides)."""
        for _, sps in sentences:
            for i, j, kind in sps:
                if kind == "A":
                    i, j = trim_span(text, i, j)
                    if is_specific_address(text[i:j]):
                        return True
        return False

    @classmethod
    def build(cls, config: ScanConfig, ruleset: Ruleset, policy: Policy) -> NamesDetector | None:
        # names_scope "all" with names_report "relevant" (the defaults): the report keeps a name only
        # where it matters (scanner/harm.py), so the tagger reads only where such a name can come
        # from (scope "relevant"); names_report "all" tags everything; "cue" cue lines and table
        # cells only (the CMS gate); "off" no tagger (see the model card).
        if config.names_scope is NamesScope.OFF:
            return None
        scope = config.names_scope.value
        if scope == "all" and config.names_report == "relevant":
            scope = "relevant"
        # the personnel cue and the group words are data of the post-processing (lexicons/harm.toml
        # [names]), compiled by its HarmRules, so the tagger reads wherever harm.name_matters may keep
        # a name (a segment holding a group word: harm keeps only the name it labels)
        rules = HarmRules.load(default_path(config.lexicons))
        cue, near, own = (re.compile(guarded(p)) for p in (rules.scope_cue, rules.scope_near, rules.scope_own))
        return cls(scope=scope, personnel_cue=cue, near_cue=near, own_cue=own)   # a missing or altered model file raises

    def detect(self, ctx: ScanContext) -> list[Finding]:
        """Every window of the document tagged in one batch."""
        return self.detect_many([ctx])[0]

    def detect_many(self, ctxs: list[ScanContext]) -> list[list[Finding]]:
        out: list[list[Finding]] = []
        for ctx, by_seg in zip(ctxs, self._documents(ctxs)):
            found: list[Finding] = []
            for seg, norm in ctx.views():
                found.extend(self._findings(seg, norm, by_seg.get(seg.id, [])))
            out.append(found)
        return out

    def detect_segment(self, seg: Segment, norm: NormalizedText) -> list[Finding]:
        text = norm.text
        spans = [(a + i, a + j, kind) for a, b in self.windows(seg, text, True)
                 for i, j, kind in self.spans(text[a:b])]
        return self._findings(seg, norm, spans)

    def _findings(self, seg: Segment, norm: NormalizedText, spans) -> list[Finding]:
        text = norm.text
        out = []
        for i, j, kind in spans:
            if kind == "N":
                i, j = trim_span(text, i, j)
                span = text[i:j]
                if not is_name(span) or _ascii_fragment(text, i, j):
                    continue
                out.append(make_finding(
                    seg, norm, i, j, category="pii.name", rule_id="model.names.name", severity="low",
                    confidence=0.7,
                    explanation="模型识别出人名。单独出现的人名风险较低；如为自然人且附有身份证号、电话、住址等个人信息，应去标识化。",
                    suggestion="确认是否为公开报道中的公众人物；如为普通自然人，建议以“某某”“马某”等方式处理。",
                    evidence=["model:names", "label:name"]))
            elif kind == "A":
                i, j = trim_span(text, i, j)
                span = text[i:j]
                if not is_specific_address(span):
                    continue
                residence = bool(RESIDENCE_RE.search(text[max(0, i - 8):i]))
                public = bool(PUBLIC_PLACE_RE.search(span))
                if residence and not public:
                    sev, why, ev = "medium", "前文表明这是个人住址", ["context:residence"]
                else:
                    sev, why, ev = "low", "暂无迹象表明属于个人，可能是单位或公共场所地址", []
                out.append(make_finding(
                    seg, norm, i, j, category="pii.address", rule_id="model.names.address",
                    severity=sev, confidence=0.65,
                    explanation=f"模型识别出具体地址（道路、门牌、楼栋或村组一级），{why}。",
                    suggestion="如为个人住址，应删除或仅保留到区县一级；单位公开办公地址可放行。",
                    evidence=["model:names", "label:address", "specific"] + ev))
        return out

