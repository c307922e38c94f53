"""Severity follows harm (issue 16): post-processing steps, run after every detector, that tell a
private person's data from published institutional data. The knowledge is data
(lexicons/harm.toml, with true/false examples); this module only applies it.

Steps, in order (each documented in harm.toml):
1. addresses that are not addresses: case numbers, already-masked addresses -> dropped;
2. e-mail: institutional domains, placeholder (xxx@) and role mailboxes (info@, hr@), an organisation's mailbox on a domain
   the document names, an author's or tool's address in the file properties, the authors' mailboxes
   on a published paper's first page, an analyst's work mailbox in a securities research report
   (执业证书编号 S…) -> low; then (2b) every other occurrence of a mailbox so
   lowered as an organisation's -> low, unless a residence/personal cue stands near it;
3. organisation contact lines: a mobile, address or e-mail (not a free-mail one) beside an organisation's
   registration data or in a contact block (单位名称 … 联系人 … 邮箱) whose lines or heading name an
   organisation, without a residence/personal cue nearby, or anywhere in a licence issued to an organisation
   (a holder-type field: 经济类型 有限责任公司) without such a cue in the document -> low;
3b. a published tender or procurement document (procurement): a mobile or mailbox (free-mail ones
   included) with a role of the procurement nearby (联系人, 采购人, 代理机构, 报名, 答疑, 质疑, 举报,
   监督; a table cell reads its row and the table's header row), a mailto: link in the file
   properties, an organisation's bid-bond account (开户名/户名/收款单位 naming an organisation), and a
   confidentiality clause binding the supplier, the contract's parties or the evaluators
   (投标人应对…保密, 评标过程严格保密) -> low, unless a personal cue (or, for the clause, a status
   word of the draft itself) stands near;
4. copy-only restrictions (严禁复制 alone) -> low;
5. hidden layers: generator banners dropped, template-only comments, form hints and placeholder
   comments (必填, 批注的内容), comments holding only their author's label (aa:) and trivial boxes -> low;
6. names: form words dropped; a name raised for personal data that is no longer medium goes back
   to low; by default (names_report="relevant") a name is kept only where it matters;
7. file properties: plain fields -> info, unless another medium+ finding sits on the same property;
8. status words (尚未公开, 尚未发布) and unpublished passages in a law, regulation, judgment or
   standard, without a restriction nearby -> low: the text's general language, not the draft's status;
9. the fixed usage notes of an e-invoice format (仅供电子报销入账查阅和电子归档使用) -> low;
10. hidden text that hides nothing: trivial (a page number, a short number, a year), a workbook's
    cached external-link cells, the rows of a collapsed outline group, text also visible, page furniture on most pages -> low, unless
    another detector's medium+ finding sits on it.

Each lowered finding carries an evidence code ("harm:<step>") saying why. The rules themselves are
loaded and compiled in scanner.harmrules (HarmRules), which the names detector reads as well.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from . import validators
from .harmrules import PERSONAL, HarmRules
from .model import Finding, Segment, near_text
from .taxonomy import SEVERITY_RANK, VISIBLE_LAYERS

NAMES_REPORT = ("relevant", "all")
NAME_LOW_EXPLANATION = "模型识别出人名。单独出现的人名风险较低；如为自然人且附有身份证号、电话、住址等个人信息，应去标识化。"


_PUNCT = re.compile(r"[\s，,。.；;：:、]+")


# -- helpers ------------------------------------------------------------------------------------

def _lower(f: Finding, severity: str, step: str, why: str | None = None) -> Finding:
    """f with a lower severity (a copy: findings are frozen), or f itself when not lower."""
    if SEVERITY_RANK[severity] < SEVERITY_RANK[f.severity]:
        return replace(f, severity=severity, evidence=f.evidence + [f"harm:{step}"],
                       explanation=f.explanation.rstrip("。") + "。" + why if why else f.explanation)
    return f


def _cjk(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")


def is_template_only(rules: HarmRules, text: str) -> bool:
    if not rules.template_tag.search(text):
        return False
    return _cjk(rules.template_tag.sub("", text)) <= rules.template_rest_max_cjk


def is_uscc(rules: HarmRules, code: str) -> bool:
    """A match of the code pattern is an organisation's code, not a resident ID number: one of an
    ID's shape ([organisation] uscc_id_shape) only with a right GB 32100 check and not a valid ID."""
    v = code.upper()
    if not rules.uscc_id_shape.match(v):
        return True
    return validators.uscc(v) and not validators.resident_id(v)


