"""Passage classifier: export fidelity, integrity check, eval cases, public text, light mode."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from scanner.detectors import _models
from scanner.detectors.passage import (MIN_CJK, MIN_CJK_BARE, MODEL_FILE, PassageDetector, PassageModel, cjk_count, code_of,
                                       gram_of, sentences, tfidf, units)
from scanner.engine import Scanner
from training.common import DATA, read_jsonl

D29 = "该型号发动机核心参数尚处于保密阶段，首台样机将于明年三月在某试验场进行地面联调。"
D30 = "在昨晚结束的比赛中，主队凭借下半场的两粒进球逆转取胜，赛后主教练对队员表现给予肯定。"


@pytest.fixture(scope="module")
def model():
    return PassageModel(_models.load_npz(MODEL_FILE))


def passages(report):
    return [f for f in report.findings if f.category.startswith("passage.")]


def test_vectorised_tfidf_matches_sklearn():
    """The int64 n-gram codes + searchsorted TF-IDF equals sklearn's TfidfVectorizer (char 1-3,
    sublinear tf, l2) on the same vocabulary and idf."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    texts = ["该型号  发动机\t参数尚未公布", "a", "ab", "保密 ★ 1 年。", "下周三凌晨，车队经迎宾大道至开发区。"] * 2
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=False, sublinear_tf=True).fit(texts)
    grams = sorted(vec.vocabulary_, key=code_of)
    vocab = np.array([code_of(g) for g in grams], dtype=np.int64)
    idf = vec.idf_[[vec.vocabulary_[g] for g in grams]]
    ours = tfidf(texts, vocab, idf).toarray()
    ref = vec.transform(texts).toarray()[:, [vec.vocabulary_[g] for g in grams]]
    assert np.abs(ours - ref).max() < 1e-9
    assert all(gram_of(code_of(g)) == g for g in grams)


def test_units_are_sentences_and_adjacent_pairs():
    text = "第一句。第二句！\n第三句"
    us = units(text)
    assert [(text[a:b], n) for a, b, n in us] == [("第一句。", 1), ("第二句！", 1), ("第三句", 1), ("第一句。第二句！", 2)]


def test_paragraph_judged_across_sentences(full):
    """A figure in one sentence and "not yet released" in the next: the pair is flagged."""
    rep = full.scan_text("今年全区土地出让收入只完成了四十一亿元。这个数比年初预算少了一半，眼下还没对外讲。")
    found = passages(rep)
    assert found and found[0].category == "passage.unpublished"
    assert "四十一亿元" in found[0].text or "还没对外讲" in found[0].text


def test_explanation_names_cues(full):
    rep = full.scan_text("省长定于十五日上午九时抵达高铁东站，经迎宾大道至开发区管委会，沿线实行临时交通管制。")
    f = passages(rep)[0]
    assert f.category == "passage.security"
    assert "具体时间“" in f.explanation and "路线和移动安排“" in f.explanation
    assert any(e.startswith("cues:") for e in f.evidence)


def test_model_refuses_other_cues():
    from scanner.detectors.passage import load_lexicon
    lex = load_lexicon()
    lex["cue"]["time"] = dict(lex["cue"]["time"], pattern="明天")
    with pytest.raises(_models.ModelIntegrityError):
        PassageModel(_models.load_npz(MODEL_FILE), lex)


def test_d29_flagged_with_core_parameters(full):
    rep = full.scan_text("项目进展\n" + D29)
    found = passages(rep)
    assert found, "d29 must give a passage finding"
    f = found[0]
    assert "核心参数" in f.text
    assert rep.segments[f.segment_id].text[f.start:f.end] == f.text
    assert f.severity == "medium" and rep.decision != "pass"
    # the explanation names the words that drove the score
    assert "主要依据：线索" in f.explanation and "关键词“" in f.explanation
    assert any(e.startswith("score:") for e in f.evidence)


