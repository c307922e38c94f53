"""Rules and term lists as data (gitleaks-style TOML files in lexicons/).

lexicons/rules/*.toml   [[rules]]: id, category, regex, keywords, prefilter, validator, severity,
                        confidence, entropy (minimum Shannon entropy of the value),
                        context_plus / context_minus (words that raise / lower
                        confidence), context_window, allow (regexes on the match), allow_context
                        (regexes on the surrounding text), explanation, suggestion, and
                        examples_true / examples_false that tests run.
lexicons/terms/*.toml   [lexicon]: category, severity, confidence, explanation, suggestion;
                        terms = [...]; allow = [...] (phrases that contain a term but are fine);
                        joins / heads (word-boundary rules, see Lexicon);
                        examples_true / examples_false.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


def default_lexicon_dir() -> Path:
    here = Path(__file__).resolve().parent
    for cand in (here.parent / "lexicons", here / "lexicons"):
        if (cand / "policy.toml").exists():
            return cand
    raise FileNotFoundError("lexicons/ directory not found")


@dataclass
class Rule:
    id: str
    category: str
    regex: re.Pattern
    severity: str = "medium"
    confidence: float = 0.8
    keywords: list[str] = field(default_factory=list)
    validator: str | None = None
    group: int | str = 0            # the part to highlight: a group number or name, or "first" (the
                                    # first group that took part in the match, for alternatives)
    context_plus: list[str] = field(default_factory=list)
    context_minus: list[str] = field(default_factory=list)
    context_required: bool = False
    context_window: int = 20
    context_minus_weight: float = 0.35     # how much one lowering context word takes off
    allow: list[re.Pattern] = field(default_factory=list)
    allow_context: list[re.Pattern] = field(default_factory=list)
    explanation: str = ""
    suggestion: str = ""
    examples_true: list[str] = field(default_factory=list)
    examples_false: list[str] = field(default_factory=list)
    prefilter: re.Pattern | None = None   # cheap regex searched once per document before `regex`
    # true when every match contains one of `keywords` (lower-cased) and a `prefilter` match: on long
    # texts the regex then runs only on the segments holding such an anchor (same findings, faster)
    anchors_in_match: bool = False
    on: str = "normalized"      # "normalized" or "compact" text
    entropy: float = 0.0        # minimum Shannon entropy (bits per character) of the value (gitleaks)
    file: str = ""


@dataclass
class Lexicon:
    name: str
    category: str
    terms: list[str]
    severity: str = "medium"
    confidence: float = 0.75
    allow: list[str] = field(default_factory=list)
    # word boundaries: words that straddle a term's first or last character and make the hit part of
    # another word (期待 + 待公布, 无限 + 限内部), and head nouns that, right after a term, make it an
    # attribute rather than an instruction (阅后销毁 + 函数, 内部数据 + 结构)
    joins: list[str] = field(default_factory=list)
    heads: list[str] = field(default_factory=list)
    explanation: str = ""
    suggestion: str = ""
    examples_true: list[str] = field(default_factory=list)
    examples_false: list[str] = field(default_factory=list)
    file: str = ""


@dataclass
class Ruleset:
    rules: list[Rule]
    lexicons: list[Lexicon]
    hash: str
    raw: dict[str, dict] = field(default_factory=dict)   # file name -> parsed TOML (for markings etc.)

    @classmethod
    def load(cls, lexicon_dir: Path) -> "Ruleset":
        h = hashlib.sha256()
        rules: list[Rule] = []
        lexicons: list[Lexicon] = []
        raw: dict[str, dict] = {}
        for path in sorted((lexicon_dir / "rules").glob("*.toml")):
            data = path.read_bytes()
            h.update(path.name.encode() + b"\0" + data)
            doc = tomllib.loads(data.decode("utf-8"))
            raw[path.stem] = doc
            for r in doc.get("rules", []):
                rules.append(_rule_from_dict(r, path.name))
        for path in sorted((lexicon_dir / "terms").glob("*.toml")):
            data = path.read_bytes()
            h.update(path.name.encode() + b"\0" + data)
            doc = tomllib.loads(data.decode("utf-8"))
            meta = {**doc, **doc.get("lexicon", {})}   # keys may sit under [lexicon] or at top level
            doc = meta
            lexicons.append(Lexicon(
                name=path.stem, category=meta["category"], terms=list(doc.get("terms", [])),
                severity=meta.get("severity", "medium"), confidence=float(meta.get("confidence", 0.75)),
                allow=list(doc.get("allow", [])), joins=list(doc.get("joins", [])),
                heads=list(doc.get("heads", [])), explanation=meta.get("explanation", ""),
                suggestion=meta.get("suggestion", ""), examples_true=list(doc.get("examples_true", [])),
                examples_false=list(doc.get("examples_false", [])), file=path.name))
        ids = [r.id for r in rules]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"duplicate rule ids: {sorted(dupes)}")
        return cls(rules=rules, lexicons=lexicons, hash=h.hexdigest()[:16], raw=raw)


def _rule_from_dict(r: dict, file: str) -> Rule:
    flags = re.IGNORECASE if r.get("ignore_case", False) else 0
    return Rule(
        id=r["id"], category=r["category"], regex=re.compile(r["regex"], flags),
        severity=r.get("severity", "medium"), confidence=float(r.get("confidence", 0.8)),
        keywords=list(r.get("keywords", [])), validator=r.get("validator"), group=r.get("group", 0),
        context_plus=list(r.get("context_plus", [])), context_minus=list(r.get("context_minus", [])),
        context_required=bool(r.get("context_required", False)),
        context_window=int(r.get("context_window", 20)),
        context_minus_weight=float(r.get("context_minus_weight", 0.35)),
        allow=[re.compile(a) for a in r.get("allow", [])],
        allow_context=[re.compile(a) for a in r.get("allow_context", [])],
        explanation=r.get("explanation", ""), suggestion=r.get("suggestion", ""),
        examples_true=list(r.get("examples_true", [])), examples_false=list(r.get("examples_false", [])),
        prefilter=re.compile(r["prefilter"], flags) if r.get("prefilter") else None,
        anchors_in_match=bool(r.get("anchors_in_match", False)),
        on=r.get("on", "normalized"), entropy=float(r.get("entropy", 0.0)), file=file)
