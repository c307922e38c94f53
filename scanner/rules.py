"""Rules, term lists, markings and hidden-content messages as data (gitleaks-style TOML in lexicons/),
validated when they load.

lexicons/rules/*.toml   either [[rules]] (pattern rules, `RuleSpec`), or one [marking] file
                        (`MarkingFile`), or one [hidden] file (`HiddenFile`)
lexicons/terms/*.toml   one [lexicon] table (`LexiconSpec`)
lexicons/taxonomy.toml  optional: extra category families and categories (scanner.taxonomy)
lexicons/policy.toml    the decision policy (scanner.policy)

Every file is checked by a typed model (pydantic, unknown keys forbidden): categories are in the
vocabulary, severities are known, regexes compile, a rule's `group` exists in its regex, its
validator exists, examples are present. A bad file raises `ConfigError` naming the file, the rule
id and the field, at start-up (and in the admin editor before saving), never at scan time.

Regexes are compiled with the `regex` module, because admins edit them from a page and detection
runs in the service's worker threads: every match call gets a time limit (`ScanConfig.regex_timeout_s`,
Presidio does the same); the detector skips a rule that runs out of time and the report gets an
error, so the decision is at least review.
"""
from __future__ import annotations

import hashlib
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import regex
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .config import default_lexicon_dir
from .errors import ConfigError, from_validation
from .policy import Policy
from .taxonomy import SEVERITIES, Taxonomy, TaxonomyError
from .validators import VALIDATORS

__all__ = [
    "HiddenFile",
    "Lexicon",
    "LexiconSpec",
    "MarkingFile",
    "Pattern",
    "Rule",
    "RuleSpec",
    "Ruleset",
    "check_file",
    "compile_regex",
    "default_lexicon_dir",
]

Pattern = regex.Pattern
Severity = Literal["info", "low", "medium", "high", "critical"]
assert set(Severity.__args__) == set(SEVERITIES)     # type: ignore[attr-defined]
NonEmpty = Annotated[str, Field(min_length=1)]


def compile_regex(source: str, ignore_case: bool = False) -> regex.Pattern:
    """Compile a rule's regex (regex module, VERSION0 = the `re` dialect). Raises ValueError."""
    try:
        return regex.compile(source, regex.IGNORECASE if ignore_case else 0)
    except regex.error as exc:
        raise ValueError(f"regex does not compile: {exc}") from None


def _placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(f"bad {{placeholder}}: {exc}") from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


def _check_category(value: str, info: ValidationInfo) -> str:
    tx: Taxonomy = (info.context or {}).get("taxonomy") or Taxonomy.load(None)
    problem = tx.check_category(value)
    if problem:
        raise ValueError(problem)
    return value


# -- pattern rules ---------------------------------------------------------------------------------