def uscc_in(rules: HarmRules, text: str) -> bool:
    return any(is_uscc(rules, m.group()) for m in rules.uscc.finditer(text))


def organisation_context(rules: HarmRules, segs: list[Segment], seg_id: int, rule_id: str = "") -> bool:
    near = near_text(segs, seg_id, rules.org_window)
    if not (uscc_in(rules, near) or rules.org_name.search(near)
            or (rule_id in rules.institutional_mail_rules
                and any(email_is_institutional(rules, m.group()) for m in _MAILBOX.finditer(near)))):
        return False
    cue = near_text(segs, seg_id, rules.org_cue_window)
    return not (rules.residence_cue.search(cue) or rules.block_personal.search(cue))


def contact_block(rules: HarmRules, segs: list[Segment], seg_id: int) -> bool:
    """The finding's line is one of a block of contact-labelled lines (单位名称 … 地址 … 联系人 …
    邮箱) whose lines or heading name an organisation, without a personal label in the block or a
    residence/personal cue near the finding."""
    if not (0 <= seg_id < len(segs)) or not rules.contact_label.match(segs[seg_id].text):
        return False
    layer = segs[seg_id].layer
    lines = [segs[seg_id].text]
    i = seg_id - 1
    while i >= 0 and segs[i].layer == layer and len(lines) <= rules.block_max:
        lines.append(segs[i].text)
        if not rules.contact_label.match(segs[i].text):
            break                   # the block's heading
        i -= 1
    block = "\n".join(lines)
    if not (uscc_in(rules, block) or rules.org_name.search(block)) or rules.block_personal.search(block):
        return False
    return not rules.residence_cue.search(near_text(segs, seg_id, rules.org_cue_window))


def organisation_holder(rules: HarmRules, segs: list[Segment]) -> bool:
    """A licence or certificate of an organisation: a holder-type label and an organisation type as
    a field's value (经济类型 … 有限责任公司), and no residence or personal cue in the whole document."""
    body = [s for s in segs if s.layer not in ("metadata", "comment", "revision", "hidden")]
    if not any(rules.holder_label.search(s.text) for s in body) \
            or not any(rules.holder_type.match(s.text) for s in body):
        return False
    return not any(rules.residence_cue.search(s.text) for s in body)


def normative_document(rules: HarmRules, segs: list[Segment]) -> bool:
    """A law, a regulation or a published judgment: enough lines opening with 第…条, or a judgment's headings."""
    articles = 0
    for s in segs:
        if s.layer in ("metadata", "comment", "revision"):
            continue
        if rules.norm_judgment.search(s.text):
            return True
        articles += len(rules.norm_article.findall(s.text))
        if articles >= rules.norm_min_articles:
            return True
    return False


def email_is_institutional(rules: HarmRules, address: str) -> bool:
    domain = address.rsplit("@", 1)[-1].strip().rstrip(".").lower()
    return any(p.search(domain) for p in rules.email_domains)


_LOCAL_SPLIT = re.compile(r"[._+-]+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_NOT_DIGIT = re.compile(r"\D+")
_MAILBOX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9.-]+")


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().rstrip(".").lower()


def email_is_role(rules: HarmRules, address: str) -> bool:
    """info@, hr@, kefu2020@: a local part naming a function. On a free-mail domain the whole local
    part (digits aside) must be a role word, elsewhere one of its parts."""
    local = address.rsplit("@", 1)[0].lower()
    if _domain(address) in rules.free_mail:
        return re.sub(r"\d+", "", local).strip("._+-") in rules.email_roles
    parts = [re.sub(r"\d+", "", p) for p in _LOCAL_SPLIT.split(local)]
    return local in rules.email_roles or any(p in rules.email_roles for p in parts if p)


