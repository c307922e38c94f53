"""Passage classifier: sentences that read like non-public content without any listed term.

Model (models/passage.npz, trained by `python -m training.passage`): character 1-3-gram
TF-IDF (sublinear tf, l2) + multinomial logistic regression over five labels: public,
deployment, unreleased, personnel, internal. At scan time it is plain arrays: a dict from n-gram
to column, idf, coefficients (no pickle, no onnxruntime: measured faster for sentence-sized
inputs, see models/MODEL_CARD_passage.md). A sentence is flagged when 1 - P(public) reaches the
threshold calibrated on a split the model was not fitted on. The explanation names the n-grams
that pushed the score up most.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from ..config import ScanConfig
from ..model import Finding, Segment
from ..normalize import NormalizedText
from ..policy import Policy
from ..rules import Ruleset
from ._models import load_npz, short_hash, unpack_strings
from .base import Detector, ScanContext, make_finding

MODEL_FILE = "passage.npz"
LABEL_ZH = {
    "deployment": "军事或安全部署、试验安排、敏感设施位置",
    "unreleased": "尚未公开的数据、参数或决定",
    "personnel": "尚未公布的人事任免、审查或处分",
    "internal": "内部研究讨论、谈判底线或安全漏洞",
}
SUGGESTION = {
    "deployment": "删除具体时间、地点、兵力或试验安排，或改为已公开报道的表述；确需发布请报保密审查。",
    "unreleased": "确认相关数据或决定是否已正式公布；未公布的请删除或待正式发布后再引用公开口径。",
    "personnel": "人事、审查和处分信息应以组织正式公布为准，公布前请删除。",
    "internal": "内部讨论、谈判立场和未修复漏洞不宜公开，请删除或改写为已公开的结论。",
}
_WS = re.compile(r"\s\s+")
MIN_CJK = 12    # shorter lines (titles, headings) carry too little to judge
SENT_END = re.compile(r"[^。！？!?；;]*[。！？!?；;]+|[^。！？!?；;]+")


def char_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """Exactly sklearn's TfidfVectorizer(analyzer="char") n-grams (white space runs collapsed)."""
    t = _WS.sub(" ", text)
    out = list(t) if lo == 1 else []
    for n in range(max(lo, 2), min(hi + 1, len(t) + 1)):
        out.extend(t[i:i + n] for i in range(len(t) - n + 1))
    return out


class PassageModel:
    def __init__(self, arrays: dict):
        keys = unpack_strings(arrays["keys"])
        self.index = {k: i for i, k in enumerate(keys)}
        self.keys = keys
        self.idf = arrays["idf"].astype(np.float64)
        self.coef = arrays["coef"].astype(np.float64)          # (classes, features)
        self.intercept = arrays["intercept"].astype(np.float64)
        self.labels = unpack_strings(arrays["labels"])
        self.threshold = float(arrays["threshold"][0])
        self.lo, self.hi = (int(x) for x in arrays["ngram_range"])
        self.version = str(arrays["version"][0])
        self.public = self.labels.index("public")

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts: dict[int, int] = {}
        get = self.index.get
        for g in char_ngrams(text, self.lo, self.hi):
            j = get(g)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        val = (1.0 + np.log(tf)) * self.idf[idx]
        val /= math.sqrt(float(val @ val)) or 1.0
        return idx, val

    def proba(self, text: str) -> np.ndarray:
        idx, val = self.vector(text)
        z = self.coef[:, idx] @ val + self.intercept
        z = np.exp(z - z.max())
        return z / z.sum()

    def explain(self, text: str, label: int, top: int = 4) -> list[str]:
        """The words that moved the sentence most towards `label` (against public).

        Each n-gram's contribution (tf-idf value x coefficient difference) is spread over the
        characters of its occurrences; the words (jieba) carrying the most of it are named."""
        idx, val = self.vector(text)
        if idx.size == 0:
            return []
        contrib = val * (self.coef[label, idx] - self.coef[self.public, idx])
        t = _WS.sub(" ", text)
        heat = np.zeros(len(t))
        for k in np.nonzero(contrib > 0)[0]:
            g = self.keys[idx[k]]
            share = contrib[k] / len(g)
            p = t.find(g)
            while p >= 0:
                heat[p:p + len(g)] += share
                p = t.find(g, p + 1)
        if not heat.any():
            return []
        # words (jieba, loaded once per process) ranked by the heat they carry
        runs, pos = [], 0
        for w in _cut(t):
            h = float(heat[pos:pos + len(w)].sum())
            if len(w.strip()) >= 2 and h > 0:
                runs.append((h, w.strip()))
            pos += len(w)
        runs.sort(key=lambda r: -r[0])
        out: list[str] = []
        for _, w in runs:
            if w not in out:
                out.append(w)
            if len(out) == top:
                break
        return out