class RuleSpec(_Strict):
    """One [[rules]] entry."""
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$")]
    category: str
    description: str = ""
    regex: NonEmpty
    ignore_case: bool = False
    # cheap regex searched once per document before `regex`
    prefilter: str | None = None
    # every match contains one of `keywords` (lower-case) and a `prefilter` match: on long texts the
    # regex then runs only on the segments holding such an anchor (same findings, faster)
    anchors_in_match: bool = False
    keywords: list[NonEmpty] = []            # matched case-insensitively (lower-cased at load)
    validator: str | None = None
    # the part to highlight: a group number or name, or "first" (the first group that took part in
    # the match, for alternatives with one value group each)
    group: int | str = 0
    # minimum Shannon entropy (bits per character) of the value (gitleaks)
    entropy: Annotated[float, Field(ge=0, le=8)] = 0.0
    # also match a number split by a line break (a PDF line wrap): reported as one finding per line
    cross_lines: bool = False
    # across a line break: a regex on the seam's text before the value that drops the match (a decimal's
    # fraction, 1.1889561368 then 0 on the next line of a sheet's screenshot)
    cross_lines_not_after: str | None = None
    severity: Severity = "medium"
    confidence: Annotated[float, Field(ge=0, le=1)] = 0.8
    context_plus: list[NonEmpty] = []        # words near the match that raise confidence
    context_minus: list[NonEmpty] = []       # ... that lower it
    context_required: bool = False           # no raising word, no finding
    # regexes on the surrounding text (context_window each side): each must match, or no finding (a
    # travel document's passenger name filled in beside its ticket number)
    context_all: list[str] = []
    # the severity of a finding with no `context_plus` word near it (a licence plate alone: low)
    severity_no_context: Severity | None = None
    context_window: Annotated[int, Field(ge=0, le=10_000)] = 20
    context_minus_weight: Annotated[float, Field(ge=0, le=1)] = 0.35   # what one lowering word takes off
    allow: list[str] = []                    # regexes on the match: a hit drops it
    allow_context: list[str] = []            # regexes on the surrounding text: a hit drops it
    explanation: NonEmpty
    suggestion: NonEmpty
    examples_true: Annotated[list[str], Field(min_length=1)]
    examples_false: Annotated[list[str], Field(min_length=1)]

    _category = field_validator("category")(_check_category)

    @field_validator("regex", "prefilter")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            compile_regex(v)
        return v

    @field_validator("allow", "allow_context", "context_all")
    @classmethod
    def _all_compile(cls, v: list[str]) -> list[str]:
        for i, src in enumerate(v):
            try:
                compile_regex(src)
            except ValueError as exc:
                raise ValueError(f"entry {i}: {exc}") from None
        return v

    @field_validator("validator")
    @classmethod
    def _validator_exists(cls, v: str | None) -> str | None:
        if v is not None and v not in VALIDATORS:
            raise ValueError(f"unknown validator {v!r} (known: {', '.join(sorted(VALIDATORS))})")
        return v

    @field_validator("explanation")
    @classmethod
    def _explanation(cls, v: str) -> str:
        extra = _placeholders(v) - {"text"}
        if extra:
            raise ValueError(f"unknown placeholder(s) {sorted(extra)}; only {{text}} is filled in")
        return v

    @field_validator("group")
    @classmethod
    def _group_exists(cls, g: int | str, info: ValidationInfo) -> int | str:
        if "regex" not in info.data:        # the regex itself is wrong: reported on its own field
            return g
        pat = compile_regex(info.data["regex"], info.data.get("ignore_case", False))
        if isinstance(g, int) and not 0 <= g <= pat.groups:
            raise ValueError(f"group {g} does not exist: the regex has {pat.groups} group(s)")
        if g == "first":
            if pat.groups < 1:
                raise ValueError('group "first" needs at least one group in the regex')
        elif isinstance(g, str) and g not in pat.groupindex:
            raise ValueError(f"group {g!r} is not a named group of the regex (nor \"first\")")
        return g


class RulesFile(_Strict):
    rules: Annotated[list[dict[str, Any]], Field(min_length=1)]


@dataclass(frozen=True)
class Rule:
    """A compiled pattern rule (from a RuleSpec)."""
    id: str
    category: str
    regex: regex.Pattern
    severity: str = "medium"
    confidence: float = 0.8
    keywords: list[str] = field(default_factory=list)      # lower-case
    validator: str | None = None
    group: int | str = 0            # a group number or name, or "first"
    entropy: float = 0.0            # minimum Shannon entropy of the value
    cross_lines: bool = False       # also match a number split by a line break
    cross_lines_not_after: regex.Pattern | None = None
    context_plus: list[str] = field(default_factory=list)
    context_minus: list[str] = field(default_factory=list)
    context_required: bool = False
    context_all: list[regex.Pattern] = field(default_factory=list)
    severity_no_context: str | None = None
    context_window: int = 20
    context_minus_weight: float = 0.35
    allow: list[regex.Pattern] = field(default_factory=list)
    allow_context: list[regex.Pattern] = field(default_factory=list)
    explanation: str = ""
    suggestion: str = ""
    examples_true: list[str] = field(default_factory=list)
    examples_false: list[str] = field(default_factory=list)
    prefilter: regex.Pattern | None = None
    anchors_in_match: bool = False
    file: str = ""

    @classmethod
    def from_spec(cls, s: RuleSpec, file: str) -> Rule:
        return cls(id=s.id, category=s.category, regex=compile_regex(s.regex, s.ignore_case), severity=s.severity,
                   confidence=s.confidence, keywords=[k.lower() for k in s.keywords], validator=s.validator,
                   group=s.group, entropy=s.entropy, cross_lines=s.cross_lines,
                   cross_lines_not_after=compile_regex(s.cross_lines_not_after) if s.cross_lines_not_after else None,
                   context_plus=list(s.context_plus), context_minus=list(s.context_minus),
                   context_required=s.context_required, context_window=s.context_window,
                   context_all=[compile_regex(a) for a in s.context_all], severity_no_context=s.severity_no_context,
                   context_minus_weight=s.context_minus_weight,
                   allow=[compile_regex(a) for a in s.allow], allow_context=[compile_regex(a) for a in s.allow_context],
                   explanation=s.explanation, suggestion=s.suggestion, examples_true=list(s.examples_true),
                   examples_false=list(s.examples_false),
                   prefilter=compile_regex(s.prefilter, s.ignore_case) if s.prefilter else None,
                   anchors_in_match=s.anchors_in_match, file=file)