def domain_name(rules: HarmRules, address: str) -> str:
    """The domain's label before its public suffix (suwell for market@suwell.cn, pilatusaircraft for
    pilatus-aircraft.com), letters and digits only; empty for a free-mail domain."""
    dom = _domain(address)
    if dom in rules.free_mail:
        return ""
    labels = dom.split(".")
    n = next((len(sfx.split(".")) for sfx in rules.domain_suffixes if dom.endswith("." + sfx)), 1)
    if len(labels) <= n:
        return ""
    return _NOT_ALNUM.sub("", labels[-n - 1])


def document_names(segs: list[Segment]) -> str:
    """The document's text outside mail addresses, lower case, letters and digits only."""
    return _NOT_ALNUM.sub("", _MAILBOX.sub(" ", "\n".join(s.text for s in segs)).lower())


def is_form_hint(rules: HarmRules, text: str) -> bool:
    return bool(rules.form_hint.fullmatch(_PUNCT.sub("", text).strip()))


def paper_author_segments(rules: HarmRules, segs: list[Segment]) -> tuple[set[int], set[int]]:
    """Ids of the segments where a published paper prints its authors' contact data, on the first
    page (a document without pages counts as one): (the author block: the lines before the first
    abstract heading, plus the footnote; the correspondence footnote's lines alone). Both empty when
    the first page has no abstract heading (a line opening with the heading word counts when the
    page also prints a front-matter mark such as 中图分类号)."""
    first = [s for s in segs if s.layer in ("body", "ocr") and s.locator.get("page", 1) == 1]
    heads = [i for i, s in enumerate(first) if rules.paper_heading.match(s.text)]
    if not heads and any(rules.paper_mark.match(s.text) for s in first):
        heads = [i for i, s in enumerate(first) if rules.paper_heading_loose.match(s.text)]
    if not heads:
        return set(), set()
    w = rules.correspondence_window
    notes = {s.id for i, s in enumerate(first)
             if any(rules.correspondence.search(t.text) for t in first[max(0, i - w):i + 1])}
    return {s.id for s in first[:heads[0]]} | notes, notes


class _Lazy:
    """A value computed on first use (the document's text, only when an e-mail needs it)."""
    def __init__(self, make):
        self._make, self._value = make, None

    def get(self) -> str:
        if self._value is None:
            self._value = self._make()
        return self._value


def organisation_mailbox(rules: HarmRules, f: Finding, segs: list[Segment], doc_names: _Lazy) -> bool:
    name = domain_name(rules, f.text)
    if len(name) < rules.domain_name_min or name not in doc_names.get():
        return False
    return not rules.residence_cue.search(near_text(segs, f.segment_id, rules.org_cue_window))


_WS = re.compile(r"\s+")


def procurement_document(rules: HarmRules, segs: list[Segment]) -> bool:
    """A tender or procurement document: at least `min_cues` distinct procurement words in its
    visible text."""
    seen: set[str] = set()
    for s in segs:
        if s.layer not in VISIBLE_LAYERS:
            continue
        seen.update(rules.proc_cue.findall(_WS.sub("", s.text)))
        if len(seen) >= rules.proc_min_cues:
            return True
    return False


class _Rows:
    """The table rows of a document's segments, one index for every step that reads a row: a cell's
    row key (a cell of a table row shares it with the row's other cells; a segment outside a table
    has its own) and the text of a cell's row and of its table's first row. Built on first use."""
    def __init__(self, segs: list[Segment]):
        self._segs = segs
        self._rows: dict | None = None      # (layer, table) -> row -> cell texts

    @staticmethod
    def _cell_of(seg: Segment) -> tuple | None:
        """(layer, table, row) of a table cell, None for any other segment."""
        if "table" not in seg.locator or "row" not in seg.locator:
            return None
        return seg.layer, seg.locator["table"], seg.locator["row"]

    def _cell(self, seg_id: int) -> tuple | None:
        return self._cell_of(self._segs[seg_id]) if 0 <= seg_id < len(self._segs) else None

    def tables_where(self, test) -> set:
        """(layer, table) of the tables with a cell (any segment with a table locator) whose text passes `test`."""
        return {(s.layer, s.locator.get("table")) for s in self._segs if "table" in s.locator and test(s.text)}

    def key(self, seg_id: int) -> tuple:
        cell = self._cell(seg_id)
        return ("row", *cell) if cell else ("seg", seg_id)

    def context(self, seg_id: int) -> str:
        cell = self._cell(seg_id)
        if cell is None:
            return ""
        if self._rows is None:
            rows: dict = {}
            for s in self._segs:
                c = self._cell_of(s)
                if c is not None:
                    rows.setdefault(c[:2], {}).setdefault(c[2], []).append(s.text)
            self._rows = rows
        table = self._rows.get(cell[:2], {})
        first = min(table) if table else None
        return "\n".join(table.get(cell[2], []) + (table.get(first, []) if first != cell[2] else []))


