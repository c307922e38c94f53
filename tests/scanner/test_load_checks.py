"""Rule, term, marking, hidden and policy files are checked when they load (scanner.rules,
scanner.policy): a bad file fails at start-up with the file, the rule id and the field named,
never at scan time. Admin-editable regexes run with a time limit: a catastrophic pattern cannot
stall a scan, and the scan fails closed."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from scanner.config import ScanConfig
from scanner.detectors import DETECTORS, Detector, build
from scanner.engine import Scanner
from scanner.errors import ConfigError
from scanner.policy import Policy
from scanner.rules import Ruleset, check_file, default_lexicon_dir

LEX = default_lexicon_dir()


@pytest.fixture()
def lex(tmp_path) -> Path:
    d = tmp_path / "lexicons"
    shutil.copytree(LEX, d)
    return d


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _first_rule_id(path: Path) -> str:
    return re.search(r'^id = "([^"]+)"', path.read_text(encoding="utf-8"), re.M).group(1)


def _load_error(lex: Path) -> ConfigError:
    with pytest.raises(ConfigError) as exc:
        Scanner(lexicon_dir=lex, light=True)
    return exc.value


# -- rule files -------------------------------------------------------------------------------------

def test_a_misspelt_rule_key_fails_at_load(lex):
    pii = lex / "rules" / "pii.toml"
    rid = _first_rule_id(pii)
    _edit(pii, "\nexamples_true = ", "\nexamples_ture = ")
    e = _load_error(lex)
    assert (e.file, e.rule_id, e.field) == ("rules/pii.toml", rid, "examples_ture")
    assert "unknown key 'examples_ture'" in str(e) and "examples_true" in str(e)     # did you mean


def test_an_unknown_category_fails_at_load(lex):
    pii = lex / "rules" / "pii.toml"
    rid = _first_rule_id(pii)
    m = re.search(r'^category = "([^"]+)"', pii.read_text(encoding="utf-8"), re.M)
    _edit(pii, m.group(0), 'category = "pii.idcard"')
    e = _load_error(lex)
    assert (e.file, e.rule_id, e.field) == ("rules/pii.toml", rid, "category")
    assert "pii.idcard" in e.problem
    _edit(pii, 'category = "pii.idcard"', 'category = "org.unit"')
    e = _load_error(lex)
    assert e.field == "category" and "unknown category family 'org'" in e.problem


def test_a_bad_severity_a_missing_group_and_an_unknown_validator_fail_at_load(lex):
    secret = lex / "rules" / "secret.toml"
    rid = _first_rule_id(secret)
    text = secret.read_text(encoding="utf-8")
    first = text.index("[[rules]]")
    second = text.index("[[rules]]", first + 1)
    block = text[first:second]
    for old, new, field in ((re.search(r'^severity = "\w+"', block, re.M).group(0), 'severity = "hihg"', "severity"),
                            (None, "group = 7", "group"),
                            (None, 'validator = "no_such_check"', "validator")):
        bad = re.sub(r"^(group|validator) = .*\n", "", block, flags=re.M)
        bad = bad.replace(old, new) if old else bad.replace("\nregex = ", f"\n{new}\nregex = ", 1)
        secret.write_text(text[:first] + bad + text[second:], encoding="utf-8")
        e = _load_error(lex)
        assert (e.file, e.rule_id, e.field) == ("rules/secret.toml", rid, field), str(e)
    secret.write_text(text, encoding="utf-8")
    Scanner(lexicon_dir=lex, light=True)          # the original loads


def test_a_regex_that_does_not_compile_and_missing_examples_fail_at_load(lex):
    geo = lex / "rules" / "geo.toml"
    rid = _first_rule_id(geo)
    text = geo.read_text(encoding="utf-8")
    geo.write_text(re.sub(r"^regex = '''", "regex = '''(", text, count=1, flags=re.M), encoding="utf-8")
    e = _load_error(lex)
    assert (e.file, e.rule_id, e.field) == ("rules/geo.toml", rid, "regex") and "compile" in e.problem
    geo.write_text(re.sub(r"^examples_false = \[.*?\]\n", "examples_false = []\n", text, count=1, flags=re.M | re.S),
                   encoding="utf-8")
    e = _load_error(lex)
    assert (e.rule_id, e.field) == (rid, "examples_false")


def test_term_and_marking_files_are_checked_too(lex):
    internal = lex / "terms" / "internal.toml"
    _edit(internal, "\nterms = [", "\ntrems = [")
    e = _load_error(lex)
    assert e.file == "terms/internal.toml" and e.field == "lexicon.trems"
    shutil.copy(LEX / "terms" / "internal.toml", internal)
    _edit(lex / "rules" / "marking.toml", "first_lines = 4", "first_line = 4")
    e = _load_error(lex)
    assert e.file == "rules/marking.toml" and e.field == "marking.first_line"
    shutil.copy(LEX / "rules" / "marking.toml", lex / "rules" / "marking.toml")
    _edit(lex / "rules" / "marking.toml", "“{text}”，属于涉密文件", "“{txet}”，属于涉密文件")
    e = _load_error(lex)
    assert e.file == "rules/marking.toml" and e.field.startswith("messages.") and "txet" in e.problem


# -- policy ---------------------------------------------------------------------------------------

def test_a_bad_decision_value_in_the_policy_fails_at_load(lex):
    _edit(lex / "policy.toml", 'critical = "block"', 'critical = "blcok"')
    e = _load_error(lex)
    assert (e.file, e.field) == ("policy.toml", "severity_decision.critical") and "'blcok'" in e.problem


def test_policy_keys_and_categories_are_checked(lex):
    policy = lex / "policy.toml"
    _edit(policy, "min_confidence = ", "min_confidance = ")
    e = _load_error(lex)
    assert (e.file, e.field) == ("policy.toml", "min_confidance") and "min_confidence" in e.problem
    shutil.copy(LEX / "policy.toml", policy)
    _edit(policy, '"secret" = "review"', '"secrets" = "review"')
    e = _load_error(lex)
    assert e.field == "category_decision" and "secrets" in e.problem
    shutil.copy(LEX / "policy.toml", policy)
    _edit(policy, 'error_decision = "review"', 'error_decision = "pass"')
    e = _load_error(lex)
    assert e.field == "error_decision" and "fails closed" in e.problem


def test_check_file_validates_one_file_before_it_is_saved(lex):
    good = (lex / "terms" / "internal.toml").read_bytes()
    check_file(lex, "terms/internal.toml", good)
    with pytest.raises(ConfigError) as exc:
        check_file(lex, "terms/internal.toml", good.replace(b'severity = "', b'severity = "very', 1))
    assert exc.value.field == "lexicon.severity"
    with pytest.raises(ConfigError) as exc:
        check_file(lex, "policy.toml", (lex / "policy.toml").read_bytes().replace(b'"block"', b'"blcok"', 1))
    assert exc.value.file == "policy.toml" and "blcok" in exc.value.problem
    with pytest.raises(ConfigError) as exc:
        check_file(lex, "rules/pii.toml", b"[[rules]\n")
    assert exc.value.file == "rules/pii.toml" and "TOML" in exc.value.problem


# -- regex time limit -------------------------------------------------------------------------------

CATASTROPHIC = """
[[rules]]
id = "test.catastrophic.v1"
category = "secret.credential"
regex = '''(a|aa)+$'''
severity = "medium"
explanation = "测试规则。"
suggestion = "测试。"
examples_true = ["aaa"]
examples_false = ["b"]
"""


def test_a_catastrophic_regex_times_out_and_the_scan_fails_closed(lex, caplog):
    (lex / "rules" / "zz_catastrophic.toml").write_text(CATASTROPHIC, encoding="utf-8")
    sc = Scanner(config=ScanConfig(lexicon_dir=lex, light=True, regex_timeout_s=0.2))
    secret_text = "a" * 60 + "b"
    report = sc.scan_text(f"关于开展安全检查的通知\n{secret_text}\n联系电话：13812345678")
    codes = [e.code for e in report.errors]
    assert codes == ["scan.rule_timeout"], report.errors
    assert "test.catastrophic.v1" in report.errors[0].detail
    assert report.decision in ("review", "block") and "error:scan.rule_timeout" in report.decision_reasons
    assert any(f.category == "pii.phone" for f in report.findings)       # the other rules still ran
    assert secret_text not in caplog.text and "test.catastrophic.v1" in caplog.text   # logged without the text
    # the same document without the runaway rule passes the timeout check: the error came from it
    (lex / "rules" / "zz_catastrophic.toml").unlink()
    clean = Scanner(config=ScanConfig(lexicon_dir=lex, light=True, regex_timeout_s=0.2))
    assert not clean.scan_text(f"关于开展安全检查的通知\n{secret_text}").errors


def test_a_policy_failure_fails_the_scan_closed(monkeypatch):
    sc = Scanner(light=True)

    class Broken:
        def finalize(self, report):
            raise KeyError("blcok")
    monkeypatch.setattr(sc, "policy", Broken())
    report = sc.scan_text("没有任何敏感内容的公开通知。")
    assert report.decision == "review" and [e.code for e in report.errors] == ["scan.policy_failed"]


# -- the detector contract ----------------------------------------------------------------------------

def test_the_detector_list_is_explicit_and_ordered():
    names = [cls.name for cls in DETECTORS]
    assert names == ["marking", "regex", "terms", "tabular", "hidden", "passage", "names"]
    assert all(issubclass(cls, Detector) and not getattr(cls, "__abstractmethods__", None) for cls in DETECTORS)
    rs = Ruleset.load(LEX)
    pol = Policy.load(LEX / "policy.toml")
    light, version = build(ScanConfig(light=True), rs, pol)
    assert [d.name for d in light] == ["marking", "regex", "terms", "tabular", "hidden"] and version == "rules-only"
    with pytest.raises(TypeError):
        type("NoDetect", (Detector,), {"name": "x"})()       # a detector must implement detect(ctx)