# -- term lists ------------------------------------------------------------------------------------

class LexiconSpec(_Strict):
    category: str
    severity: Severity = "medium"
    confidence: Annotated[float, Field(ge=0, le=1)] = 0.75
    explanation: NonEmpty
    suggestion: NonEmpty
    terms: Annotated[list[NonEmpty], Field(min_length=1)]
    allow: list[NonEmpty] = []     # phrases that contain a term but are fine
    # word boundaries: words that straddle a term's first or last character and make the hit part of
    # another word (期待 + 待公布, 无限 + 限内部), and head nouns that, right after a term, make it an
    # attribute rather than an instruction (阅后销毁 + 函数, 内部数据 + 结构)
    joins: list[NonEmpty] = []
    heads: list[NonEmpty] = []
    examples_true: Annotated[list[str], Field(min_length=1)]
    examples_false: Annotated[list[str], Field(min_length=1)]

    _category = field_validator("category")(_check_category)

    @field_validator("explanation")
    @classmethod
    def _explanation(cls, v: str) -> str:
        extra = _placeholders(v) - {"term"}
        if extra:
            raise ValueError(f"unknown placeholder(s) {sorted(extra)}; only {{term}} is filled in")
        return v


class LexiconFile(_Strict):
    lexicon: LexiconSpec


@dataclass(frozen=True)
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


# -- markings (lexicons/rules/marking.toml) --------------------------------------------------------

