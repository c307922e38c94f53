"""The passage classifier's corpus: written pairs by domain, generated sentences, public text.

Sources (provenance in training_data/passage/README.md):
1. training_data/passage/<domain>.jsonl: sentences and short paragraphs written by the project,
   44 domains x 8 registers, every non-public item with a public twin (same topic, published);
   legacy.jsonl: the project's older written sentences (labels mapped onto the taxonomy).
2. Generated sentences: a grammar per old label (FRAMES below, a minority of the data) whose
   slots are filled at random; frames map onto the taxonomy (FRAME_LABEL); "public" frames are
   published phrasings over the same slots.
3. Public text: ../shared/data/news (People's Daily, MSRA) and CLUENER sentences, split by id.
4. Evaluation only: published laws and court cases of tests/realdocs (when built).

Every example is a dict: text, label, source, domain, register, unit, twin_id, split; split is
"train", "calib" (public text the threshold is set on) or "heldout" (public text only used for
figures). Written domain data is all "train": its figures come from models fitted without the
domain (training/passage.py --cv).
"""
from __future__ import annotations

import json
import random
import re
import tomllib

from .common import DATA, ROOT, is_heldout, read_jsonl

WRITTEN = ROOT / "training_data" / "passage"
LEXICON = ROOT / "lexicons" / "passage.toml"
CATEGORIES = tuple(tomllib.loads(LEXICON.read_text(encoding="utf-8"))["category"])
LABELS = ("public",) + CATEGORIES
REALDOCS = ROOT / "tests" / "realdocs" / "files"

S = {
    # shared pieces
    "date": ["明年三月", "下月中旬", "本月二十日", "十一月上旬", "国庆节后", "下周三凌晨", "年底前", "六月底", "明日零时",
             "下个季度", "十五日晚", "春节前", "八月初", "本周五上午", "第三季度", "十月下旬"],
    "place": ["某试验场", "西北某基地", "东南某海域", "某靶场", "三号阵地", "某机场", "山区某仓库", "沿海某港口",
              "二号试验区", "某岛以东海域", "城郊一处库房", "某训练基地", "北部某戈壁", "湖心岛西侧"],
    "thing": ["该型号发动机", "新型预警雷达", "某型无人机", "首台样机", "舰载相控阵系统", "第二批次导弹", "新一代战机",
              "电子对抗系统", "水下潜航器", "高能激光装置", "运载火箭二级", "反无人机系统", "新研制的装甲车"],
    "test": ["地面联调", "飞行试验", "实弹射击", "系泊试验", "首飞", "抗干扰测试", "高原适应性试验", "全弹联试",
             "深潜试验", "打靶试验", "对抗演练", "热试车"],
    "unit": ["参试分队", "两个合成营", "炮兵群", "运输车队", "舰艇编队", "警卫分队", "技术保障组", "值班兵力"],
    "num": ["两", "三", "四", "五", "六", "十二", "二十", "四十", "一百二十", "三百"],
    "pct": ["百分之八", "百分之十五", "百分之三点二", "百分之六", "百分之二十七", "百分之零点五", "百分之四十"],
    "money": ["三千八百万元", "一点七亿元", "十二亿元", "每股二十一元", "四百万元", "八亿元", "每吨六百元"],
    "metric": ["营收", "利润", "失业人数", "财政收入", "确诊人数", "良率", "合格率", "投资额", "亏损额", "库存量"],
    "decision": ["上调居民用水价格", "关停二十七家企业", "取消二套房限购", "合并三个局", "裁员八十人",
                 "下调存款利率", "调整学区划片", "暂停新项目审批", "提高起征点", "出售两家子公司"],
    "param": ["核心参数", "关键技术指标", "配方比例", "工艺参数", "设计图纸", "源代码", "试验数据", "性能指标"],
    "name": ["李建国", "王海涛", "张明", "刘振华", "陈立", "赵主任", "周处长", "孙副局长", "黄某某", "吴书记"],
    "post": ["副局长", "处长", "总经理", "校长", "副市长", "纪检组长", "董事长", "主任", "院长", "总工程师"],
    "org": ["该局", "集团", "市审计局", "公司", "学院", "市政府", "分行", "研究所", "管委会"],
    "hush": ["", "", "", "，暂不对外", "，请勿外传", "，严格保密", "，先别声张", "，不得提前透露", "，仅限内部掌握",
             "，对外暂不提", "，知悉范围严格控制", "，先别往外说"],
    "opener": ["", "", "", "", "据悉，", "经研究，", "按计划，", "根据安排，", "备忘：", "通知：", "老王，", "各位，",
               "补充一点，", "会上明确，", "【内部】", "简报：", "注意："],
    "vuln": ["越权访问漏洞", "默认口令问题", "未授权接口", "远程代码执行漏洞", "弱口令账户", "未加密的备份"],
    "sys": ["门户网站", "财务系统", "门禁系统", "数据库服务器", "监控平台", "办公内网", "邮件系统"],
}

