"""Name/address tagger through the scanner: severity policy, masked names, addresses, integrity."""
from __future__ import annotations

import shutil

import pytest

from scanner.detectors import _models
from scanner.detectors.names import (
    MODEL_FILE,
    NamesDetector,
    is_name,
    is_specific_address,
)
from training.eval_names import evaluate, heldout_records


def cats(report, cat):
    return [f for f in report.findings if f.category == cat]


def test_name_alone_is_low_and_passes(full, inventory):
    text = "浙商银行企业信贷部叶老桂博士则从另一个角度对五道门槛进行了解读。"
    # by default a name alone in running text is not reported (it does not matter, issue 16)
    rep = full.scan_text(text)
    assert cats(rep, "pii.name") == [] and rep.decision == "pass"
    rep = inventory.scan_text(text)
    names = cats(rep, "pii.name")
    assert [f.text for f in names] == ["叶老桂"]
    assert names[0].severity == "low"
    assert rep.decision == "pass"


def test_name_next_to_address_is_raised(full):
    rep = full.scan_text("经查，刘振华实际居住在浙江省杭州市滨江区滨康路1037号3幢502室，联系电话已登记。")
    names = cats(rep, "pii.name")
    assert [f.text for f in names] == ["刘振华"]
    assert names[0].severity == "medium"
    assert any(e.startswith("near:pii.address") for e in names[0].evidence)
    addr = cats(rep, "pii.address")
    assert addr and any("滨康路1037号" in f.text for f in addr)
    assert rep.decision == "review"


def test_raise_only_within_the_same_segment(inventory):
    rep = inventory.scan_text("记者陈立报道。\n\n事发地点位于湖北省武汉市洪山区珞喻路152号附近。")
    names = cats(rep, "pii.name")
    assert names and all(f.severity == "low" for f in names)


def test_table_row_counts_as_one_person(full):
    from scanner.model import Document
    doc = Document(source="t", sha256="0", media_type="text/plain")
    doc.add("table", "唐雨婷", table=0, row=1, col=0)
    doc.add("table", "武汉市洪山区珞喻路152号12栋3单元702室", table=0, row=1, col=1)
    doc.add("table", "王海涛", table=0, row=2, col=0)
    rep = full.scan_document(doc)
    sev = {f.text: f.severity for f in cats(rep, "pii.name")}
    assert sev.get("唐雨婷") == "medium"
    assert sev.get("王海涛", "low") == "low"


@pytest.mark.parametrize("text", ["马某东", "王**", "李×华", "王先生", "老郑", "小朱", "张某某"])
def test_masked_and_honorific_forms_are_not_names(text):
    assert not is_name(text)


def test_masked_name_in_context_not_reported(full):
    rep = full.scan_text("拟录用人员公示（已脱敏）：马某东，综合管理岗。")
    assert all("某" not in f.text for f in cats(rep, "pii.name"))


@pytest.mark.parametrize("text,ok", [("湖北省武汉市洪山区珞喻路152号", True), ("滨康路1037号", True),
                                     ("北京", False), ("美国", False), ("某小区5栋", False),
                                     ("勿角藏族乡", False), ("张庄村三组", True), ("邢台县南市屯村", False),
                                     ("北京王府饭店", False), ("快递单号SF14", False)])
def test_specific_address_rule(text, ok):
    assert is_specific_address(text) is ok


def test_city_names_are_not_personal_data(full):
    rep = full.scan_text("北京、上海和深圳的代表出席了会议。")
    assert cats(rep, "pii.address") == []


def test_heldout_f1_through_scanner(inventory):
    """A slice of the held-out split (full figures: python -m training.eval_names), measured on the
    full name inventory (names_report="all"): the tagger's own quality, before relevance filtering."""
    res = evaluate(inventory, heldout_records(400))
    assert res["name"]["f1"] >= 0.74, res["name"]
    assert res["name"]["precision"] >= 0.70


