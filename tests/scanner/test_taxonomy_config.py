"""The vocabulary (scanner.taxonomy), the configuration object (scanner.config), the error types
(scanner.errors) and the one exit-code rule (scanner.policy.exit_code)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pydantic
import pytest

from scanner import taxonomy as T
from scanner.config import Isolation, NamesScope, SandboxLimits, ScanConfig
from scanner.errors import (
    BaomiError,
    ConfigError,
    ExtractionFailed,
    ModelIntegrityError,
)
from scanner.policy import CANNOT_SCAN, exit_code

LEX = Path(__file__).resolve().parents[2] / "lexicons"


def test_every_shipped_category_is_in_the_vocabulary():
    seen = set()
    for path in sorted(LEX.glob("*/*.toml")):
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        seen.update(r["category"] for r in doc.get("rules", []) if "category" in r)
        lex = {**doc, **doc.get("lexicon", {})}
        if "category" in lex:
            seen.add(lex["category"])
    assert {"pii.phone", "secret.credential", "term.internal"} <= seen
    for cat in seen:
        assert T.TAXONOMY.check_category(cat) is None, cat


def test_labels_with_family_fallback():
    assert T.category_zh("pii.id_card") == "身份证号"
    assert T.category_zh("term.some_new_lexicon") == "敏感用语"      # open family: the family's label
    assert T.category_zh("org.unit") == "其他" and T.family_key("org.unit") == "other"
    assert T.family_of("marking.level") == "marking"
    for cat in ("marking.work", "marking.commercial", "marking.disclosure", "secret.token"):
        assert T.TAXONOMY.check_category(cat) is None and T.category_zh(cat) != T.family_zh(cat)
    assert "ocr" in T.LAYERS and T.LAYER_ZH["ocr"] == "图片文字" and "ocr" in T.VISIBLE_LAYERS


def test_unknown_categories_are_named():
    assert "pii.idcard" in T.TAXONOMY.check_category("pii.idcard")        # closed family: typo caught
    assert "unknown category family 'org'" in T.TAXONOMY.check_category("org.unit")
    assert T.TAXONOMY.check_category("Marking.Level") is not None
    assert T.TAXONOMY.check_category("pii") is not None


def test_ranks_follow_the_orders():
    assert [T.SEVERITY_RANK[s] for s in T.SEVERITIES] == list(range(5))
    assert T.DECISION_RANK["block"] > T.DECISION_RANK["review"] > T.DECISION_RANK["pass"]
    assert T.max_decision(["pass", "block", "review"]) == "block" and T.max_decision([]) == "pass"
    from scanner import model, policy
    assert model.SEVERITIES is T.SEVERITIES and model.LAYERS is T.LAYERS and policy.RANK is T.DECISION_RANK


def test_a_lexicon_directory_can_extend_the_vocabulary(tmp_path):
    assert T.Taxonomy.load(tmp_path) is T.TAXONOMY
    (tmp_path / "taxonomy.toml").write_text(
        '[[family]]\nname = "org"\nzh = "机构信息"\nicon = "机"\ncolour = "#37474f"\nbackground = "#dde3e6"\n'
        '[[category]]\nname = "org.unit"\nzh = "内设机构"\n'
        '[[category]]\nname = "pii.student_id"\nzh = "学号"\n', encoding="utf-8")
    tx = T.Taxonomy.load(tmp_path)
    assert tx.category_zh("org.unit") == "内设机构" and tx.family_zh("org.other") == "机构信息"
    assert tx.check_category("org.other") is not None          # closed unless open = true
    assert tx.category_zh("pii.student_id") == "学号" and T.TAXONOMY.check_category("pii.student_id")
    assert tx.family_names[-1] == "org" and "mark.c-org{background:#dde3e6" in tx.css()
    (tmp_path / "taxonomy.toml").write_text('[[family]]\nname = "pii"\nzh = "x"\n', encoding="utf-8")
    with pytest.raises(T.TaxonomyError, match="already defined"):
        T.Taxonomy.load(tmp_path)
    (tmp_path / "taxonomy.toml").write_text('[[family]]\nname = "org"\nzh = "x"\ncolor = "#000"\n', encoding="utf-8")
    with pytest.raises(T.TaxonomyError, match="color"):
        T.Taxonomy.load(tmp_path)


@pytest.mark.parametrize("spelling, mode", [
    ("always", Isolation.ALWAYS), ("ALWAYS", Isolation.ALWAYS), ("true", Isolation.ALWAYS), ("1", Isolation.ALWAYS),
    (True, Isolation.ALWAYS), ("auto", Isolation.AUTO), (None, Isolation.AUTO), ("never", Isolation.OFF),
    ("off", Isolation.OFF), ("false", Isolation.OFF), ("0", Isolation.OFF), (False, Isolation.OFF)])
def test_isolation_spellings(spelling, mode):
    assert Isolation.parse(spelling) is mode
    assert ScanConfig(isolation=spelling).isolation is mode


def test_isolation_nonsense_is_a_config_error():
    with pytest.raises(ConfigError, match="isolation"):
        Isolation.parse("sometimes")
    with pytest.raises(ConfigError) as exc:
        ScanConfig.build(isolation="sometimes")
    assert exc.value.field == "isolation"


def test_config_from_environment_and_keywords(monkeypatch):
    for k in ("BAOMI_LIGHT", "BAOMI_NAMES_SCOPE", "BAOMI_ISOLATION", "BAOMI_EXTRACT_MEM_MB", "BAOMI_EXTRACT_NETNS"):
        monkeypatch.delenv(k, raising=False)
    assert ScanConfig.from_env() == ScanConfig()
    monkeypatch.setenv("BAOMI_NAMES_SCOPE", "cue")
    monkeypatch.setenv("BAOMI_ISOLATION", "always")
    monkeypatch.setenv("BAOMI_EXTRACT_MEM_MB", "512")
    monkeypatch.setenv("BAOMI_EXTRACT_NETNS", "off")
    cfg = ScanConfig.from_env(light=True)
    assert cfg.light and cfg.names_scope is NamesScope.CUE and cfg.isolation is Isolation.ALWAYS
    assert cfg.sandbox == SandboxLimits(mem_mb=512, netns="off")
    assert ScanConfig.from_env(names_scope="off").names_scope is NamesScope.OFF     # keywords win
    assert ScanConfig().names_scope is NamesScope.ALL                               # no env without from_env
    monkeypatch.setenv("BAOMI_NAMES_SCOPE", "bogus")
    with pytest.raises(ConfigError) as exc:
        ScanConfig.from_env()
    assert (exc.value.file, exc.value.field) == ("environment", "BAOMI_NAMES_SCOPE")
    with pytest.raises(pydantic.ValidationError):
        cfg.light = False                                                            # frozen


def test_error_types():
    e = ConfigError("must be one of pass, review, block", file="policy.toml", rule_id="x.v1", field="decision")
    assert str(e) == "policy.toml: rule x.v1: field decision: must be one of pass, review, block"
    assert isinstance(e, BaomiError) and isinstance(e, ValueError)
    assert issubclass(ModelIntegrityError, BaomiError) and issubclass(ExtractionFailed, BaomiError)
    from scanner.detectors import _models
    from scanner.extract import errors as E
    assert _models.ModelIntegrityError is ModelIntegrityError and E.ExtractionFailed is ExtractionFailed


@pytest.mark.parametrize("decisions, errors, fail_on, code", [
    ([], False, "review", 0), (["pass"], False, "review", 0), (["pass", "review"], False, "review", 1),
    (["review", "block"], True, "review", 2), (["pass"], True, "review", CANNOT_SCAN),
    (["review"], True, "block", CANNOT_SCAN), (["review"], False, "block", 0), (["block"], False, "block", 2),
    (["block"], True, "never", 0), (["review"], 0, None, 1)])
def test_exit_code(decisions, errors, fail_on, code):
    assert exit_code(decisions, errors, fail_on) == code


def test_exit_code_rejects_unknown_fail_on():
    with pytest.raises(ValueError):
        exit_code(["pass"], False, "sometimes")


def test_get_scanner_reuses_its_config_until_the_environment_changes(monkeypatch):
    """get_scanner runs once per file in a batch: the same arguments and BAOMI_* environment give the
    same Scanner without rebuilding the config; a changed variable (any case) gives the other one."""
    import scanner
    from scanner import get_scanner
    monkeypatch.delenv("BAOMI_NAMES_REPORT", raising=False)
    first = get_scanner(light=True)
    assert get_scanner(light=True) is first
    monkeypatch.setenv("BAOMI_NAMES_REPORT", "all")
    other = get_scanner(light=True)
    assert other is not first and other.names_report == "all"
    monkeypatch.delenv("BAOMI_NAMES_REPORT")
    monkeypatch.setenv("baomi_names_report", "all")            # pydantic-settings reads names in any case
    assert get_scanner(light=True) is other
    monkeypatch.delenv("baomi_names_report")
    assert get_scanner(light=True) is first
    monkeypatch.setenv("BAOMI_REGEX_TIMEOUT_S", "-1")          # a bad value still fails every time
    with pytest.raises(scanner.errors.ConfigError):
        get_scanner(light=True)
    with pytest.raises(scanner.errors.ConfigError):
        get_scanner(light=True)