@pytest.mark.parametrize("text", [
    D30,
    "问：国家秘密的密级分为哪几级？答：分为绝密、机密、秘密三级。",
    "数据分级分类是数据安全管理的基础，机密性保护通常依靠加密和访问控制实现。",
    "电影《秘密访客》将于本周五上映。",
    "国家统计局今天发布数据，前三季度国内生产总值同比增长百分之五点二。",
    "海军舰艇编队圆满完成远海实战化训练任务，于昨日返回母港。",
    "社区卫生服务中心每周一至周六开诊。",
    # registers where real publishable files raised false alarms (issue 17): issue threads and
    # changelogs, manuals, contracts, published work reports; written for this test, not training data
    "[BUG] 批量导出报表时 服务器返回500，数据库里的数据是正常的",
    "新版本尚未支持ARM架构，计划在明年第一季度完成适配",
    "首次登录请使用默认账号，登录后在“个人中心”修改密码。",
    "系统支持单点登录，可与企业微信、钉钉等平台对接。",
    "乙方不得在租赁期间转让承租权。",
    "出租人拟在租期届满后出售该房屋的，应提前通知承租人。",
    "去年全市完成固定资产投资六百三十亿元，今年拟安排重点项目一百二十个。",
    # registers of heldout7's false alarms (issue 17, lr-7): a service tender's canteen, cleaning and guard rules,
    # 竞争性磋商 procedure, IT specifications, a developer's how-to, a personal work report; written for this test,
    # not training data
    "食堂从业人员须持健康证上岗，发现变质食材一律不得加工，留样工作由专人负责。",
    "磋商小组可以根据磋商情况调整采购需求中的服务要求，供应商应在规定时间内提交最后报价。",
    "评标过程中，与评审有关的资料和推荐意见不得向投标人透露，评标委员会成员不得私下接触投标人。",
    "主数据库故障时系统自动切换至备用数据库，切换期间业务不中断、数据不丢失。",
    "本地测试时可以用root账号和密码123456连接localhost上的MySQL，上线前请修改密码。",
    "下一步，我计划在明年上半年完成科室档案的数字化整理，进一步提高办文效率。",
])
def test_public_text_not_flagged(full, text):
    assert passages(full.scan_text(text)) == []


@pytest.mark.parametrize("text, category", [
    ("租赁谈判中我方可接受的最高租金为每平方米九十元，这个底线不要告诉对方。", "passage.negotiation"),
    ("甲方内部定的合同价上限是一千一百万，我们报一千零八十万把握比较大，此邮件阅后即删。", "passage.negotiation"),
    ("我们的OA系统还在用旧版本，那个远程代码执行漏洞没修，内网任何一台机器都能打进去。", "passage.cyber"),
    # the same registers carrying the non-public fact (lr-7): a control price before the announcement, an unfixed
    # flaw with an address and account, an unpublished personnel plan in a work report
    ("采购项目的控制价内部定为四百六十万元，采购公告发出前请不要告诉任何供应商。", "passage.negotiation"),
    ("运维记录：OA服务器10.3.8.21的数据库还在用root/123456，外网可以直接连，厂商下周才来修，先别声张。", "passage.cyber"),
    ("本人下一步工作中，党组已初步考虑由刘明同志接任副处长，考察尚未启动，请勿外传。", "passage.personnel"),
])
def test_drafts_in_those_registers_still_flagged(full, text, category):
    found = passages(full.scan_text(text))
    assert found and found[0].category == category


@pytest.mark.parametrize("text", [
    # published bid and tender documents (issue 17, heldout4's generated bid proposals): a bid's own price
    # section, the committee's general rules, failover promises of a technical proposal, template blanks;
    # written for this test, not training data
    "根据招标文件的商务要求，我公司对本项目的报价明细说明如下（单位：元，含税）：",
    "评标委员会成员名单在中标结果公告前应当保密。评标委员会由七人以上单数组成，其中经济、技术专家不少于成员总数的三分之二。",
    "主备服务器采用双活架构，单台设备故障时自动切换，业务恢复时间≤10分钟。",
    "投标人拟派的技术负责人姓名待定的，应在中标后十日内书面报送采购人。",
])
def test_bid_documents_not_flagged(full, text):
    assert passages(full.scan_text(text)) == []


@pytest.mark.parametrize("text, category", [
    # the bid terms before the opening, a chat aside and a table-of-contents line (weak registers, lr-6)
    ("内部测算的标底是两千一百万，开标前只有我和老陈知道，别往外说。", "passage.negotiation"),
    ("我哥说他们旅下周三晚上从营区出发去北边山里驻训，具体地点不让说。", "passage.military"),
    ("第三部分 导弹阵地伪装方案及转移时间表（限指挥组）……12", "passage.military"),
])
def test_weak_register_drafts_flagged(full, text, category):
    found = passages(full.scan_text(text))
    assert found and found[0].category == category


def test_positive_styles_flagged(full):
    texts = ["我方谈判底线是单价不低于四十二元，对方报价只要不突破这个数就可以签约。",
             "拟推荐李建国同志为副局长人选，目前正在进行考察，尚未公示。",
             "新型预警雷达计划下月中旬运抵西北某基地，完成架设后立即开展对空探测试验。"]
    labels = [passages(full.scan_text(t)) for t in texts]
    assert all(labels), "each written positive must be flagged"
    assert [x[0].category for x in labels] == ["passage.negotiation", "passage.personnel", "passage.military"]