def test_altered_weights_are_refused(tmp_path):
    src = _models.models_dir()
    for name in ("manifest.json", MODEL_FILE):
        shutil.copy(src / name, tmp_path / name)
    data = bytearray((tmp_path / MODEL_FILE).read_bytes())
    data[-100] ^= 0x01
    (tmp_path / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(_models.ModelIntegrityError):
        NamesDetector(tmp_path)


def test_batched_tagging_equals_one_at_a_time():
    """The document batch (one Viterbi over all windows) tags each text exactly as alone, and the
    hash-table lookup equals a binary search over the sorted feature codes."""
    import numpy as np

    from scanner.detectors.names_tagger import features
    from training.common import DATA, read_jsonl
    det = NamesDetector(scope="all")
    texts = [r["text"] for r in read_jsonl(DATA / "news" / "msra_val.jsonl")[:120]]
    texts += ["", "a", "１２３ＡＢＣ", "张三在北京市工作", "马晓东，男，住湖北省武汉市洪山区珞喻路152号。"]
    batch = det.model.spans_many(texts)
    assert batch == [det.model.spans_many([t])[0] for t in texts]
    f = features(texts[:30], det.model.dict, det.model.gaz)
    keys = det.model.keys
    j = np.searchsorted(keys, f)
    j[j >= keys.size] = 0
    assert (det.model.index(f) == np.where(keys[j] == f, j, keys.size)).all()


def test_relevant_scope_reads_only_where_names_can_matter():
    """Whole segments or nothing (which segments: tests/scanner/models/test_names_scope.py)."""
    from scanner.harmrules import HarmRules, default_path
    from scanner.model import Segment
    from scanner.rules import default_lexicon_dir
    rules = HarmRules.load(default_path(default_lexicon_dir()))    # the same cue the detector reads
    det = NamesDetector(scope="relevant", personnel_cue=rules.personnel_cue)
    news = "在昨晚结束的比赛中，主队逆转取胜，主教练对队员表现给予肯定。"
    assert det.windows(Segment(0, "body", news), news, False) == []
    assert det.windows(Segment(0, "body", news), news, True) == [(0, len(news))]
    assert det.windows(Segment(0, "body", "12345678"), "12345678", True) == []    # no Han character
    assert det.windows(Segment(0, "table", "唐雨婷"), "唐雨婷", False) == [(0, 3)]
    cue = NamesDetector(scope="cue")
    text = "会议于上午召开。联系电话13912345678。"
    assert cue.windows(Segment(0, "body", text), text) == [(0, len(text))]
    assert cue.windows(Segment(0, "body", news), news) == []
    assert cue.model_version.startswith("names-") and "-cue@" in cue.model_version
    with pytest.raises(ValueError):
        NamesDetector(scope="everything")


def test_scope_from_environment(monkeypatch):
    """BAOMI_NAMES_SCOPE reaches the detector through ScanConfig.from_env (read once, passed down)."""
    from scanner.config import ScanConfig
    from scanner.detectors import build
    from scanner.errors import ConfigError
    from scanner.policy import Policy
    from scanner.rules import Ruleset, default_lexicon_dir
    rs = Ruleset.load(default_lexicon_dir())
    pol = Policy.load(default_lexicon_dir() / "policy.toml")

    def names_of(cfg):
        return [d for d in build(cfg, rs, pol)[0] if isinstance(d, NamesDetector)]
    monkeypatch.setenv("BAOMI_NAMES_SCOPE", "off")
    assert names_of(ScanConfig.from_env()) == []
    monkeypatch.setenv("BAOMI_NAMES_SCOPE", "cue")
    assert [d.scope for d in names_of(ScanConfig.from_env())] == ["cue"]
    assert names_of(ScanConfig.from_env(light=True)) == []
    monkeypatch.setenv("BAOMI_NAMES_SCOPE", "all")
    assert [d.scope for d in names_of(ScanConfig.from_env())] == ["relevant"]      # the report keeps relevant names
    assert [d.scope for d in names_of(ScanConfig.from_env(names_report="all"))] == ["all"]   # inventory
    monkeypatch.setenv("BAOMI_NAMES_SCOPE", "bogus")
    with pytest.raises(ConfigError):
        ScanConfig.from_env()


def test_names_scope_is_a_scanner_option():
    """The CMS gate's scanner tags names only where personal data is cued; the decision is the same."""
    from scanner import get_scanner
    full, cue = get_scanner(), get_scanner(names_scope="cue")
    assert "-cue@" in cue.model_version and "-cue@" not in full.model_version
    text = "拟录用人员公示\n马晓东，男，身份证号码330106197904082160，拟录用岗位：综合管理。"
    a, b = full.scan_text(text), cue.scan_text(text)
    assert a.decision == b.decision == "review"
    assert any(f.category == "pii.name" for f in b.findings)


def test_markup_fragments_are_not_names():
    from scanner.detectors.names import _ascii_fragment, is_name
    for junk in ("onerror=", "x<y", "a/b", "class=\"mark\""):
        assert not is_name(junk)
    assert is_name("John Smith") and is_name("马晓东") and is_name("BenBell")
    text = "<script>alert(1)</script>"
    i = text.index("lert")
    assert _ascii_fragment(text, i, i + 4) and not _ascii_fragment("球员Messi进球", 2, 7)
