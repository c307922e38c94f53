"""The harm rules (lexicons/harm.toml) loaded and compiled: one home for them, read by the steps of
scanner.harm and by the names detector, whose "relevant" and "cue" scopes must tag wherever
harm.name_matters can keep a name (the personnel cue and the group words of [names]). It sits
below the detectors, so that both can import it.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

# the personal data a name (or a model address) turns medium beside (postprocess
# personal_data_combinations; harm raises such a name back), which the names scope therefore reads
PERSONAL = ("pii.id_card", "pii.phone", "pii.bank_card", "pii.passport", "pii.email", "pii.address",
            "pii.travel_record")


def group_patterns(group_words: str) -> tuple[str, str]:
    """The patterns of a group word that labels a name ([names] group_words): as a label (获奖学生：)
    anywhere in the name's line or a neighbour, and right before the name (员工王建国, matched on the
    four characters before it). harm keeps a name by them; the relevant scope reads where they can match."""
    return f"(?:{group_words})\\s*[：:]", f"(?:{group_words})[ \\u3000]?$"


def _rx(p: str) -> re.Pattern:
    return re.compile(p)


@dataclass
class HarmRules:
    raw: dict
    source_hash: str
    meta_plain: frozenset = field(default_factory=frozenset)
    meta_ignore: tuple = ()
    email_domains: list = field(default_factory=list)
    email_person_fields: frozenset = field(default_factory=frozenset)

    @classmethod
    def load(cls, path: Path) -> HarmRules:
        data = path.read_bytes()
        raw = tomllib.loads(data.decode("utf-8"))
        r = cls(raw=raw, source_hash=hashlib.sha256(data).hexdigest()[:16])
        m, e, o, a, n, h, c, nv = (raw[k] for k in ("metadata", "email", "organisation", "address", "names",
                                                     "hidden", "copy_terms", "normative"))
        r.meta_plain = frozenset(m["plain_fields"])
        r.meta_ignore = tuple(m["ignore_categories"])
        r.meta_restricted = _rx(m["restricted_cue"])
        r.meta_link_only = _rx(m["link_only"])
        r.email_domains = [re.compile(p, re.I) for p in e["institutional_domains"]]
        r.email_person_fields = frozenset(e["metadata_person_fields"])
        r.email_roles = frozenset(x.lower() for x in e["role_local_parts"])
        r.free_mail = frozenset(x.lower() for x in e["free_mail_domains"])
        r.domain_suffixes = tuple(sorted((x.lower() for x in e["domain_suffixes"]), key=len, reverse=True))
        r.domain_name_min = int(e["domain_name_min"])
        r.paper_heading, r.correspondence = re.compile(e["paper_heading"]), _rx(e["correspondence_cue"])
        r.paper_heading_loose, r.paper_mark = re.compile(e["paper_heading_loose"]), re.compile(e["paper_mark"])
        r.correspondence_window = int(e["correspondence_window"])
        r.email_placeholder, r.analyst_cue = _rx(e["placeholder_local"]), _rx(e["analyst_cue"])
        r.email_placeholder_domain = re.compile(e["placeholder_domain"], re.I)
        r.shared_min_phones, r.alternative_join = int(e["shared_min_phones"]), e["alternative_join"]
        r.org_window, r.org_cue_window = int(o["window"]), int(o["cue_window"])
        r.uscc, r.org_name, r.residence_cue = _rx(o["uscc"]), _rx(o["org_name"]), _rx(o["residence_cue"])
        r.uscc_id_shape = _rx(o["uscc_id_shape"])
        r.institutional_mail_rules = frozenset(o["institutional_mail_rules"])
        r.org_categories = tuple(o["categories"])
        r.org_keep_free_mail = bool(o["email_keep_free_mail"])
        r.contact_label, r.block_max = _rx(o["contact_label"]), int(o["block_max"])
        r.block_personal = _rx(o["block_personal_cue"])
        r.same_mailbox_steps = frozenset(f"harm:{x}" for x in o["same_mailbox_steps"])
        r.holder_label, r.holder_type = _rx(o["holder_label"]), _rx(o["holder_type"])
        r.case_number, r.masked = _rx(a["case_number"]), _rx(a["masked"])
        r.not_names = frozenset(n["not_names"])
        r.combination_window = int(n["combination_window"])
        r.personnel_cue, r.table_header = _rx(n["personnel_cue"]), _rx(n["table_header"])
        label, before = group_patterns(n["group_words"])
        r.group_label, r.group_before = _rx(label), _rx(before)    # 获奖学生：王建国、李秀英 / 员工王建国
        # what the names scope reads for (pattern text: the detector compiles it with its first-character
        # guard): "cue" lines with the personnel cue or a group word; "relevant": where name_matters
        # reads the personnel cue or a group-word label (a name's segment and its neighbours), and the
        # sentences of a segment that hold a group word of its own (the name it labels)
        r.scope_cue = f"{n['personnel_cue']}|{n['group_words']}"
        r.scope_near = f"{n['personnel_cue']}|{label}"
        r.scope_own = n["group_words"]
        r.banner, r.template_tag = re.compile(h["generator_banner"], re.I), _rx(h["template_tag"])
        r.template_rest_max_cjk = int(h["template_rest_max_cjk"])
        r.redaction_trivial = _rx(h["redaction_trivial"])
        r.form_hint = re.compile(h["form_hint"], re.I)
        r.author_only = _rx(h["author_only"])
        r.copy_terms = frozenset(c["terms"])
        r.copy_cue, r.copy_window = _rx(c["restriction_cue"]), int(c["window"])
        r.norm_categories = frozenset(nv["categories"])
        r.norm_article, r.norm_min_articles = re.compile(nv["article"], re.M), int(nv["min_articles"])
        r.norm_judgment, r.norm_keep = _rx(nv["judgment_cue"]), _rx(nv["restriction_cue"])
        r.norm_window = int(nv["window"])
        ht = raw["hidden_text"]
        r.hidden_trivial, r.cache_kinds = _rx(ht["trivial"]), frozenset(ht["cache_kinds"])
        r.outline_kinds = frozenset(ht["outline_kinds"])
        r.furniture_min_pages, r.furniture_min_share = int(ht["furniture_min_pages"]), float(ht["furniture_min_share"])
        sc = raw["specimen_card"]
        r.card_labels = tuple(_rx(x) for x in sc["labels"])
        r.card_birth_year, r.card_id_year = _rx(sc["birth_year"]), _rx(sc["id_year"])
        r.card_before_year, r.card_categories = int(sc["before_year"]), tuple(sc["categories"])
        p = raw["procurement"]
        r.proc_cue, r.proc_min_cues = _rx(p["document_cue"]), int(p["min_cues"])
        r.proc_contact_categories = frozenset(p["contact_categories"])
        r.proc_role, r.proc_role_window = _rx(p["role_cue"]), int(p["role_window"])
        r.proc_personal, r.proc_personal_window = _rx(p["personal_cue"]), int(p["personal_window"])
        r.proc_mailto_fields = frozenset(p["mailto_fields"])
        r.proc_account_categories = frozenset(p["account_categories"])
        r.proc_holder, r.proc_holder_end = _rx(p["account_holder"]), _rx(p["account_holder_end"])
        r.proc_account_org, r.proc_account_window = _rx(p["account_org"]), int(p["account_window"])
        r.proc_clause_categories = tuple(p["clause_categories"])
        r.proc_duty, r.proc_party = _rx(p["clause_duty"]), _rx(p["clause_party"])
        r.proc_keep, r.proc_clause_window = _rx(p["clause_keep"]), int(p["clause_window"])
        r.proc_purchaser_categories = frozenset(p["purchaser_categories"])
        r.proc_purchaser = _rx(p["purchaser_label"])
        b = raw["boilerplate"]
        r.boiler_categories, r.boiler_notes = tuple(b["categories"]), _rx(b["notes"])
        return r


def default_path(lexicon_dir: Path) -> Path:
    return lexicon_dir / "harm.toml"