FRAMES = {
    "deployment": [
        "{opener}{unit}今晚在{place}集结，明早{date}前完成机动{hush}。",
        "{opener}{place}新设了{num}个观察哨，夜间由{unit}轮流值守{hush}。",
        "{opener}{thing}的发射阵地选在{place}，完成任务后立即转移{hush}。",
        "{opener}补给点设在{place}，每天夜里由车队往返运送{hush}。",
        "{opener}{test}改到{place}进行，参试船只{date}靠港装载设备{hush}。",
        "{opener}{unit}的巡逻路线{date}起调整为夜间行动，每两小时换岗{hush}。",
        "{opener}{thing}目前存放在{place}，外观按普通仓库伪装{hush}。",
        "{opener}行动时间定在{date}，{unit}在{place}外围布控{hush}。",
        "{opener}{thing}将于{date}在{place}进行{test}{hush}。",
        "{opener}{unit}计划{date}进驻{place}，执行{test}保障任务{hush}。",
        "{opener}{thing}已转运至{place}存放，警戒哨位增加到{num}处{hush}。",
        "{opener}{date}{unit}从营区出发，沿省道前往{place}待命{hush}。",
        "{opener}{thing}{test}的时间定在{date}，地点是{place}{hush}。",
        "{opener}指挥所设在{place}北侧约{num}公里处，夜间实行灯火管制{hush}。",
        "{opener}{place}的{thing}预计{date}完成安装，随后开展{test}{hush}。",
        "{opener}本次{test}参试人员{num}十人，{date}前全部进入{place}{hush}。",
        "{opener}{thing}部署在{place}，位置只通报到相关处室{hush}。",
        "{opener}{date}起{place}实施封闭管理，{unit}负责外围警戒{hush}。",
        "{opener}{unit}下周转场{place}，具体路线另行下发{hush}。",
        "{opener}{thing}{date}运抵{place}后立即组织{test}{hush}。",
    ],
    "unreleased": [
        "{opener}真实的{metric}与年报披露的口径不一致，仅供领导参考{hush}。",
        "{opener}{metric}预计同比下滑{pct}，这个数在公告前不能说{hush}。",
        "{opener}评估报告认为{thing}存在质量问题，报告尚未发布{hush}。",
        "{opener}{org}初步决定{decision}，目前还在征求意见阶段{hush}。",
        "{opener}实测{metric}只有宣传值的{pct}，测试结果暂不公布{hush}。",
        "{opener}选址已经定在{place}附近，规划公布前不要对外讲{hush}。",
        "{opener}本次考试的试题已定稿，将由专人送达考点{hush}。",
        "{opener}{org}的{metric}其实是{money}，内部先按这个数做预案{hush}。",
        "{opener}今年实际完成{metric}{money}，比对外口径低{pct}{hush}。",
        "{opener}初步测算{metric}将下降{pct}，数据尚未发布{hush}。",
        "{opener}拟于{date}{decision}，正式文件尚未印发{hush}。",
        "{opener}{thing}的{param}尚处于保密阶段{hush}。",
        "{opener}经内部研究，拟{decision}，方案仍在论证{hush}。",
        "{opener}项目招标控制价为{money}，开标前不得泄露{hush}。",
        "{opener}{org}{date}将{decision}，消息公布前请勿扩散。",
        "{opener}未公开的统计显示，{metric}比公布数字多{pct}{hush}。",
        "{opener}这批产品的实际{metric}只有{pct}，还没有对外披露{hush}。",
        "{opener}{param}属于核心技术秘密，只在研发中心内部流转{hush}。",
        "{opener}{org}拟定的{metric}目标为{money}，报批前仅供参阅{hush}。",
        "{opener}收购方出价上限为{money}，公告前属于内幕信息{hush}。",
    ],
    "personnel": [
        "{opener}听说{name}下个月接{post}，文还没发{hush}。",
        "{opener}{org}一名干部挪用资金{money}，目前仍在内部处理阶段{hush}。",
        "{opener}拟任人选讨论稿：{post}候选人{num}名，其中包括{name}{hush}。",
        "{opener}{org}已决定对{name}停职检查，处理结果待调查后再定{hush}。",
        "{opener}考察中发现{name}存在违规收受礼金问题，建议不予提拔{hush}。",
        "{opener}董事会拟在下次会议罢免{post}{name}，议案尚未提交{hush}。",
        "{opener}{name}的测评票数偏低，考察组建议暂缓任用{hush}。",
        "{opener}监察委已对{org}两名干部采取留置措施{hush}。",
        "{opener}拟推荐{name}为{post}人选，目前正在考察，尚未公示{hush}。",
        "{opener}纪委已对{org}{post}立案审查，正式通报前{hush}。",
        "{opener}常委会研究决定免去{name}的{post}职务，文件{date}印发{hush}。",
        "{opener}{name}将接任{org}{post}，任命还没有宣布{hush}。",
        "{opener}{org}{post}{name}正在接受组织审查，暂不通报{hush}。",
        "{opener}本轮调整涉及{num}名处级干部，名单待常委会审议后再公布{hush}。",
        "{opener}{name}因违反工作纪律拟给予警告处分，决定尚未送达本人{hush}。",
        "{opener}{org}{post}人选已经内定，等上级批复后才能宣布{hush}。",
        "{opener}{name}{date}要调到省里任{post}，调令还没下{hush}。",
        "{opener}拟录用名单已经确定，公示前不得向考生透露{hush}。",
        "{opener}对{name}的问题线索正在初核，暂不作结论{hush}。",
        "{opener}{org}裁员名单共{num}十人，公布前各部门负责人严格保密。",
    ],
    "internal": [
        "{opener}有同志提出，如果{decision}推不下去，就先悄悄试点{hush}。",
        "{opener}对方资金链已经紧张，谈判时可以把付款周期压长{hush}。",
        "{opener}领导的意见是这件事先不要上报，等问题解决了再说{hush}。",
        "{opener}{sys}的后台地址和默认账号至今没有改，渗透测试建议立即整改{hush}。",
        "{opener}{sys}可被内网任意主机直接连接，目前还没有加访问控制{hush}。",
        "{opener}政府这边准备以检查为由向企业施压，促其接受{money}的报价{hush}。",
        "{opener}会上讲的{decision}方案只限参会人员知道，回去不要传达。",
        "{opener}网上的质疑帖子安排人员跟帖引导，不正面回应{hush}。",
        "{opener}我方谈判底线是{money}，对方报价不突破这个数就可以签约{hush}。",
        "{opener}{sys}存在{vuln}，补丁{date}才能上线{hush}。",
        "{opener}如有记者问及，统一回答正在调查，不提{metric}问题{hush}。",
        "{opener}会上对{decision}分歧较大，主要领导倾向于暂缓{hush}。",
        "{opener}对外口径只说项目正常推进，不提资金缺口{hush}。",
        "{opener}对方的心理价位大约在{money}，我们先报低价试探{hush}。",
        "{opener}{sys}的管理员账户仍在使用默认口令，整改前{hush}。",
        "{opener}内部讨论认为{decision}可能引发上访，需提前准备处置预案{hush}。",
        "{opener}这些情况只限在座的同志知道，回去不要传达。",
        "{opener}{sys}的配置文件和拓扑图只保存在运维组，不得上传共享盘{hush}。",
        "{opener}安全检查发现{num}个高危漏洞，其中{sys}的{vuln}尚未修复{hush}。",
        "{opener}谈判中我方可在{metric}上让步，但核心条款必须坚持{hush}。",
    ],
    # generated hard negatives: the same slots, published
    "public": [
        "{org}在新闻发布会上宣布，将于{date}{decision}。",
        "记者从{org}获悉，{thing}已于近日完成{test}，相关视频已公开播出。",
        "{org}官方微博发布消息，{name}同志已任{post}。",
        "{org}按规定公开了{name}等同志的任前公示信息。",
        "据{org}通报，{post}{name}涉嫌违纪违法，已被立案审查调查。",
        "公告显示，{org}全年{metric}为{money}，同比下降{pct}。",
        "该公司在上市公告中披露了{thing}的{param}。",
        "{unit}在{place}进行的{test}向媒体开放，记者进行了采访。",
        "{org}召开会议，研究部署{decision}工作，会议通稿已对外发布。",
        "{org}发布招聘公告，拟招聘{post}{num}名。",
        "国家统计局发布的数据显示，今年{metric}为{money}。",
        "{org}在官网公开了{sys}安全检查的整改情况。",
        "中标结果公示：本项目中标价为{money}，公示期三天。",
        "央视新闻报道了{unit}在{place}组织{test}的画面。",
        "《保守国家秘密法》规定，{param}等事项经依法确定后属于国家秘密。",
        "{org}举办保密知识讲座，讲解{param}等涉密信息的管理规定。",
        "新闻发言人表示，关于{decision}的具体方案将在{date}公布。",
        "{org}依法公示了拟录用人员名单，接受社会监督。",
        "{thing}于{date}在{place}成功完成{test}，新华社记者现场报道。",
        "国家统计局今天发布数据，{metric}同比增长{pct}。",
        "{org}发布公告，决定自{date}起{decision}。",
        "经公示无异议，{name}同志任{org}{post}。",
        "{org}召开新闻发布会，通报了{metric}等主要指标。",
        "据{org}官网消息，{name}不再担任{post}职务。",
        "厂商在发布会上公布了{thing}的{param}。",
        "{unit}在{place}组织实战化训练，锤炼部队打赢能力。",
        "保密法规定，{param}等涉密信息应当依法确定密级和知悉范围。",
        "{org}依法公开了{metric}等数据，接受社会监督。",
        "市纪委监委发布消息：{org}原{post}涉嫌严重违纪违法，接受审查调查。",
        "网络安全周期间，专家提醒{sys}要及时修复{vuln}等常见问题。",
        "{org}年报显示，全年{metric}为{money}。",
        "招标公告显示，本项目招标控制价为{money}，欢迎投标。",
        "{date}，{org}将举办开放日活动，市民可预约参观。",
        "航展期间，{thing}进行了飞行表演，吸引大批观众。",
        "{thing}此前已在{place}完成{test}，相关情况已对外公开报道。",
        "国防部新闻发言人介绍，{unit}近期在{place}开展了{test}。",
        "据央视报道，{thing}日前顺利完成{test}，各项指标达到设计要求。",
        "{org}在官网公布了{metric}，较上年增长{pct}。",
        "根据已公布的方案，{org}将于{date}{decision}，市民可登录官网查询。",
        "新闻发布会上，{org}负责人介绍了{decision}的有关情况。",
        "{org}发布公示：拟任命{name}为{post}，公示期五个工作日。",
        "{name}当选{org}{post}，新华社播发了简历。",
        "经省委批准，{name}同志任{org}{post}，免去其原职务。",
        "{org}通报：{post}{name}因违纪受到党内警告处分。",
        "{unit}官兵在{place}完成{test}，央视新闻进行了直播。",
        "市民可于{date}前往{place}参观{thing}展览。",
        "{org}公布年度预算，{metric}预计为{money}。",
        "专家解读：{decision}有助于稳定市场预期。",
        "{org}就{decision}公开征求意见，意见反馈截止到{date}。",
        "本次{test}已于{date}结束，主办方发布了总结报告。",
        "论文公开了{thing}的{param}，引起同行关注。",
        "保密宣传教育月期间，{org}组织干部学习保密法，明确{param}的管理要求。",
        "{org}召开保密工作会议，强调涉密人员要严守保密纪律。",
        "据报道，{sys}曾被曝出{vuln}，厂商已发布修复补丁。",
    ],
}