def procurement_contact(rules: HarmRules, segs: list[Segment], seg_id: int, rows: _Rows) -> bool:
    """A role of the procurement within role_window lines (or in the cell's row or the table's
    header row), and no personal cue within personal_window (nor in that row or header)."""
    cells = rows.context(seg_id)
    role = _WS.sub("", near_text(segs, seg_id, rules.proc_role_window) + "\n" + cells)
    if not rules.proc_role.search(role):
        return False
    personal = _WS.sub("", near_text(segs, seg_id, rules.proc_personal_window) + "\n" + cells)
    return not rules.proc_personal.search(personal)


def organisation_account(rules: HarmRules, segs: list[Segment], seg_id: int) -> bool:
    """An account-holder label within account_window lines whose value names an organisation, and
    no holder that names none (a person) nor a personal cue there."""
    near = near_text(segs, seg_id, rules.proc_account_window)
    holders = [rules.proc_holder_end.split(_WS.sub("", m.group(1)))[0] for m in rules.proc_holder.finditer(near)]
    holders = [h for h in holders if h]
    if not holders or not all(rules.proc_account_org.search(h) for h in holders):
        return False
    return not rules.proc_personal.search(_WS.sub("", near_text(segs, seg_id, rules.proc_personal_window)))


def confidentiality_clause(rules: HarmRules, segs: list[Segment], seg_id: int) -> bool:
    """The segment holds a confidentiality duty, a bound party stands within clause_window lines,
    and no status or restriction word of the draft itself does."""
    if not 0 <= seg_id < len(segs) or not rules.proc_duty.search(_WS.sub("", segs[seg_id].text)):
        return False
    near = _WS.sub("", near_text(segs, seg_id, rules.proc_clause_window))
    return bool(rules.proc_party.search(near)) and not rules.proc_keep.search(near)


# -- the steps ----------------------------------------------------------------------------------