def test_news_flag_rate_below_one_percent(model):
    rows = read_jsonl(DATA / "news" / "msra_val.jsonl")[:1500]
    det = PassageDetector.__new__(PassageDetector)
    det.model = model
    flagged = sum(det.classify(r["text"])[1] >= model.threshold for r in rows)
    assert flagged / len(rows) <= 0.01


def test_probabilities_are_a_distribution(model):
    p = model.proba(D29)
    assert p.shape == (len(model.labels),) and abs(p.sum() - 1) < 1e-6
    assert model.labels[0] == "public" and 0.2 <= model.threshold <= 0.99


def test_sentences_split_keeps_offsets():
    text = "第一句。第二句！没有结尾；仍是一句"
    spans = sentences(text)
    assert [text[a:b] for a, b in spans] == ["第一句。", "第二句！", "没有结尾；仍是一句"]


def test_literal_line_breaks_end_sentences():
    """A line break written out as text (\\r\\n, \\n: a string's repr saved into a .docx) ends a
    sentence like a newline, no pair spans it, and the offsets point into the original text; a
    backslash-n before a letter (a path) does not break."""
    text = "一、评分办法  \\r\\n\\r\\n2. 技术指标要求\\r\\n   - 支持并发处理；\\n第二行。第三句\\r末尾"
    spans = sentences(text)
    assert [text[a:b].strip() for a, b in spans] == ["一、评分办法", "2. 技术指标要求", "- 支持并发处理；",
                                                     "第二行。", "第三句", "末尾"]
    assert all("\\" not in text[a:b] for a, b in spans)
    pairs = [text[a:b] for a, b, n in units(text) if n == 2]
    assert pairs == ["第二行。第三句"]
    path = "配置在D:\\nginx\\conf目录下。另一句"
    assert [path[a:b] for a, b in sentences(path)] == ["配置在D:\\nginx\\conf目录下。", "另一句"]


def test_short_unit_without_a_cue_is_not_judged():
    """A catalogue entry or table cell under MIN_CJK_BARE characters with no cue (a topic, not a
    status or a specific fact) is not reported even when the model scores it above the threshold; a
    unit as short with a cue still is."""
    det = PassageDetector()
    bare = "机车车辆及通信信号试验设备"
    assert MIN_CJK <= cjk_count(bare) < MIN_CJK_BARE
    assert det.classify(bare)[1] >= det.model.threshold
    assert det.flagged(bare) == [] and det.flagged("  " + bare + "\n") == []
    cued = "名单不得外传，先别跟村里讲。"
    assert cjk_count(cued) < MIN_CJK_BARE and det.flagged(cued)


def test_altered_model_file_is_refused(tmp_path):
    src = _models.models_dir()
    for name in ("manifest.json", MODEL_FILE):
        shutil.copy(src / name, tmp_path / name)
    PassageDetector(tmp_path)        # intact copy loads
    data = bytearray((tmp_path / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(_models.ModelIntegrityError):
        PassageDetector(tmp_path)
    m = json.loads((tmp_path / "manifest.json").read_text())
    del m["files"][MODEL_FILE]
    (tmp_path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(_models.ModelIntegrityError):
        PassageDetector(tmp_path)


def test_model_file_has_no_pickled_objects():
    with np.load(_models.models_dir() / MODEL_FILE, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)


def test_light_mode_runs_without_models():
    light = Scanner(light=True)
    names = {d.name for d in light.detectors}
    assert "passage" not in names and "names" not in names
    assert "passage" not in light.model_version and "names" not in light.model_version
    assert passages(light.scan_text(D29)) == []


def test_news_passes_through_the_full_scanner(full):
    """With the models on, public news must still pass: names stay low, place names are not
    addresses, the passage threshold holds (bound as the light-mode public corpus test)."""
    rows = read_jsonl(DATA / "news" / "msra_val.jsonl")
    report = full.scan_text("\n".join(r["text"] for r in rows))
    pol = full.policy
    deciding = {f.segment_id for f in report.findings
                if f.confidence >= pol.min_confidence and pol.finding_decision(f) != "pass"}
    # the passage model flags 0.3 % of news sentences (model card: the price of recall 0.85 on
    # written positives from unseen domains, was 0.52 at 0.02 %); the bound is the card's figure
    assert len(deciding) / len(rows) <= 0.004