SLOT_RE = re.compile(r"\{(\w+)\}")


# Neutral clauses put before or after a generated sentence of any label (public ones too), so that
# the context around the content does not decide the label.
LEADS = ["为做好相关工作，", "根据工作安排，", "经过前期准备，", "截至目前，", "从目前情况看，", "另外，", "同时，",
         "为此，", "据介绍，", "此外，", "值得注意的是，", "关于这个问题，", "在此基础上，"]
TAILS = ["各单位要高度重视。", "具体事项另行通知。", "请相关部门抓好落实。", "有关情况如下。", "请知悉。",
         "后续进展将及时报告。"]


def expand(frame: str, rng: random.Random) -> str:
    text = SLOT_RE.sub(lambda m: rng.choice(S[m.group(1)]), frame)
    if rng.random() < 0.25 and not frame.startswith("{opener}"):
        text = rng.choice(LEADS) + text
    elif rng.random() < 0.2 and frame.startswith("{opener}") and text[:1] not in "【":
        text = rng.choice(LEADS) + text
    if rng.random() < 0.12:
        text = text + rng.choice(TAILS)
    # light surface variation: drop/alter punctuation, sometimes a trailing clause
    r = rng.random()
    if r < 0.1:
        text = text.rstrip("。") + "！"
    elif r < 0.2:
        text = text.rstrip("。")
    return text.replace("，，", "，").replace("，。", "。")