class MarkingPieces(_Strict):
    """Pieces the marking detector assembles into its patterns (see marking.toml's comments)."""
    levels: Annotated[list[NonEmpty], Field(min_length=1)]
    stars: Annotated[list[NonEmpty], Field(min_length=1)]
    number: NonEmpty                      # regex of a period's number
    period: NonEmpty                      # regex of the period after the star; {number} is filled in
    not_after: list[NonEmpty] = []        # words that, right before a level, make it an ordinary noun
    internal: Annotated[list[NonEmpty], Field(min_length=1)]
    internal_companions: list[NonEmpty] = []
    first_lines: Annotated[int, Field(ge=1, le=50)] = 4
    # bracket pairs ("【】") around a mark in the marking position; title pairs (《》): a bare level
    # alone in them is a book title
    brackets: list[Annotated[str, Field(min_length=2, max_length=2)]] = []
    title_brackets: list[Annotated[str, Field(min_length=2, max_length=2)]] = []
    teaching: list[NonEmpty] = []         # words that make a document GB/T 9704 teaching material
    example_headers: list[NonEmpty] = []  # a column header that makes the cells below it examples
    declassified: list[NonEmpty] = []     # notes that the document was declassified
    not_declassified: list[NonEmpty] = [] # words before such a note that negate it (未, 尚未)

    @field_validator("number")
    @classmethod
    def _number(cls, v: str) -> str:
        compile_regex(v)
        return v

    @field_validator("period")
    @classmethod
    def _period(cls, v: str, info: ValidationInfo) -> str:
        compile_regex(v.replace("{number}", info.data.get("number", "")))
        return v

    @field_validator("title_brackets")
    @classmethod
    def _titles(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if not set(v) <= set(info.data.get("brackets", [])):
            raise ValueError("title_brackets must be listed in brackets too")
        return v


class MarkingLabel(_Strict):
    """工作秘密 / 商业秘密 marks: the mark words, the 密级 field values that mean this label, and the marks
    that are never ordinary words (bracketed inline they are marks)."""
    marks: Annotated[list[NonEmpty], Field(min_length=1)]
    field_values: list[NonEmpty] = []
    inline_marks: list[NonEmpty] = []


class MarkingLabels(_Strict):
    work: MarkingLabel | None = None
    commercial: MarkingLabel | None = None


class MarkingEnglish(_Strict):
    """English confidentiality labels (Micron Confidential, Internal Use Only): whole-line labels, the
    wording that may follow one after a dash, and where a line of its own counts (see marking.toml)."""
    confidential: list[NonEmpty] = []     # -> marking.commercial
    internal: list[NonEmpty] = []         # -> marking.internal
    tails: list[NonEmpty] = []
    org_words: Annotated[int, Field(ge=0, le=8)] = 4
    last_lines: Annotated[int, Field(ge=0, le=20)] = 2
    max_chars: Annotated[int, Field(ge=10, le=200)] = 80
    label_properties: list[NonEmpty] = []   # regexes on a file property's name: a sensitivity label
    label_names: list[NonEmpty] = []        # more label names (-> marking.internal) only in those properties

    @field_validator("label_properties")
    @classmethod
    def _props(cls, v: list[str]) -> list[str]:
        for p in v:
            compile_regex(p)
        return v


DisclosureSeverity = Literal["medium", "low", "none"]


class Disclosure(_Strict):
    """政府信息公开属性: field names, field values and standalone lines with their severity ("none": not
    reported), and statements that count anywhere in the text unquoted."""
    fields: list[NonEmpty] = []
    values: dict[NonEmpty, DisclosureSeverity] = {}
    lines: dict[NonEmpty, DisclosureSeverity] = {}
    inline: list[NonEmpty] = []


class MarkingMessage(_Strict):
    explanation: NonEmpty
    explanation_inline: str | None = None
    explanation_low: str | None = None      # disclosure: a low-severity value (依申请公开)
    suggestion: NonEmpty

    @model_validator(mode="after")
    def _fields(self) -> MarkingMessage:
        for text in (self.explanation, self.explanation_inline or "", self.explanation_low or "", self.suggestion):
            extra = _placeholders(text) - {"text", "position", "note"}
            if extra:
                raise ValueError(f"unknown placeholder(s) {sorted(extra)}; only {{text}}, {{position}} and {{note}} "
                                 "are filled in")
        return self


class MarkingMessages(_Strict):
    level: MarkingMessage
    field: MarkingMessage
    internal: MarkingMessage
    work: MarkingMessage | None = None
    commercial: MarkingMessage | None = None
    disclosure: MarkingMessage | None = None
    declassified: MarkingMessage | None = None     # {note}: the declassification note found
    example: MarkingMessage | None = None          # a mark in a GB/T 9704 teaching table
    english: MarkingMessage | None = None          # an English confidentiality label (Micron Confidential)

    @model_validator(mode="after")
    def _inline(self) -> MarkingMessages:
        if not self.level.explanation_inline:
            raise ValueError("level.explanation_inline is required (a marking form inside running text)")
        return self


class MarkingExamples(_Strict):
    true: Annotated[list[str], Field(min_length=1)]      # whole drafts that block
    review: list[str] = []                                # ... that go to review
    false: Annotated[list[str], Field(min_length=1)]     # ... that pass


class MarkingFile(_Strict):
    marking: MarkingPieces
    labels: MarkingLabels = MarkingLabels()
    disclosure: Disclosure = Disclosure()
    english: MarkingEnglish = MarkingEnglish()
    messages: MarkingMessages
    examples: MarkingExamples

    @model_validator(mode="after")
    def _messages_present(self) -> MarkingFile:
        need = {"work": self.labels.work, "commercial": self.labels.commercial,
                "disclosure": self.disclosure.fields or self.disclosure.lines or self.disclosure.inline,
                "declassified": self.marking.declassified,
                "example": self.marking.teaching or self.marking.example_headers,
                "english": self.english.confidential or self.english.internal}
        for name, used in need.items():
            if used and getattr(self.messages, name) is None:
                raise ValueError(f"[messages.{name}] is required when its marks are configured")
        if self.messages.disclosure and "low" in {*self.disclosure.values.values(), *self.disclosure.lines.values()} \
                and not self.messages.disclosure.explanation_low:
            raise ValueError("messages.disclosure.explanation_low is required for low-severity values")
        return self


# -- hidden content messages (lexicons/rules/hidden.toml) ------------------------------------------

HIDDEN_LAYERS = ("revision", "comment", "hidden", "metadata", "redaction")
FORMAT_FAMILIES = ("html", "pdf", "sheet", "slides")


class HiddenMessage(_Strict):
    explanation: NonEmpty
    suggestion: NonEmpty
    # suggestions by the file's format family (html, pdf, sheet, slides) instead of `suggestion`
    suggestion_by_format: dict[Literal["html", "pdf", "sheet", "slides"], NonEmpty] = {}


class HiddenMessages(_Strict):
    revision: HiddenMessage
    comment: HiddenMessage
    hidden: HiddenMessage
    metadata: HiddenMessage
    redaction: HiddenMessage
    exif_gps: HiddenMessage

    @model_validator(mode="after")
    def _placeholders(self) -> HiddenMessages:
        allowed = {"what", "who", "snippet", "where"}
        for name in (*HIDDEN_LAYERS, "exif_gps"):
            extra = _placeholders(getattr(self, name).explanation) - allowed
            if extra:
                raise ValueError(f"{name}.explanation: unknown placeholder(s) {sorted(extra)}; "
                                 f"filled in: {sorted(allowed)}")
        return self


class HiddenFile(_Strict):
    hidden: HiddenMessages
    kinds: dict[str, NonEmpty]            # locator kind -> Chinese name (插入, 隐藏文字, ...)
    fields: dict[str, NonEmpty]           # metadata field -> Chinese name (作者, 标题, ...)


# -- loading ---------------------------------------------------------------------------------------

def _config_error(exc: ValidationError, file: str, rule_id: str = "", base: tuple = ()) -> ConfigError:
    return from_validation(exc, file=file, rule_id=rule_id, base=base, known_keys=_KNOWN_KEYS)


_KNOWN_KEYS = {k for m in (RuleSpec, LexiconSpec, LexiconFile, MarkingPieces, MarkingMessage, MarkingMessages,
                             MarkingExamples, MarkingFile, HiddenMessage, HiddenMessages, HiddenFile)
               for k in m.model_fields}


def _parse_toml(data: bytes, file: str) -> dict:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"not valid UTF-8 TOML: {exc}", file=file) from None


