"""The one vocabulary of the scanner: category families and categories, layers, severities and
decisions, with their ranks, Chinese labels (for people) and display colours.

Everything that names, ranks, labels or colours one of these reads it from here: the rule loader
(a rule's category must be known), the policy (decision ranks), the merge (severity ranks), the
report writers and the reviewer pages.

Adding a category family is two files: the rule (or term) file that emits it, and a `Family`
entry below. A deployment may instead add families and categories without touching code, in an
optional `taxonomy.toml` beside the rules in its lexicon directory (see `Taxonomy.load`):

    [[family]]
    name = "org"             # the prefix, [a-z][a-z0-9_]*
    zh = "机构信息"
    icon = "机"               # a glyph shown beside the colour (readable without colour vision)
    colour = "#37474f"        # text / border colour
    background = "#dde3e6"    # highlight background
    open = true               # any org.* category is accepted; false: only listed categories

    [[category]]
    name = "org.unit"
    zh = "内设机构"

Category names are dotted (`family.sub[.more]`); integrators filter on prefixes, so they are an API.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

# -- severities ------------------------------------------------------------------------------------

SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")     # ascending
SEVERITY_RANK: Mapping[str, int] = MappingProxyType({s: i for i, s in enumerate(SEVERITIES)})
SEVERITY_ZH: Mapping[str, str] = MappingProxyType(
    {"critical": "严重", "high": "高", "medium": "中", "low": "低", "info": "提示"})

# -- decisions -------------------------------------------------------------------------------------

DECISIONS: tuple[str, ...] = ("pass", "review", "block")                          # ascending
DECISION_RANK: Mapping[str, int] = MappingProxyType({d: i for i, d in enumerate(DECISIONS)})
DECISION_ZH: Mapping[str, str] = MappingProxyType({"pass": "通过", "review": "需人工审查", "block": "禁止发布"})
DECISION_COLOUR: Mapping[str, str] = MappingProxyType({"pass": "#1b7d3a", "review": "#a66300", "block": "#b3261e"})

# -- layers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    name: str
    zh: str
    visible: bool      # what a reader of the published page sees (redaction checks, summaries)
    doc: str = ""


_LAYERS = (
    Layer("body", "正文", True, "visible main text"),
    Layer("table", "表格", True, "visible table cell text"),
    Layer("ocr", "图片文字", True, "text read from an image or a scanned page (location: page, image, box)"),
    Layer("header", "页眉", True, "page header (docx section header, pdf top lines)"),
    Layer("footer", "页脚", True, "page footer"),
    Layer("note", "脚注/尾注", True, "footnotes, endnotes, speaker notes"),
    Layer("comment", "批注", False, "docx comments, html comments, pdf annotations"),
    Layer("revision", "修订痕迹", False, "tracked insertion/deletion/move text"),
    Layer("hidden", "隐藏内容", False, "vanished runs, white/tiny/invisible text, display:none, hidden sheets"),
    Layer("redaction", "遮盖区域下", False, "text under a filled box"),
    Layer("metadata", "文档属性", False, "document properties"),
    Layer("script", "脚本/样式", False, "html script/style"),
    Layer("attachment", "附件", False, "embedded files / archive members (locator says which)"),
)
LAYER_INFO: Mapping[str, Layer] = MappingProxyType({layer.name: layer for layer in _LAYERS})
LAYERS: tuple[str, ...] = tuple(LAYER_INFO)            # display order
LAYER_ORDER = LAYERS
LAYER_ZH: Mapping[str, str] = MappingProxyType({layer.name: layer.zh for layer in _LAYERS})
VISIBLE_LAYERS: tuple[str, ...] = tuple(layer.name for layer in _LAYERS if layer.visible)

# -- category families and categories --------------------------------------------------------------

OTHER = "other"     # the family key of a category whose family is unknown (pages, summaries)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$")     # safe inside CSS and style attributes


@dataclass(frozen=True)
class Family:
    name: str
    zh: str
    icon: str
    colour: str             # text / border colour
    background: str         # highlight background
    open: bool = False      # True: any `name.*` category is accepted (term.<lexicon>, passage.<label>)
    categories: Mapping[str, str] = field(default_factory=dict)     # full category -> zh


_FAMILIES = (
    Family("marking", "密级标志", "★", "#c62828", "#ffd3d3", categories={
        "marking.level": "国家秘密标志", "marking.field": "密级字段", "marking.internal": "内部标志",
        "marking.work": "工作秘密标志", "marking.commercial": "商业秘密标志",
        "marking.disclosure": "公开属性标注"}),
    Family("pii", "个人信息", "人", "#b86e00", "#ffe2ad", categories={
        "pii.id_card": "身份证号", "pii.phone": "电话号码", "pii.bank_card": "银行卡号", "pii.email": "电子邮箱",
        "pii.passport": "护照号", "pii.address": "详细地址", "pii.name": "姓名", "pii.plate": "车牌号",
        "pii.travel_record": "出行记录", "pii.records": "个人记录表"}),
    Family("secret", "口令密钥/内网", "钥", "#7b3fb5", "#ecdcff", categories={
        "secret.credential": "口令/密钥", "secret.token": "访问令牌", "secret.intranet": "内网地址"}),
    Family("geo", "精确坐标", "◎", "#00796b", "#c9f0e9", categories={"geo.coordinates": "精确坐标"}),
    Family("term", "敏感用语", "词", "#7c7a12", "#f4f1a0", open=True, categories={
        "term.internal": "内部用语", "term.military": "军事用语", "term.unreleased": "未公开信息",
        "term.vulnerability": "安全漏洞", "term.quotation": "未公开报价"}),
    Family("passage", "敏感段落", "¶", "#1e66c8", "#d7e6ff", open=True),
    Family("hidden", "隐藏内容", "隐", "#4a4a4a", "#e3e3e3", categories={
        "hidden.revision": "修订痕迹", "hidden.comment": "批注", "hidden.text": "隐藏文字",
        "hidden.metadata": "文档属性", "hidden.redaction": "遮盖未清除"}),
)
OTHER_FAMILY = Family(OTHER, "其他", "?", "#6d4c41", "#eadfd9", open=True)


class TaxonomyError(ValueError):
    """A vocabulary file is malformed (the rule loader turns it into a ConfigError)."""


class Taxonomy:
    """Families (in display order) and their categories. Immutable; `extended` returns a new one."""

    def __init__(self, families: Iterable[Family]):
        fams: dict[str, Family] = {}
        for fam in families:
            if not _NAME.match(fam.name) or fam.name == OTHER:
                raise TaxonomyError(f"family name {fam.name!r} must match {_NAME.pattern} and not be {OTHER!r}")
            if fam.name in fams:
                raise TaxonomyError(f"family {fam.name!r} defined twice")
            if not (_COLOUR.match(fam.colour) and _COLOUR.match(fam.background)):
                raise TaxonomyError(f"family {fam.name!r}: colours must be #rgb or #rrggbb")
            if not fam.zh or not 1 <= len(fam.icon) <= 3 or any(c in fam.icon for c in "\"'\\<>&;{}"):
                raise TaxonomyError(f"family {fam.name!r}: needs a zh label and an icon of 1-3 plain characters")
            for cat in fam.categories:
                if not _CATEGORY.match(cat) or cat.split(".")[0] != fam.name or "." not in cat:
                    raise TaxonomyError(f"category {cat!r} must be {fam.name}.<sub>")
            fams[fam.name] = Family(fam.name, fam.zh, fam.icon, fam.colour, fam.background, fam.open,
                                    MappingProxyType(dict(fam.categories)))
        self._families: Mapping[str, Family] = MappingProxyType(fams)

    # -- reading ------------------------------------------------------------------------------
    @property
    def families(self) -> Mapping[str, Family]:
        return self._families

    @property
    def family_names(self) -> tuple[str, ...]:
        return tuple(self._families)

    def family(self, category: str) -> Family:
        """The family of a category (or a family name); OTHER_FAMILY when unknown."""
        return self._families.get(family_of(category), OTHER_FAMILY)

    def family_key(self, category: str) -> str:
        """The family name if known, else "other": safe as a CSS class name (never from data)."""
        return self.family(category).name

    def family_zh(self, category: str) -> str:
        return self.family(category).zh

    def category_zh(self, category: str) -> str:
        """The Chinese label of a category: its own, else its family's ("其他" when unknown)."""
        fam = self.family(category)
        return fam.categories.get(category) or fam.zh

    def categories(self) -> dict[str, str]:
        return {c: zh for fam in self._families.values() for c, zh in fam.categories.items()}

    def check_category(self, category: str) -> str | None:
        """None when `category` is part of the vocabulary, else why not (English, for ConfigError)."""
        if not isinstance(category, str) or not _CATEGORY.match(category) or "." not in category:
            return f"category {category!r} must be a dotted lower-case name like 'pii.phone'"
        fam = self._families.get(family_of(category))
        if fam is None:
            return (f"unknown category family {family_of(category)!r} (known: {', '.join(self._families)}); "
                    "add it to scanner/taxonomy.py or the lexicon's taxonomy.toml")
        if not fam.open and category not in fam.categories:
            return (f"unknown category {category!r} (known in {fam.name}: {', '.join(fam.categories)}); "
                    "add it to scanner/taxonomy.py or the lexicon's taxonomy.toml")
        return None

    def css(self, selector: str = "mark.c-{name}") -> str:
        """Colour rules for every family plus "other", e.g. for a standalone HTML report."""
        return "".join(selector.format(name=f.name) + "{background:" + f.background + ";border-bottom-color:"
                       + f.colour + "}" for f in (*self._families.values(), OTHER_FAMILY))

    # -- building -----------------------------------------------------------------------------
    def extended(self, families: Iterable[Family] = (), categories: Mapping[str, str] | None = None) -> Taxonomy:
        """A new taxonomy with extra families and extra categories (of new or existing families)."""
        fams = dict(self._families)
        for fam in families:
            if fam.name in fams:
                raise TaxonomyError(f"family {fam.name!r} already defined")
            fams[fam.name] = fam
        for cat, zh in (categories or {}).items():
            name = family_of(cat)
            if name not in fams:
                raise TaxonomyError(f"category {cat!r}: unknown family {name!r}")
            old = fams[name]
            if cat in old.categories:
                raise TaxonomyError(f"category {cat!r} already defined")
            fams[name] = Family(old.name, old.zh, old.icon, old.colour, old.background, old.open,
                                {**old.categories, cat: zh})
        return Taxonomy(fams.values())

    def load_extension(self, path: Path) -> Taxonomy:
        """`self` extended by a taxonomy.toml file (format in the module docstring)."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TaxonomyError(f"{path.name}: {exc}") from exc
        return self.extension_from_text(text, path.name)

    def extension_from_text(self, text: str, name: str = "taxonomy.toml") -> Taxonomy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise TaxonomyError(f"{name}: {exc}") from exc
        unknown = set(data) - {"family", "category"}
        if unknown:
            raise TaxonomyError(f"{name}: unknown table(s) {sorted(unknown)}")
        fam_keys = {"name", "zh", "icon", "colour", "background", "open"}
        families = []
        for i, f in enumerate(data.get("family", [])):
            extra = set(f) - fam_keys
            missing = {"name", "zh"} - set(f)
            if extra or missing:
                raise TaxonomyError(f"{name}: family[{i}]: unknown keys {sorted(extra)} / missing {sorted(missing)}")
            families.append(Family(f["name"], f["zh"], f.get("icon", OTHER_FAMILY.icon),
                                   f.get("colour", OTHER_FAMILY.colour), f.get("background", OTHER_FAMILY.background),
                                   bool(f.get("open", False))))
        cats = {}
        for i, c in enumerate(data.get("category", [])):
            if set(c) != {"name", "zh"}:
                raise TaxonomyError(f"{name}: category[{i}]: keys must be exactly name, zh")
            cats[c["name"]] = c["zh"]
        try:
            return self.extended(families, cats)
        except TaxonomyError as exc:
            raise TaxonomyError(f"{name}: {exc}") from exc

    @classmethod
    def load(cls, lexicon_dir: Path | None) -> Taxonomy:
        """The built-in vocabulary, extended by `lexicon_dir/taxonomy.toml` when that file exists."""
        if lexicon_dir is not None and (Path(lexicon_dir) / "taxonomy.toml").is_file():
            return TAXONOMY.load_extension(Path(lexicon_dir) / "taxonomy.toml")
        return TAXONOMY


TAXONOMY = Taxonomy(_FAMILIES)     # the built-in vocabulary

# -- helpers over the built-in vocabulary (pass a Taxonomy for a lexicon's own) --------------------


def family_of(category: str) -> str:
    """The family prefix of a dotted category: "pii.phone" -> "pii"."""
    return (category or "").split(".", 1)[0]


def category_zh(category: str, taxonomy: Taxonomy | None = None) -> str:
    return (taxonomy or TAXONOMY).category_zh(category)


def family_zh(category: str, taxonomy: Taxonomy | None = None) -> str:
    return (taxonomy or TAXONOMY).family_zh(category)


def family_key(category: str, taxonomy: Taxonomy | None = None) -> str:
    return (taxonomy or TAXONOMY).family_key(category)


def severity_zh(severity: str) -> str:
    return SEVERITY_ZH.get(severity, severity)


def decision_zh(decision: str) -> str:
    return DECISION_ZH.get(decision, decision)


def layer_zh(layer: str) -> str:
    return LAYER_ZH.get(layer, layer)


def max_decision(decisions: Iterable[str]) -> str:
    """The strongest of the decisions ("pass" for none)."""
    return max(decisions, key=DECISION_RANK.__getitem__, default="pass")


# Built-in tables in the shapes older modules used (re-exported there until they switch)
FAMILY_ORDER: tuple[str, ...] = TAXONOMY.family_names
FAMILY_ZH: Mapping[str, str] = MappingProxyType({f.name: f.zh for f in (*_FAMILIES, OTHER_FAMILY)})
FAMILY_ICON: Mapping[str, str] = MappingProxyType({f.name: f.icon for f in (*_FAMILIES, OTHER_FAMILY)})
CATEGORY_ZH: Mapping[str, str] = MappingProxyType(TAXONOMY.categories())