def apply(findings: list[Finding], segs: list[Segment], rules: HarmRules,
          names_report: str = "relevant") -> list[Finding]:
    if names_report not in NAMES_REPORT:
        raise ValueError(f"names_report must be one of {NAMES_REPORT}")
    seg_text = {s.id: s.text for s in segs}
    paper: tuple[set[int], set[int]] | None = None     # computed on the first e-mail or phone finding
    holder: bool | None = None              # computed on the first address or phone finding
    analyst: bool | None = None             # computed on the first e-mail finding left medium
    doc_names = _Lazy(lambda: document_names(segs))
    procurement: bool | None = None         # computed on the first finding step 3b could lower
    rows = _Rows(segs)
    out: list[Finding] = []
    for f in findings:
        text = seg_text.get(f.segment_id, "")
        # 1. addresses that are not addresses
        if f.category == "pii.address":
            if rules.masked.search(f.text):
                continue
            if any(m.start() < f.end and f.start < m.end() for m in rules.case_number.finditer(text)):
                continue
        # 5. hidden layers
        if f.category == "hidden.comment" and rules.banner.search(f.text):
            continue
        if f.category in ("hidden.comment", "hidden.metadata") and is_template_only(rules, f.text):
            f = _lower(f, "low" if f.category == "hidden.comment" else "info", "template",
                   "内容仅为模板占位符，无实际内容。")
        if f.category == "hidden.comment" and is_form_hint(rules, f.text):
            f = _lower(f, "low", "form_hint", "批注只是表单填写提示或占位文字，没有实际内容。")
        if f.category == "hidden.comment" and rules.author_only.match(f.text):
            f = _lower(f, "low", "author_only", "批注只有作者名，没有内容。")
        if f.category == "hidden.redaction" and rules.redaction_trivial.match(f.text):
            f = _lower(f, "low", "trivial_box", "遮盖处仅有一至三位数字，更像有底色的表格单元格。")
        # 2. e-mail
        if f.category == "pii.email":
            fld = f.location.get("field", "")
            if f.layer == "metadata" and fld in rules.email_person_fields:
                f = _lower(f, "low", "author_email", "这是文件属性中作者的邮箱，与作者姓名一样只标识作者。")
            elif email_is_institutional(rules, f.text):
                f = _lower(f, "low", "institutional_email", "这是机关、院校等机构的公开邮箱。")
            elif rules.email_placeholder.match(f.text.rsplit("@", 1)[0].strip()) \
                    or rules.email_placeholder_domain.match(_domain(f.text)):
                f = _lower(f, "low", "placeholder_email", "邮箱用户名或域名只是占位符（如 xxx@、@example.com），不指向任何人。")
            elif email_is_role(rules, f.text):
                f = _lower(f, "low", "role_email", "这是单位的职能邮箱（如 info@、hr@、客服邮箱），不是个人邮箱。")
            elif organisation_mailbox(rules, f, segs, doc_names):
                f = _lower(f, "low", "organisation_email", "邮箱域名属于文件中列明的单位，是该单位公开的联系邮箱。")
            else:
                if paper is None:
                    paper = paper_author_segments(rules, segs)
                if analyst is None:
                    analyst = any(rules.analyst_cue.search(s.text) for s in segs)
                if f.segment_id in paper[0]:
                    f = _lower(f, "low", "paper_author_email", "这是已发表论文首页作者信息中的邮箱，由作者本人公开。")
                elif analyst and _domain(f.text) not in rules.free_mail:
                    f = _lower(f, "low", "analyst_email", "这是证券研究报告中列明执业证书编号的分析师的工作邮箱，随报告公开。")
        # 2c. a mobile in a paper's first-page author footnote, beside the author's published mailbox
        if f.category == "pii.phone" and f.severity in ("medium", "high"):
            if paper is None:
                paper = paper_author_segments(rules, segs)
            if f.segment_id in paper[1]:
                f = _lower(f, "low", "paper_author_phone", "这是已发表论文首页作者简介（脚注）中的联系电话，由作者本人随论文公开。")
        # 3. organisation contact lines; a licence of an organisation
        if f.category in rules.org_categories and f.severity in ("medium", "high") \
                and not (rules.org_keep_free_mail and f.category == "pii.email" and _domain(f.text) in rules.free_mail):
            if organisation_context(rules, segs, f.segment_id, f.rule_id):
                f = _lower(f, "low", "organisation", "附近是单位名称或统一社会信用代码，属于单位公开的联系信息。")
            elif contact_block(rules, segs, f.segment_id):
                f = _lower(f, "low", "contact_block", "位于列明单位名称的联系方式栏中，属于单位公开的联系信息。")
            else:
                if holder is None:
                    holder = organisation_holder(rules, segs)
                if holder:
                    f = _lower(f, "low", "organisation_holder", "这是颁发给单位的证照，其中的地址、电话是该单位的登记信息。")
        # 3b. a published tender or procurement document
        if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"] and (
                f.category in rules.proc_contact_categories or f.category in rules.proc_account_categories
                or f.category.startswith(rules.proc_clause_categories)
                or f.category in rules.proc_purchaser_categories):
            if procurement is None:
                procurement = procurement_document(rules, segs)
            if procurement:
                f = lower_procurement(rules, f, segs, text, rows)
        # 9. notes printed on every document of a format
        if f.category.startswith(rules.boiler_categories) and rules.boiler_notes.fullmatch(_PUNCT.sub("", f.text)):
            f = _lower(f, "low", "boilerplate", "这是电子发票等版式文件固定印制的使用说明，不是本文件的限制标志。")
        # 4. copy-only restrictions
        if f.category.startswith("term.") and "".join(f.text.split()) in rules.copy_terms \
                and not rules.copy_cue.search(near_text(segs, f.segment_id, rules.copy_window)):
            f = _lower(f, "low", "copy_only", "仅为版权性质的“禁止复制”声明，不是限制传播的标志。")
        out.append(f)

    # 2b. a mailbox several contacts share; the same mailbox lowered as an organisation's elsewhere
    # in the document, or printed as the alternative of one so lowered
    if any(f.category == "pii.email" for f in out):
        out = lower_same_mailbox(rules, lower_shared_mailbox(rules, out, segs), segs)

    # 6. names
    personal: dict = {}
    for f in out:
        if f.category.startswith(PERSONAL) and SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"]:
            personal.setdefault(rows.key(f.segment_id), set()).add(f.category)
    header_tables = rows.tables_where(rules.table_header.match)
    kept: list[Finding] = []
    for f in out:
        if f.category == "pii.name":
            if "".join(f.text.split()) in rules.not_names:
                continue
            if f.severity == "medium" and any(e.startswith("near:") for e in f.evidence) \
                    and not personal.get(rows.key(f.segment_id)):
                f = replace(f, severity="low", explanation=NAME_LOW_EXPLANATION,
                            evidence=[e for e in f.evidence if not e.startswith("near:")] + ["harm:near_lowered"])
            if f.severity in ("low", "info") and names_report == "relevant" \
                    and not name_matters(rules, f, segs, seg_text, header_tables):
                continue
        kept.append(f)

    # 7. file properties
    on_segment: dict[int, list[Finding]] = {}
    for f in kept:
        on_segment.setdefault(f.segment_id, []).append(f)
    result: list[Finding] = []
    for f in kept:
        if f.category != "hidden.metadata":
            result.append(f)
            continue
        others = [g for g in on_segment.get(f.segment_id, ()) if g is not f
                  and not g.category.startswith(rules.meta_ignore)
                  and SEVERITY_RANK[g.severity] >= SEVERITY_RANK["medium"]]
        if f.location.get("field", "") not in rules.meta_plain:
            # free text (comments, description): a finding, unless it is only links or a banner
            if not others and (rules.meta_link_only.match(f.text) or rules.banner.search(f.text)):
                f = _lower(f, "info", "links_or_banner", "属性中只有网址或生成工具信息，没有作者写的内容。")
            result.append(f)
            continue
        if not others and rules.meta_restricted.search(f.text):
            result.append(replace(f, severity=f.severity if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"]
                                  else "medium", evidence=f.evidence + ["value:restricted_cue"]))
        elif others:
            result.append(replace(f, severity=f.severity if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"]
                                  else "medium",
                                  evidence=f.evidence + ["value:" + c for c in sorted({g.category for g in others})]))
        else:
            result.append(_lower(f, "info", "plain_property"))

    # 8. general status words in laws, regulations and judgments
    if any(f.category in rules.norm_categories for f in result) and normative_document(rules, segs):
        result = [_lower(f, "low", "normative", "这是法律法规或裁判文书中的一般性表述，不是本文件的公开状态。")
                  if f.category in rules.norm_categories
                  and not rules.norm_keep.search(near_text(segs, f.segment_id, rules.norm_window)) else f
                  for f in result]

    # 11. the address and name of a joke ID card (a birth year before 1900, twice)
    if any(f.category in rules.card_categories and f.severity in ("medium", "high") for f in result) \
            and impossible_card(rules, segs):
        result = [_lower(f, "low", "specimen_card", "这是出生年份不可能的恶搞或样本身份证（历史或虚构人物），不指向在世的具体个人。")
                  if f.category in rules.card_categories and f.severity in ("medium", "high") else f
                  for f in result]

    # 10. hidden text that hides nothing
    if any(f.category == "hidden.text" for f in result):
        result = lower_hidden_text(rules, result, segs)
    return result