@dataclass(frozen=True)
class Ruleset:
    rules: list[Rule]
    lexicons: list[Lexicon]
    hash: str
    marking: MarkingFile | None = None
    hidden: HiddenFile | None = None
    taxonomy: Taxonomy = field(default_factory=lambda: Taxonomy.load(None))
    lexicon_dir: Path | None = None

    @classmethod
    def load(cls, lexicon_dir: Path) -> Ruleset:
        """Load and validate every rule and term file of a lexicon directory (ConfigError if any is bad)."""
        lexicon_dir = Path(lexicon_dir)
        if not (lexicon_dir / "rules").is_dir() or not any((lexicon_dir / "rules").glob("*.toml")):
            # a wrong directory must not load as "no rules" (everything would pass)
            raise ConfigError("no rule files here (rules/*.toml)", file=str(lexicon_dir))
        try:
            taxonomy = Taxonomy.load(lexicon_dir)
        except TaxonomyError as exc:
            raise ConfigError(str(exc), file="taxonomy.toml") from None
        h = hashlib.sha256()
        if (lexicon_dir / "taxonomy.toml").is_file():
            h.update(b"taxonomy.toml\0" + (lexicon_dir / "taxonomy.toml").read_bytes())
        parts: dict[str, Any] = {"rules": [], "lexicons": [], "marking": None, "hidden": None}
        for path in sorted((lexicon_dir / "rules").glob("*.toml")):
            data = path.read_bytes()
            h.update(path.name.encode() + b"\0" + data)
            _load_rule_file(f"rules/{path.name}", _parse_toml(data, f"rules/{path.name}"), taxonomy, parts)
        for path in sorted((lexicon_dir / "terms").glob("*.toml")):
            data = path.read_bytes()
            h.update(path.name.encode() + b"\0" + data)
            parts["lexicons"].append(_load_term_file(f"terms/{path.name}", path.stem,
                                                     _parse_toml(data, f"terms/{path.name}"), taxonomy))
        seen: dict[str, str] = {}
        for r in parts["rules"]:
            if r.id in seen:
                raise ConfigError(f"duplicate rule id (also in {seen[r.id]})", file=r.file, rule_id=r.id, field="id")
            seen[r.id] = r.file
        return cls(rules=parts["rules"], lexicons=parts["lexicons"], hash=h.hexdigest()[:16],
                   marking=parts["marking"], hidden=parts["hidden"], taxonomy=taxonomy, lexicon_dir=lexicon_dir)