_JIEBA = None


def _cut(text: str) -> list[str]:
    global _JIEBA
    if _JIEBA is None:
        import logging

        import jieba
        jieba.setLogLevel(logging.WARNING)
        tk = jieba.Tokenizer()
        tk.initialize()
        _JIEBA = tk
    return list(_JIEBA.cut(text, HMM=False))


def sentences(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in SENT_END.finditer(text) if m.group().strip()]


class PassageDetector(Detector):
    name = "passage"
    needs_models = True

    def __init__(self, directory: Path | None = None, min_confidence: float = 0.5):
        """min_confidence: the policy's; a sentence at the calibrated threshold gets a confidence
        just above it, so every flagged sentence counts in the decision."""
        self.model = PassageModel(load_npz(MODEL_FILE, directory))
        self.floor = min(1.0, min_confidence + 0.01)
        self.model_version = self.model.version + "@" + short_hash(MODEL_FILE, directory)
        # the segmenter used by explanations (jieba, ~1 s to load) is loaded on the first flagged passage

    def classify(self, text: str) -> tuple[str, float]:
        p = self.model.proba(text)
        risk = 1.0 - float(p[self.model.public])
        q = p.copy()
        q[self.model.public] = -1
        return self.model.labels[int(q.argmax())], risk

    def confidence(self, risk: float) -> float:
        """Just above the policy's min_confidence at the calibrated threshold, 1.0 at risk 1."""
        t = self.model.threshold
        return min(1.0, self.floor + (1.0 - self.floor) * (risk - t) / max(1e-6, 1.0 - t))

    @classmethod
    def build(cls, config: ScanConfig, ruleset: Ruleset, policy: Policy) -> PassageDetector:
        return cls(min_confidence=policy.min_confidence)  # a missing or altered model file raises

    def detect(self, ctx: ScanContext) -> list[Finding]:
        out: list[Finding] = []
        for seg, norm in ctx.views():
            out.extend(self.detect_segment(seg, norm))
        return out

    def detect_segment(self, seg: Segment, norm: NormalizedText) -> list[Finding]:
        text = norm.text
        if len(text) < MIN_CJK:
            return []
        out = []
        for a, b in sentences(text):
            sent = text[a:b]
            if sum(1 for c in sent if "\u4e00" <= c <= "\u9fff") < MIN_CJK:
                continue
            label, risk = self.classify(sent)
            if risk < self.model.threshold:
                continue
            lab = self.model.labels.index(label)
            words = self.model.explain(sent, lab)
            why = "、".join(f"“{w}”" for w in words) if words else "整体表述"
            # trim trailing white space from the highlighted sentence
            while b > a and text[b - 1].isspace():
                b -= 1
            out.append(make_finding(
                seg, norm, a, b, category="passage." + label, rule_id="model.passage." + label,
                severity="medium", confidence=round(self.confidence(risk), 3),
                explanation=(f"模型判断该句疑似涉及{LABEL_ZH.get(label, label)}（风险分{risk:.2f}，"
                             f"阈值{self.model.threshold:.2f}），主要依据：{why}。"),
                suggestion=SUGGESTION.get(label, "请人工核实该段内容是否已公开。"),
                evidence=[f"model:{self.model_version}", f"label:{label}", f"score:{risk:.3f}",
                          f"ngrams:{len(words)}"]))
        return out