def lower_procurement(rules: HarmRules, f: Finding, segs: list[Segment], text: str, rows: _Rows) -> Finding:
    """Step 3b on one finding of a procurement document."""
    if f.category in rules.proc_contact_categories:
        if f.layer == "metadata":
            if f.location.get("field", "") in rules.proc_mailto_fields and text.strip().lower().startswith("mailto:"):
                return _lower(f, "low", "procurement", "这是招标采购文件中联系方式的邮件链接，属于采购人或代理机构公开的联系方式。")
        elif procurement_contact(rules, segs, f.segment_id, rows):
            return _lower(f, "low", "procurement", "这是招标采购文件中采购人、代理机构或监督部门公开的联系方式（联系人、报名、答疑、质疑等），供供应商联系。")
    if f.category in rules.proc_account_categories and organisation_account(rules, segs, f.segment_id):
        return _lower(f, "low", "procurement_account", "这是招标采购文件中代理机构或采购人收取保证金、标书费的单位账户，随文件公开。")
    if f.category in rules.proc_purchaser_categories and f.layer != "metadata" \
            and rules.proc_purchaser.search(_WS.sub("", text[:f.start])):
        return _lower(f, "low", "procurement_purchaser", "这是军队等单位公开招标采购文件中作为采购人、受理单位或收款账户列明的单位代号，随采购公告公开。")
    if f.category.startswith(rules.proc_clause_categories) and confidentiality_clause(rules, segs, f.segment_id):
        return _lower(f, "low", "procurement_clause", "这是招标采购文件中约束供应商、合同双方或评审人员的保密条款，是公开的程序规则，不是本文件的限制标志。")
    return f