def _load_rule_file(file: str, doc: dict, taxonomy: Taxonomy, parts: dict) -> None:
    ctx = {"taxonomy": taxonomy}
    if "rules" in doc:
        try:
            RulesFile.model_validate(doc)
        except ValidationError as exc:
            raise _config_error(exc, file) from None
        for i, r in enumerate(doc["rules"]):
            rid = r.get("id", f"#{i + 1}") if isinstance(r, dict) else f"#{i + 1}"
            try:
                spec = RuleSpec.model_validate(r, context=ctx)
            except ValidationError as exc:
                raise _config_error(exc, file, str(rid)) from None
            parts["rules"].append(Rule.from_spec(spec, file.rsplit("/", 1)[-1]))
        return
    for key, model in (("marking", MarkingFile), ("hidden", HiddenFile)):
        if key in doc:
            if parts[key] is not None:
                raise ConfigError(f"a second [{key}] file", file=file)
            try:
                parts[key] = model.model_validate(doc, context=ctx)
            except ValidationError as exc:
                raise _config_error(exc, file) from None
            return
    raise ConfigError("a rule file holds [[rules]], [marking] or [hidden]", file=file,
                      field=", ".join(doc) or "(empty)")


def _load_term_file(file: str, name: str, doc: dict, taxonomy: Taxonomy) -> Lexicon:
    try:
        spec = LexiconFile.model_validate(doc, context={"taxonomy": taxonomy}).lexicon
    except ValidationError as exc:
        raise _config_error(exc, file) from None
    return Lexicon(name=name, category=spec.category, terms=list(spec.terms), severity=spec.severity,
                   confidence=spec.confidence, allow=list(spec.allow), joins=list(spec.joins),
                   heads=list(spec.heads), explanation=spec.explanation,
                   suggestion=spec.suggestion, examples_true=list(spec.examples_true),
                   examples_false=list(spec.examples_false), file=file.rsplit("/", 1)[-1])


def check_file(lexicon_dir: Path, rel: str, data: bytes) -> None:
    """Validate one file's new content as it would load in `lexicon_dir` (the admin editor, before
    saving). Raises ConfigError naming the file, the rule id and the field."""
    rel = rel.replace("\\", "/")
    doc = _parse_toml(data, rel)
    try:
        taxonomy = Taxonomy.load(lexicon_dir)
    except TaxonomyError as exc:
        raise ConfigError(str(exc), file="taxonomy.toml") from None
    if rel.startswith("rules/"):
        _load_rule_file(rel, doc, taxonomy, {"rules": [], "lexicons": [], "marking": None, "hidden": None})
    elif rel.startswith("terms/"):
        _load_term_file(rel, Path(rel).stem, doc, taxonomy)
    elif rel == "policy.toml":
        Policy.loads(data, file=rel)
    elif rel == "taxonomy.toml":
        try:
            Taxonomy.load(None).extension_from_text(data.decode("utf-8", "replace"), rel)
        except TaxonomyError as exc:
            raise ConfigError(str(exc), file=rel) from None
