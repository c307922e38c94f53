"""Presidio baseline, run inside bench/.venv-presidio (its own venv: presidio-analyzer pins
differ from the main lock). Offline: a blank Chinese spaCy pipeline with the jieba segmenter
(no model download) and Presidio PatternRecognizers equivalent to ours for resident ID (GB 11643
check digit), mobile phone, bank card (Luhn), e-mail, private IP, plus a deny-list recognizer
with the same lexicon terms.

    .venv-presidio/bin/python presidio_baseline.py IN.json OUT.json
IN: {"texts": [...], "terms": [...], "repeat": 1}
OUT: {"load_s", "per_text_ms": [...] (wall), "per_text_cpu_ms": [...], "results": [...counts...], "version"}
"""
from __future__ import annotations

import json
import sys
import time


def build_engine(terms: list[str]):
    import spacy
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class BlankZhEngine(SpacyNlpEngine):
        def __init__(self):
            super().__init__(models=[{"lang_code": "zh", "model_name": "blank-zh-jieba"}])
            cfg = {"nlp": {"tokenizer": {"segmenter": "jieba"}}}
            self.nlp = {"zh": spacy.blank("zh", config=cfg)}

        def load(self):     # nothing to download
            pass

    class IdCard(PatternRecognizer):
        W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]

        def validate_result(self, pattern_text: str):
            t = pattern_text.upper()
            if len(t) != 18:
                return False
            s = sum(int(c) * w for c, w in zip(t[:17], self.W))
            return "10X98765432"[s % 11] == t[17]

    class BankCard(PatternRecognizer):
        def validate_result(self, pattern_text: str):
            digits = [int(c) for c in pattern_text if c.isdigit()]
            total = 0
            for i, d in enumerate(reversed(digits)):
                if i % 2 == 1:
                    d *= 2
                    if d > 9:
                        d -= 9
                total += d
            return total % 10 == 0

    recs = [
        IdCard(supported_entity="CN_ID_CARD", supported_language="zh", context=["身份证", "证件号"],
               patterns=[Pattern("cn_id", r"(?<!\d)[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)", 0.5)]),
        PatternRecognizer(supported_entity="CN_PHONE", supported_language="zh", context=["电话", "手机", "联系"],
                          patterns=[Pattern("cn_mobile", r"(?<!\d)1[3-9]\d{9}(?!\d)", 0.5)]),
        BankCard(supported_entity="CN_BANK_CARD", supported_language="zh", context=["银行卡", "卡号", "账号"],
                 patterns=[Pattern("bank", r"(?<!\d)(?:62|4\d|5[1-5])\d{14,17}(?!\d)", 0.4)]),
        PatternRecognizer(supported_entity="EMAIL_ADDRESS", supported_language="zh",
                          patterns=[Pattern("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", 0.8)]),
        PatternRecognizer(supported_entity="PRIVATE_IP", supported_language="zh",
                          patterns=[Pattern("ip", r"(?<!\d)(?:10\.\d{1,3}|192\.168|172\.(?:1[6-9]|2\d|3[01]))\.\d{1,3}\.\d{1,3}(?!\d)", 0.6)]),
    ]
    if terms:
        recs.append(PatternRecognizer(supported_entity="CN_TERM", supported_language="zh", deny_list=terms))
    registry = RecognizerRegistry(supported_languages=["zh"])
    for r in recs:
        registry.add_recognizer(r)
    return AnalyzerEngine(registry=registry, nlp_engine=BlankZhEngine(), supported_languages=["zh"])


def main() -> int:
    inp = json.load(open(sys.argv[1], encoding="utf-8"))
    t0 = time.perf_counter()
    engine = build_engine(inp.get("terms", []))
    engine.analyze(text="预热 warm-up 13912345678", language="zh")
    load_s = time.perf_counter() - t0
    per, cpu, counts = [], [], []
    for _ in range(int(inp.get("repeat", 1))):
        per, cpu, counts = [], [], []
        for t in inp["texts"]:
            t1, c1 = time.perf_counter(), time.process_time()
            res = engine.analyze(text=t, language="zh")
            per.append((time.perf_counter() - t1) * 1000)
            cpu.append((time.process_time() - c1) * 1000)
            counts.append(len(res))
    import presidio_analyzer
    out = {"load_s": load_s, "per_text_ms": per, "per_text_cpu_ms": cpu, "results": counts,
           "version": getattr(presidio_analyzer, "__version__", "2.2.366"), "terms": len(inp.get("terms", []))}
    json.dump(out, open(sys.argv[2], "w", encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