def frame_label(label: str, frame: str) -> str:
    """The taxonomy category of an old-label frame."""
    if label == "deployment":
        return "military"
    if label == "unreleased":
        if "考试" in frame or "试题" in frame:
            return "exam"
        if "招标" in frame or "收购" in frame:
            return "negotiation"
        return "unpublished"
    if label == "internal":
        if "{sys}" in frame or "{vuln}" in frame:
            return "cyber"
        if "谈判" in frame or "报价" in frame or "价位" in frame or "施压" in frame:
            return "negotiation"
        if "记者" in frame or "口径" in frame or "跟帖" in frame or "上访" in frame:
            return "emergency"
        return "unpublished"
    return label


def generated(n_per_label: int = 120, seed: int = 7):
    """Generated sentences (all in training; a minority of the corpus)."""
    rng = random.Random(seed)
    out = []
    for label, frames in FRAMES.items():
        for frame in frames:
            seen = set()
            for _ in range(max(1, n_per_label // len(frames))):
                t = expand(frame, rng)
                if t not in seen:
                    seen.add(t)
                    out.append(ex(t, frame_label(label, frame), "generated:" + label, "generated", "generated"))
    return out


def ex(text, label, source, domain, register, unit="sentence", twin_id="", split="train") -> dict:
    return {"text": text, "label": label, "source": source, "domain": domain, "register": register,
            "unit": unit, "twin_id": twin_id, "split": split}


def written():
    out = []
    for path in sorted(WRITTEN.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            assert r["label"] in LABELS, (path.name, r["label"])
            out.append(ex(r["text"], r["label"], "written:" + path.stem, r["domain"], r["register"],
                          r.get("unit", "sentence"), r.get("twin_id", "")))
    return out


def _split(key: str, held_percent: int) -> str:
    return "heldout" if is_heldout(key, held_percent) else ("calib" if is_heldout("c:" + key, 20) else "train")


def news():
    out = []
    for name in ("peoplesdaily_dev.jsonl", "msra_val.jsonl"):
        for r in read_jsonl(DATA / "news" / name):
            t = r["text"].strip()
            if t:
                out.append(ex(t, "public", "news:" + name, "news", "news", split=_split(r["id"], 50)))
    for r in read_jsonl(DATA / "ner" / "cluener_train.jsonl"):
        out.append(ex(r["text"], "public", "ner:cluener_train", "cluener", "web", split=_split(r["id"], 20)))
    return out


def realdocs_sentences(limit_chars: int = 400) -> list[str]:
    """Sentences of the published laws and court cases in tests/realdocs/files (evaluation only;
    empty when the set is not built)."""
    out = []
    for p in sorted((REALDOCS / "Laws").rglob("*.md")) if (REALDOCS / "Laws").exists() else []:
        for para in p.read_text(encoding="utf-8", errors="replace").splitlines():
            para = para.strip().lstrip("#*>- ").strip()
            for m in re.finditer(r"[^。！？!?]*[。！？!?]+|[^。！？!?]+$", para):
                s = m.group().strip()
                if 12 <= sum(1 for c in s if "\u4e00" <= c <= "\u9fff") and len(s) <= limit_chars:
                    out.append(s)
    return out


def build(n_per_label: int = 120, seed: int = 7):
    return written() + generated(n_per_label, seed) + news()


def news_sentences() -> list[str]:
    """All sentences of ../shared/data/news, for the flag-rate check."""
    out = []
    for name in ("peoplesdaily_dev.jsonl", "msra_val.jsonl"):
        out += [r["text"] for r in read_jsonl(DATA / "news" / name) if r["text"].strip()]
    return out


if __name__ == "__main__":
    from collections import Counter
    data = build()
    print(Counter((e["label"], e["split"]) for e in data))
    print(Counter(e["domain"] for e in data).most_common(8))