def impossible_card(rules: HarmRules, segs: list[Segment]) -> bool:
    """An ID card front whose 出生 field and printed ID number give the same year before
    `before_year` ([specimen_card]): a joke card of a historical or fictional figure."""
    text = "\n".join(s.text for s in segs if s.layer in ("body", "ocr", "table"))
    if not all(p.search(text) for p in rules.card_labels):
        return False
    born = {int(m.group(1)) for m in rules.card_birth_year.finditer(text)}
    printed = {int(m.group(1)) for m in rules.card_id_year.finditer(text)}
    return any(y < rules.card_before_year for y in born & printed)


def lower_shared_mailbox(rules: HarmRules, findings: list[Finding], segs: list[Segment]) -> list[Finding]:
    """A mailbox whose lines hold at least shared_min_phones distinct phone numbers is an office's
    shared mailbox: low, unless a residence or personal cue stands near that occurrence."""
    phones: dict[int, set[str]] = {}
    for f in findings:
        if f.category == "pii.phone":
            phones.setdefault(f.segment_id, set()).add(_NOT_DIGIT.sub("", f.text))
    beside: dict[str, set[str]] = {}
    for f in findings:
        if f.category == "pii.email":
            beside.setdefault(f.text.strip().lower(), set()).update(phones.get(f.segment_id, ()))
    shared = {m for m, p in beside.items() if len(p) >= rules.shared_min_phones}
    if not shared:
        return findings
    return [_lower(f, "low", "shared_mailbox", "同一邮箱列在多位联系人、多个电话号码旁，是单位共用的联系邮箱，不是个人邮箱。")
            if f.category == "pii.email" and f.text.strip().lower() in shared
            and not rules.residence_cue.search(near_text(segs, f.segment_id, rules.org_cue_window)) else f
            for f in findings]


def lower_same_mailbox(rules: HarmRules, findings: list[Finding], segs: list[Segment]) -> list[Finding]:
    """A mailbox lowered as an organisation's somewhere in the document is low at its other
    occurrences too, and so is a mailbox printed as its alternative in one line (a和b), unless a
    residence or personal cue stands near that occurrence."""
    org = {f.text.strip().lower() for f in findings if f.category == "pii.email"
           and any(e in rules.same_mailbox_steps for e in f.evidence)}
    if not org:
        return findings
    alternative = re.compile("|".join(f"{re.escape(m)}(?:{rules.alternative_join})|(?:{rules.alternative_join}){re.escape(m)}"
                                      for m in sorted(org)), re.I)
    out = []
    for f in findings:
        if f.category == "pii.email" and SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"] \
                and not rules.residence_cue.search(near_text(segs, f.segment_id, rules.org_cue_window)):
            if f.text.strip().lower() in org:
                f = _lower(f, "low", "same_mailbox", "同一邮箱在本文件的单位联系方式中出现，是该单位公开的联系邮箱。")
            elif 0 <= f.segment_id < len(segs) and _joined_to(alternative, segs[f.segment_id].text, f.text):
                f = _lower(f, "low", "alternative_mailbox", "与单位公开的联系邮箱并列给出（“发送至A和B”），是同一单位接收邮件的邮箱。")
        out.append(f)
    return out


def _joined_to(alternative: re.Pattern, line: str, address: str) -> bool:
    """The address stands right after or right before one of the lowered mailboxes and a join word."""
    a = address.strip()
    for m in alternative.finditer(line):
        if line[m.end():m.end() + len(a)].lower() == a.lower() or line[max(0, m.start() - len(a)):m.start()].lower() == a.lower():
            return True
    return False


_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


def lower_hidden_text(rules: HarmRules, findings: list[Finding], segs: list[Segment]) -> list[Finding]:
    """hidden.text findings whose text is trivial, a workbook's cached external cells, also visible,
    or page furniture -> low; unless another detector's medium+ finding sits on the same segment."""
    decided = {f.segment_id for f in findings if not f.category.startswith("hidden.")
               and SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"]}
    hidden = [s for s in segs if s.layer == "hidden"]
    # a PDF's character layers (a bbox) on the page are in its page text as well; text drawn outside
    # the page (kind offpage) is not, so its one copy in the visible layers shows it
    in_page_text = Counter(_SPACE.sub("", s.text) for s in hidden
                           if "bbox" in s.locator and s.locator.get("kind") != "offpage")
    pages_of: dict[str, set] = {}
    for s in hidden:
        if s.locator.get("page") is not None:
            pages_of.setdefault(_DIGITS.sub("0", _SPACE.sub("", s.text)), set()).add(s.locator["page"])
    n_pages = len({s.locator.get("page") for s in segs if s.locator.get("page") is not None})
    visible: list[str] = []          # built on first use
    shown: dict[str, bool] = {}

    def also_visible(t: str) -> bool:
        if t not in shown:
            if not visible:
                visible.append(_SPACE.sub("", "\n".join(s.text for s in segs if s.layer in VISIBLE_LAYERS)))
            shown[t] = bool(t) and visible[0].count(t) > in_page_text.get(t, 0)
        return shown[t]

    out = []
    for f in findings:
        if f.category != "hidden.text" or f.segment_id in decided or not 0 <= f.segment_id < len(segs) \
                or SEVERITY_RANK[f.severity] < SEVERITY_RANK["medium"]:
            out.append(f)
            continue
        seg = segs[f.segment_id]
        t = _SPACE.sub("", seg.text)
        pages = pages_of.get(_DIGITS.sub("0", t), ())
        if rules.hidden_trivial.match(seg.text):
            f = _lower(f, "low", "hidden_trivial", "隐藏的只是页码、单个数字、年份或占位数字，没有实际内容。")
        elif seg.locator.get("kind") in rules.cache_kinds:
            f = _lower(f, "low", "link_cache", "这是外部链接保存的被链接工作簿的缓存数值，不是对读者隐藏的内容。")
        elif seg.locator.get("kind") in rules.outline_kinds and seg.locator.get("outline"):
            f = _lower(f, "low", "hidden_outline", "这是折叠的分组行，表格旁有展开按钮，读者可逐级展开，并未隐藏。")
        elif len(pages) >= rules.furniture_min_pages and len(pages) >= rules.furniture_min_share * n_pages:
            f = _lower(f, "low", "hidden_furniture", "同样的隐藏文字出现在多数页面上，是排版标记等页面附属内容。")
        elif also_visible(t):
            f = _lower(f, "low", "hidden_visible", "这段隐藏文字在文档可见内容中也有，隐藏它并未藏起任何信息。")
        out.append(f)
    return out


def name_matters(rules: HarmRules, f: Finding, segs: list[Segment], seg_text: dict[int, str],
                 header_tables: set) -> bool:
    """A low name is reported when it matters: in the file properties, in personnel context
    (this line or a neighbour), labelled by a word for a group of people (员工王建国; 获奖学生：
    in this line or a neighbour), or in a table that lists persons (a 姓名 column)."""
    if f.layer == "metadata":
        return True
    near = near_text(segs, f.segment_id, 1)
    if rules.personnel_cue.search(near) or rules.group_label.search(near):
        return True
    if rules.group_before.search(seg_text.get(f.segment_id, "")[max(0, f.start - 4):f.start]):
        return True
    if 0 <= f.segment_id < len(segs):
        loc = segs[f.segment_id].locator
        if "table" in loc and (segs[f.segment_id].layer, loc.get("table")) in header_tables:
            return True
    return False
