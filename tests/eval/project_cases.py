"""The project's own labelled evaluation drafts (same format as ../shared/eval/dev_cases.py).

Build:  python ../shared/eval/build.py tests/eval/project_cases.py OUTDIR
Score:  python ../shared/eval/score.py OUTDIR --cmd "baomi scan --format jsonl"

Roughly half the drafts are public text that must pass (hard negatives: text that talks about
secrecy, identifiers that are not personal data, masked values, office numbers, public IPs in
tutorials), half must be held back. Labels follow ../shared/DESIGN.md ("Decision"): a 国家秘密标志
blocks; private personal data, secrets, hidden content, restriction terms and non-public passages
send to review; low-severity findings (a name alone in news, an office phone, a hotline) pass.

Every identifier is synthetic: built with the helpers of ../shared/eval/synth.py (valid check
digits, no real person), or computed below (unified social credit codes, ISBNs).
"""
import sys
from pathlib import Path

_SHARED_EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
sys.path.insert(0, str(_SHARED_EVAL))
from synth import bad_id_number, fullwidth, id_number, luhn_number, spaced  # noqa: E402


# ---- synthetic identifiers ------------------------------------------------------------------------

def uscc(body17: str) -> str:
    """Unified social credit code (GB 32100) with its check character."""
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(chars.index(c) * w for c, w in zip(body17, weights))
    return body17 + chars[(31 - total % 31) % 31]


def isbn13(body12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


ID_1 = id_number("110105", "19850312", "127")
ID_2 = id_number("310104", "19920704", "358")
ID_3 = id_number("440305", "19780923", "416")
ID_4 = id_number("510107", "20030215", "062")
ID_5 = id_number("320102", "19661108", "231")
ID_6 = id_number("610113", "19900101", "775")
ID_7 = id_number("230103", "19720530", "813")
ID_8 = id_number("500103", "19881219", "504")
ID_9 = id_number("350203", "19951026", "149")
ID_10 = id_number("430104", "19870607", "352")
# an ID whose check character is X (searched among a few sequences)
ID_X = next(i for i in (id_number("370102", "19810417", f"{s:03d}") for s in range(100, 400)) if i.endswith("X"))
ID_OLD15 = "120101" + "750316" + "043"          # 15-digit first-generation ID: region, yymmdd, sequence
ID_BAD = bad_id_number("210102", "19930822", "617")  # wrong check digit: an order-number look-alike

CARD_ICBC19 = luhn_number("621226", 19)     # 中国工商银行 借记卡 19
CARD_CMB16 = luhn_number("356885", 16)      # 招商银行 信用卡 16
CARD_CIB18 = luhn_number("622908", 18)      # 兴业银行 借记卡 18
CARD_BOCOM17 = luhn_number("622258", 17)    # 交通银行 借记卡 17
CARD_PSBC19 = luhn_number("621095", 19)     # 中国邮政储蓄银行 借记卡 19
CARD_CCB16 = luhn_number("436745", 16)      # 中国建设银行 信用卡 16
CARD_BOC19 = luhn_number("601382", 19)      # 中国银行 借记卡 19
CARD_SPDB16 = luhn_number("621351", 16)     # 上海浦东发展银行 借记卡 16

USCC_1 = uscc("91110108MA01" + "R3K7T")
USCC_2 = uscc("12100000" + "400011523")      # 事业单位, all digits but the check
ISBN_1 = isbn13("978751" + "234567")

MOB_1 = "13912345678"
MOB_2 = "18611112233"
MOB_3 = "15067891234"
MOB_4 = "17798765432"
MOB_5 = "13355556677"
MOB_6 = "19912348765"

CASES = []


def case(cid, fmt, body, decision, must=(), must_not=(), **extra):
    item = {"id": cid, "format": fmt, "body": list(body),
            "expect": {"decision": decision, "must": list(must), "must_not": list(must_not)}}
    item.update(extra)
    CASES.append(item)


def m(category, text=None):
    item = {"category": category}
    if text is not None:
        item["text"] = text
    return item


# ===================================================================================================
# 1. Classification markings (国家秘密标志) — every form and position. All block, except the
#    restriction marks (内部资料 ...), which policy sends to review, and hidden-layer ones (review at least).
# ===================================================================================================

case("mk01", "txt", ["机密★5年", "关于做好年度重点项目资金调度工作的通知",
                      "各区县财政局：为加快预算执行进度，现就有关事项通知如下。"],
     "block", [m("marking.level", "机密★5年")])
case("mk02", "txt", ["绝密★长期", "特急", "关于专项任务保障工作的实施方案",
                      "一、总体要求。二、任务分工。三、保障措施。"],
     "block", [m("marking.level", "绝密★长期")])
case("mk03", "docx", ["秘密★启用前", "2026年度专业技术人员职业资格考试",
                       "综合能力测试试卷（A卷）", "一、单项选择题（每题1分，共60分）"],
     "block", [m("marking.level", "秘密★启用前")])
case("mk04", "txt", ["机密★解密时间：2031年12月31日", "关于调整部分区域规划指标的请示",
                      "市政府：根据工作需要，拟对以下区域规划指标进行调整。"],
     "block", [m("marking.level", "机密")])
case("mk05", "txt", ["秘密", "特急", "关于近期舆情处置情况的报告",
                      "市委：现将近期舆情处置有关情况报告如下。"],
     "block", [m("marking", "秘密")])   # 密级 alone in the marking position (GB/T 9704 allows it without a period)
case("mk06", "txt", ["秘密☆2年", "关于召开季度工作调度会的通知", "请各单位主要负责同志准时参会。"],
     "block", [m("marking.level", "秘密☆2年")])
case("mk07", "txt", ["机密*10年", "情况专报（第3期）", "一、基本情况。近期我市接到群众反映若干起。"],
     "block", [m("marking.level", "机密*10年")])
case("mk08", "txt", ["機密★十年", "會議紀要", "時間：二〇二六年三月五日上午", "地點：第一會議室"],
     "block", [m("marking.level", "機密★十年")])
case("mk09", "txt", ["秘密★十二个月", "关于印发《重点工作督查办法》的通知"],
     "block", [m("marking.level", "秘密★十二个月")])
case("mk10", "txt", [fullwidth("机密") + " ★ " + fullwidth("3") + " 年", "工作简报（第12期）",
                      "本期主要内容：专项检查发现的问题及整改措施。"],
     "block", [m("marking.level", "机密★3年")])
case("mk11", "txt", ["绝 密 ★ 二 十 年", "关于重大项目选址论证情况的报告"],
     "block", [m("marking.level", "绝密★二十年")])
case("mk12", "docx", ["会议纪要", "2026年第4次专题会议", "会议研究了年度重点工作推进情况，形成如下意见。"],
     "block", [m("marking.level", "机密★1年")], header="机密★1年")
case("mk13", "docx", ["关于开展安全隐患排查整治的通知", "各单位要高度重视，于本月底前完成自查。"],
     "block", [m("marking.level", "秘密★3个月")], footer="秘密★3个月")
case("mk14", "txt", ["关于印发年度督查工作方案的通知", "各部门：", "现将《年度督查工作方案》印发给你们，请认真贯彻执行。",
                      "附件：年度督查工作方案", "2026年3月10日", "", "附件", "秘密★1年",
                      "年度督查工作方案", "一、督查内容。二、督查方式。三、时间安排。"],
     "block", [m("marking.level", "秘密★1年")])   # annex on a later page carries its own marking
case("mk15", "txt", ["发文稿纸", "密级：机密　　　缓急：特急", "标题：关于下达年度专项资金计划的通知", "拟稿单位：规划处"],
     "block", [m("marking", "机密")])
case("mk16", "docx", ["文件处理单"], "block", [m("marking", "秘密")],
     table=[["来文单位", "市发展改革委"], ["文号", "发改〔2026〕18号"], ["密级", "秘密"], ["缓急", "急件"]])
case("mk17", "docx", ["呈批件"], "block", [m("marking", "机密★5年")],
     table=[["标题", "关于调整应急物资储备布局的请示"], ["密级及保密期限", "机密★5年"], ["签发人", ""]])
case("mk18", "pdf", ["秘密★2年", "关于做好防汛物资调拨工作的函", "请你单位于6月15日前完成物资调拨。"],
     "block", [m("marking.level", "秘密★2年")])
case("mk19", "html", ["机密★3年", "关于通报近期网络攻击事件的函", "近期发现多起针对政务系统的网络攻击。"],
     "block", [m("marking.level", "机密★3年")])
case("mk20", "txt", ["秘密★6个月", "关于组织开展应急演练的通知", "各街道：定于下月组织开展综合应急演练。"],
     "block", [m("marking.level", "秘密★6个月")], encoding="gb18030")
case("mk21", "txt", ["机密★2年", "关于某项目前期工作的汇报提纲"],
     "block", [m("marking.level", "机密★2年")], encoding="utf-16")
case("mk22", "txt", ["内部资料", "注意保存", "党建工作简报", "第7期", "本期刊发各支部主题党日活动开展情况。"],
     "review", [m("marking.internal", "内部资料")])
case("mk23", "docx", ["内部★", "工作情况反映（第21期）", "近期部分企业反映用工成本上升较快。"],
     "review", [m("marking.internal", "内部")])
case("mk24", "txt", ["内部资料　严禁外传", "信访工作动态", "本月共受理群众来信来访一百二十件次。"],
     "review", [m(["marking.internal", "term"])])
case("mk25", "docx", ["新闻通稿", "我市第二届数字经济峰会今天开幕。"],
     "review", [m("hidden"), m("marking", "秘密★1年")],
     tracked=[(0, "del", "秘密★1年")])    # the marking was deleted, but the file still carries it
case("mk26", "docx", ["关于开展读书月活动的通知", "读书月期间，市图书馆将举办系列讲座。"],
     "review", [m("hidden"), m("marking", "机密★5年")],
     hidden=[(0, "机密★5年")])
case("mk27", "pdf", ["关于召开全市安全生产工作会议的通知", "会议定于3月20日上午召开。"],
     "review", [m("hidden")], hidden=["机密★5年 内部文件 请勿外传"])
case("mk28", "txt", ["秘密★5年（本文件发至县处级）", "关于进一步加强重点时段值班值守工作的通知"],
     "block", [m("marking.level", "秘密★5年")])
case("mk29", "docx", ["附件2", "机密★长期", "重点目标防护名录", "（略）"],
     "block", [m("marking.level", "机密★长期")])
case("mk30", "txt", ["秘密★2029年6月30日", "关于某专项资金使用情况的审计报告"],
     "block", [m("marking.level", "秘密")])

# ===================================================================================================
# 2. Public text about secrecy (must pass): mentions are not markings.
# ===================================================================================================

case("pub01", "txt", ["中华人民共和国保守国家秘密法（节选）",
                       "第十三条 国家秘密的密级分为绝密、机密、秘密三级。",
                       "绝密级国家秘密是最重要的国家秘密，泄露会使国家安全和利益遭受特别严重的损害；",
                       "机密级国家秘密是重要的国家秘密，泄露会使国家安全和利益遭受严重的损害；",
                       "秘密级国家秘密是一般的国家秘密，泄露会使国家安全和利益遭受损害。"],
      "pass", must_not=["marking"])
case("pub02", "txt", ["关于举办全市机关保密知识竞赛的通知",
                       "为深入学习宣传保密法律法规，增强干部职工保密意识，经研究，决定举办全市机关保密知识竞赛。",
                       "竞赛内容包括保密法、保密法实施条例以及定密、密件管理等基础知识。",
                       "联系电话：0571-87051234（市保密办办公室）。"],
      "pass", must_not=["marking"])
case("pub03", "txt", ["党政机关公文格式要点（GB/T 9704—2012）",
                       "份号一般用6位3号阿拉伯数字，顶格编排在版心左上角第一行。",
                       "密级和保密期限一般用3号黑体字，顶格编排在版心左上角第二行；保密期限中的数字用阿拉伯数字标注，"
                       "密级和保密期限之间用“★”隔开，如“机密★1年”。",
                       "紧急程度一般用3号黑体字，顶格编排在版心左上角。"],
      "pass", must_not=["marking.field", "marking.internal"])
case("pub04", "docx", ["信息安全基础知识", "信息安全的三个基本属性是机密性、完整性和可用性（CIA）。",
                        "机密性是指信息不被泄露给非授权的用户；保密性保护通常依靠加密、访问控制和审计实现。"],
      "pass", must_not=["marking"])
case("pub05", "txt", ["技术服务合同（示范文本）", "第八条 保密条款",
                       "双方应对在合作中知悉的对方商业秘密、技术秘密承担保密义务，未经对方书面同意不得向第三方披露。",
                       "本条款在合同终止后三年内继续有效。"],
      "pass", must_not=["marking"])
case("pub06", "txt", ["秘密花园", "——市少儿图书馆绘本共读活动", "本周六上午十点，我们一起走进《秘密花园》的奇妙世界。",
                       "活动地点：少儿图书馆三楼绘本馆。"],
      "pass", must_not=["marking"])
case("pub07", "html", ["电影《秘密访客》定档", "悬疑片《秘密访客》宣布定档五一，主演阵容日前公布。"],
      "pass", must_not=["marking"])
case("pub08", "txt", ["红色档案里的故事", "1947年春，一份标有“绝密”字样的电报从前线发往延安。",
                       "这份机密电报详细报告了敌军的兵力部署，为战役胜利提供了重要情报。",
                       "如今，这份电报静静地陈列在纪念馆的展柜中。"],
      "pass", must_not=["marking"])
case("pub09", "txt", ["全市保密工作会议召开", "3月18日，全市保密工作会议召开。",
                       "会议总结了2025年保密工作，部署了2026年重点任务，强调要加强涉密人员管理和网络保密管理。",
                       "市委常委、秘书长出席会议并讲话。"],
      "pass", must_not=["marking"])
case("pub10", "txt", ["招聘启事", "某科技有限公司因业务发展需要，现招聘软件开发工程师3名。",
                       "任职要求：本科及以上学历；具有良好的职业道德，能够遵守公司保密制度；有涉密信息系统开发经验者优先。",
                       "简历请投递至招聘邮箱：hr@example-tech.cn。"],
      "pass", must_not=["marking"])
case("pub11", "txt", ["政府信息公开申请答复书", "你于2026年2月10日提出的政府信息公开申请收悉。",
                       "经审查，你申请公开的信息属于国家秘密，根据《中华人民共和国政府信息公开条例》第十四条的规定，依法不予公开。",
                       "如对本答复不服，可以在收到本答复之日起60日内依法申请行政复议。"],
      "pass", must_not=["marking"])
case("pub12", "txt", ["2026年度公务员录用考试公告", "考试试题及参考答案、评分标准在启用前属于绝密级国家秘密。",
                       "试卷袋上标有“绝密★启用前”字样，考生应在监考人员宣布开考后方可拆封试卷。",
                       "咨询电话：12333。"],
      "pass", must_not=["marking.field", "marking.internal"])
case("pub13", "txt", ["2025年全市国民经济和社会发展统计公报", "初步核算，全年地区生产总值8312.6亿元，比上年增长5.3%。",
                       "全年城镇新增就业12.4万人，城镇调查失业率为5.1%。", "居民消费价格比上年上涨0.4%。"],
      "pass")
case("pub14", "txt", ["揭开深海的秘密", "——科普讲座走进校园", "讲座中，专家用生动的案例介绍了深海探测的历史与前沿进展。"],
      "pass", must_not=["marking"])
case("pub15", "docx", ["年度工作总结", "一年来，我局严格落实保密工作责任制，组织涉密人员参加保密培训两次，开展保密检查四次，未发生失泄密事件。",
                        "机要文件收发、登记、清退做到规范有序。"],
      "pass", must_not=["marking", "hidden"])
case("pub16", "txt", ["保密宣传月｜这些行为可能导致泄密", "1. 将涉密文件拍照发到微信群；", "2. 在互联网计算机上处理“秘密”级文件；",
                       "3. 把标有“内部资料”的材料当作废纸出售。", "请大家引以为戒，严守保密纪律。"],
      "pass", must_not=["marking.level", "marking.field"])
case("pub17", "docx", ["科研项目申报书"], "pass", must_not=["marking"],
     table=[["项目名称", "城市内涝智能预警关键技术研究"], ["密级", "公开"], ["申报单位", "某大学土木工程学院"]])
case("pub18", "txt", ["采购需求公告", "项目名称：办公设备采购", "密级：非密", "预算金额：48.6万元", "采购方式：公开招标"],
      "pass", must_not=["marking"])
case("pub19", "txt", ["商业秘密保护指引（企业版）", "商业秘密是指不为公众所知悉、具有商业价值并经权利人采取相应保密措施的技术信息、经营信息等商业信息。",
                       "企业应当对商业秘密分级管理，可参照“核心商密”“普通商密”划分。"],
      "pass", must_not=["marking"])
case("pub20", "pdf", ["关于举办读书月活动的通知", "读书月期间，市图书馆将举办系列讲座和图书漂流活动，欢迎市民参加。"],
      "pass", must_not=["marking", "hidden"])

# ===================================================================================================
# 3. Personal data — and its look-alikes.
# ===================================================================================================

case("pii01", "txt", ["2026年度区级优秀志愿者名单", f"1. 周立新，身份证号{ID_1}，东风街道志愿服务队。",
                       f"2. 孙雅琴，身份证号{ID_2}，望京社区志愿服务站。"],
     "review", [m("pii.id_card", ID_1), m("pii.id_card", ID_2)])
case("pii02", "txt", ["困难群众临时救助名单公示", f"申请人：冯建国，公民身份号码：{ID_X}，救助金额：2000元。"],
     "review", [m("pii.id_card", ID_X)])
case("pii03", "txt", ["房屋征收补偿公告", f"被征收人林某（身份证号：{ID_OLD15}），房屋建筑面积86.4平方米。"],
     "review", [m("pii.id_card", ID_OLD15)])
case("pii04", "txt", ["考生报名信息核对", f"考生张晓琳，身份证号 {fullwidth(ID_3)}，报考岗位：文秘。"],
     "review", [m("pii.id_card", ID_3)])
case("pii05", "txt", ["租赁合同备案信息", f"承租人：郭志强，证件号码：{ID_4[:6]} {ID_4[6:14]} {ID_4[14:]}。"],
     "review", [m("pii.id_card")])
case("pii06", "docx", ["2026年春季学期助学金发放名单"], "review",
     [m("pii.id_card", ID_5), m("pii.bank_card", CARD_ICBC19)],
     table=[["序号", "姓名", "身份证号", "银行卡号", "金额（元）"],
            ["1", "钱小雨", ID_5, CARD_ICBC19, "1500"],
            ["2", "何家明", ID_6, CARD_PSBC19, "1500"]])
case("pii07", "docx", ["关于表彰优秀社区工作者的决定", "经研究，决定对以下同志予以表彰。"], "review",
     [m("hidden"), m("pii.id_card", ID_7)],
     comments=[(1, f"请核对：王德顺 身份证{ID_7}")])
case("pii08", "docx", ["志愿者招募公告", "本次活动计划招募志愿者50名。"], "review",
     [m("hidden"), m("pii.id_card", ID_8)],
     tracked=[(1, "del", f"联系人：刘长青，身份证{ID_8}")])
case("pii09", "txt", ["拟录用人员公示（已脱敏）", f"1. 李某，身份证号：{ID_9[:6]}********{ID_9[-4:]}，岗位：会计。",
                       f"2. 陈某某，身份证号：{ID_10[:3]}***********{ID_10[-4:]}，手机：{MOB_1[:3]}****{MOB_1[-4:]}。"],
     "pass", must_not=["pii.id_card", "pii.phone"])
case("pii10", "txt", ["社区网格员联系方式", f"第三网格：网格员赵丽华，手机 {MOB_2}，负责楼栋：1-8号楼。"],
     "review", [m("pii.phone", MOB_2)])
case("pii11", "txt", ["赛事报名确认", f"领队：吴刚　电话：+86 139 1234 5678", "请于比赛前一天到场检录。"],
     "review", [m("pii.phone", "13912345678")])
case("pii12", "txt", ["失物招领", f"一名市民在公交车上捡到钱包一个，失主可联系拾金者郑师傅：86-{MOB_3}。"],
     "review", [m("pii.phone", MOB_3)])
case("pii13", "txt", ["家长会通知", f"如有疑问请联系班主任许老师（{MOB_4[:3]}-{MOB_4[3:7]}-{MOB_4[7:]}）。"],
     "review", [m("pii.phone", MOB_4)])
case("pii14", "html", ["房屋出租", f"两室一厅出租，拎包入住，联系人邓女士，电话：(+86){MOB_5}。"],
     "review", [m("pii.phone", MOB_5)])
case("pii15", "txt", ["外卖配送异常处理说明", f"骑手联系方式：{fullwidth(MOB_6)}，请用户耐心等待。"],
     "review", [m("pii.phone", MOB_6)])
case("pii16", "txt", ["奖学金发放说明", f"请将奖学金转入获奖学生本人招商银行信用卡 {spaced(CARD_CMB16)}。"],
     "review", [m("pii.bank_card", CARD_CMB16)])
case("pii17", "txt", ["劳务费发放明细", f"收款人：蒋文涛，开户行：兴业银行，账号：{CARD_CIB18}，金额：3200元。"],
     "review", [m("pii.bank_card", CARD_CIB18)])
case("pii18", "txt", ["退费通知", f"退费将原路退回至交通银行卡{spaced(CARD_BOCOM17)}，请注意查收。"],
     "review", [m("pii.bank_card", CARD_BOCOM17)])
case("pii19", "docx", ["报销单"], "review", [m("pii.bank_card", CARD_BOC19)],
     table=[["报销人", "谢明"], ["收款卡号", spaced(CARD_BOC19, 4)], ["开户行", "中国银行"]])
case("pii20", "txt", ["投稿须知", "来稿请发送至编辑部投稿邮箱 tougao@example-journal.cn，请勿一稿多投。",
                       "编辑部电话：010-64881234。"],
     "pass")   # an institutional mailbox and an office line are public contact points
case("pii21", "txt", ["课题组成员", f"负责人：韩雪（个人邮箱 hanxue1988@example.com，手机{MOB_1}）。"],
     "review", [m("pii.email", "hanxue1988@example.com"), m("pii.phone", MOB_1)])
case("pii22", "txt", ["出国（境）团组备案", "团员：梁志远，护照号码：E58214736，有效期至2031年5月。"],
     "review", [m("pii.passport", "E58214736")])
case("pii23", "txt", ["交通违法处理告知", "车主何某，车牌号为浙A·7K32Q的小型汽车于3月2日在中山路违停。"],
     "review", [m("pii.plate", "浙A·7K32Q")])
case("pii24", "txt", ["邻里纠纷调解记录", "当事人：马桂芳，住址：江苏省南京市玄武区北京东路41号7栋2单元503室。",
                       "调解结果：双方达成和解。"],
     "review", [m("pii.address", "北京东路41号")])
case("pii25", "txt", ["行政处罚决定书（送达稿）", "当事人：宋某，男，1982年4月出生，住广东省深圳市南山区桃园路88号3栋1204室。"],
     "review", [m("pii.address", "桃园路88号")])
case("pii26", "txt", ["市政务服务中心办事指南", "办公地址：某市东湖路118号市民之家2楼", "咨询电话：0512-68881234（工作日）",
                       "政务服务便民热线：12345；纪检监察举报电话：12388。"],
     "pass")   # public office address, office line, hotlines: at most low severity
case("pii27", "txt", ["消费维权提示", "遇到紧急情况请拨打110，火警119，急救120。",
                       "如对银行服务有异议，可拨打工商银行客服热线95588或拨打消费者投诉热线12315。"],
     "pass", must_not=["pii.id_card", "pii.bank_card"])
case("pii28", "txt", ["中标结果公告", f"中标供应商：某信息技术有限公司，统一社会信用代码：{USCC_1}。",
                       f"采购人：某市第一中学，统一社会信用代码：{USCC_2}。", "合同编号：HT-2026-0315-027。"],
     "pass", must_not=["pii.id_card", "pii.bank_card"])
case("pii29", "txt", ["快递延误致歉说明", "您的快递单号SF1408237651294因天气原因延误，预计明日送达。",
                       "订单编号：202603151042387765，发票号码：04523817，发票代码：144032509110。"],
     "pass", must_not=["pii.id_card", "pii.bank_card", "pii.phone"])
case("pii30", "txt", ["新书推介", f"《城市记忆》，ISBN {ISBN_1[:3]}-{ISBN_1[3]}-{ISBN_1[4:8]}-{ISBN_1[8:12]}-{ISBN_1[12]}，定价68.00元。",
                       f"书号：{ISBN_1}，出版时间：2026年1月。"],
     "pass", must_not=["pii.bank_card", "pii.phone", "pii.id_card"])
case("pii31", "txt", ["市人民医院举行新院区启用仪式", "3月28日上午，市人民医院新院区启用仪式举行，市长李建华出席并讲话。",
                       "院长王海涛介绍了新院区的建设情况。"],
     "pass", must_not=["pii.id_card", "pii.phone"])   # public officials' names in news: low severity at most
case("pii32", "txt", ["物流订单查询", f"订单号：{ID_BAD}，下单时间：2026-03-18 10:42，订单金额：￥1,288.00。"],
     "pass", must_not=["pii.id_card"])   # 18 digits with a wrong check digit: not an ID number
case("pii33", "txt", ["第十届城市马拉松赛事公告", "比赛时间：2026年4月12日7:30，起点：市民广场，终点：奥体中心体育场。",
                       "赛事咨询电话：0731-84561234，报名网站：www.example-marathon.cn。"],
     "pass")   # a public event venue and an office line
case("pii34", "txt", ["信用卡还款提醒（模板）", f"尊敬的客户，您尾号{CARD_CCB16[-4:]}的信用卡本期应还金额2,356.00元。",
                       f"还款账户：{CARD_CCB16[:4]} **** **** {CARD_CCB16[-4:]}。"],
     "pass", must_not=["pii.bank_card"])
case("pii35", "docx", ["活动报名表"], "review", [m("pii.phone", MOB_3), m("pii.id_card", ID_4)],
     table=[["姓名", "性别", "身份证号", "联系电话"], ["罗嘉怡", "女", ID_4, MOB_3]])

# ===================================================================================================
# 4. Secrets and network internals — and public technical text.
# ===================================================================================================

case("sec01", "txt", ["系统上线通知", "各科室：新版OA系统已上线，初始账号为工号，统一初始口令为 Oa@2026#sz，请登录后立即修改。"],
     "review", [m("secret.credential", "Oa@2026#sz")])
case("sec02", "txt", ["会议室使用须知", "会议室无线网络：SSID HZ-ZW-5F，WiFi密码：hzzw2026!，请勿告知外来人员。"],
     "review", [m("secret.credential", "hzzw2026!")])
case("sec03", "docx", ["运维交接记录", "服务器管理员账号：root　密码：Xk9$mPq2!", "备份计划每日凌晨2点执行。"],
     "review", [m("secret.credential", "Xk9$mPq2!")])
case("sec04", "txt", ["数据接口配置说明", "数据库连接串：mysql://hr_app:Hr#2026pwd@10.20.3.45:3306/hrdb",
                       "请各开发组按此配置测试环境。"],
     "review", [m("secret", "Hr#2026pwd"), m("secret.intranet", "10.20.3.45")])
case("sec05", "txt", ["对象存储接入说明", "AccessKeyId: AKIAQ7ZK3MEXAMPLE7QX", "SecretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"],
     "review", [m("secret.credential", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY")])
case("sec06", "html", ["代码仓库迁移公告", "请使用以下令牌拉取代码：ghp_8fK2mQ9xT4vB7nR1cY6wZ3hJ5pL0sD2aE4gU"],
     "review", [m("secret.credential", "ghp_8fK2mQ9xT4vB7nR1cY6wZ3hJ5pL0sD2aE4gU")])
case("sec07", "txt", ["证书部署说明", "-----BEGIN RSA PRIVATE KEY-----",
                       "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
                       "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
                       "-----END RSA PRIVATE KEY-----"],
     "review", [m("secret.credential")])
case("sec08", "txt", ["内网系统访问指引", "请在单位内网访问：http://oa.intra.jxs.gov.cn:8080/portal，文件服务器地址 \\\\10.1.8.20\\共享文件。"],
     "review", [m("secret.intranet")])
case("sec09", "txt", ["视频会议保障方案", "主会场MCU地址为172.16.40.12，分会场终端统一注册到该地址，备用线路网关为192.168.200.1。"],
     "review", [m("secret.intranet", "172.16.40.12")])
case("sec10", "txt", ["接口调用示例", "curl -H \"Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbjAxIiwicm9sZSI6Im9wcyJ9.Qm9fX2xY7aVv3kR8sT1uW4zB6nC9dE2fG5hJ8kL0mN3\" https://api.example.com/v1/items"],
     "review", [m("secret.credential")])
case("sec11", "txt", ["电子邮箱开通通知", "你的单位邮箱账号已开通，用户名：zhangwei@example.gov.cn，密码是 Zw_83726150，请首次登录后修改。"],
     "review", [m("secret.credential", "Zw_83726150")])
case("sec12", "txt", ["家用路由器设置小贴士", "在浏览器地址栏输入路由器默认管理地址192.168.1.1，按照向导设置上网方式。",
                       "建议及时修改出厂默认密码，并开启WPA2加密。"],
     "pass", must_not=["secret.credential"])
# Judgement: 192.168.1.1 here is the well-known factory default of consumer routers, printed on every
# box; it reveals nothing about the author's own network. A 保密办 reviewer would not hold a public
# how-to back for it. Any secret.intranet finding should be low severity (context words: 路由器, 默认).
case("sec13", "txt", ["网络故障排查指南", "若网页无法打开，可将DNS服务器设为114.114.114.114或223.5.5.5后重试。",
                       "也可以使用ping命令测试与8.8.8.8的连通性。"],
     "pass", must_not=["secret"])
case("sec14", "txt", ["软件更新公告", "客户端已升级至10.2.3.4版本，修复了若干已知问题。",
                       "Windows版本要求：10.0.19045及以上；浏览器内核版本：120.0.6099.109。"],
     "pass", must_not=["secret"])   # version numbers that look like IPs
case("sec15", "txt", ["账户安全提醒", "请妥善保管您的密码，不要将密码告诉他人。", "工作人员不会以任何理由向您索要密码或验证码。",
                       "密码应由8位以上字母、数字和特殊字符组成。"],
     "pass", must_not=["secret"])
case("sec16", "txt", ["网上办事指南", "首次登录时，初始密码为身份证号码后六位，登录后请及时修改。",
                       "办事网址：https://www.example.gov.cn/zwfw。"],
     "pass", must_not=["secret"])
case("sec17", "txt", ["门户网站改版上线", "新版门户网站（https://www.jxs.gov.cn）今日正式上线，服务器IP为 59.110.22.178。",
                       "网站开设政务公开、办事服务、互动交流等栏目。"],
     "pass", must_not=["secret"])
case("sec18", "txt", ["保险柜管理规定", "机要室保险柜开启密码：左3圈27，右2圈81，左1圈45，仅限机要员掌握。"],
     "review", [m(["secret", "term"])])
case("sec19", "docx", ["应急值班表", "夜间值班人员请登录值班系统（账号duty01，口令 Duty!0509）填写值班日志。"],
     "review", [m("secret.credential", "Duty!0509")])
case("sec20", "txt", ["部署说明", "配置文件 application.yml 中设置：", "spring.datasource.url=jdbc:oracle:thin:@10.8.12.7:1521/orcl",
                       "spring.datasource.username=fin_rw", "spring.datasource.password=Fin_rw#8812"],
     "review", [m("secret.credential", "Fin_rw#8812"), m("secret.intranet", "10.8.12.7")])
case("sec21", "txt", ["计算机基础教程·第三章", "IPv4地址分为A、B、C、D、E五类，其中10.0.0.0/8、172.16.0.0/12和192.168.0.0/16为私有地址段，"
                       "只能在局域网内使用。"],
     "pass", must_not=["secret.credential"])   # textbook ranges, not a host

# ===================================================================================================
# 5. Coordinates versus other numbers.
# ===================================================================================================

case("geo01", "txt", ["应急通信保障点位表", "3号保障点位于北纬28°12′36.48″、东经112°58′41.07″，配备卫星通信车一台。"],
     "review", [m("geo.coordinates")])
case("geo02", "txt", ["水文监测站建设方案", "新建监测站坐标：E113.264387°，N23.129163°，占地约200平方米。"],
     "review", [m("geo.coordinates")])
case("geo03", "txt", ["油料库选址", "备选点位（WGS84）：39.904211,116.407395；周边2公里内无居民区。"],
     "review", [m("geo.coordinates", "39.904211")])
case("geo04", "txt", ["地震速报", "中国地震台网正式测定：3月12日08时15分在某县（北纬29.59度，东经102.08度）发生4.2级地震，震源深度10千米。"],
     "pass")   # official public bulletin, two decimals (~1 km), published by design
case("geo05", "txt", ["一季度经济运行情况", "规模以上工业增加值同比增长6.25%，社会消费品零售总额增长4.87%。",
                       "居民人均可支配收入为12345.67元，恩格尔系数为28.36%。"],
     "pass", must_not=["geo"])
case("geo06", "txt", ["期末成绩通报", "本学期全年级平均分为83.52分，最高分98.75分，及格率为96.14%。",
                       "数学、语文、英语三科平均分分别为85.31、82.64和81.07。"],
     "pass", must_not=["geo"])
case("geo07", "txt", ["天气预报", "今天白天多云转阴，气温22.5℃到31.8℃，东南风3到4级，相对湿度65%。", "明天有小到中雨。"],
     "pass", must_not=["geo"])
case("geo08", "docx", ["野外训练保障方案", "集结地域：东经117°12′08″，北纬31°49′52″以北山谷。", "各分队于5时前完成集结。"],
     "review", [m(["geo.coordinates", "term", "passage"])])
case("geo09", "txt", ["旅游攻略", "景区位于市区东北约30公里，自驾可导航至“某某山景区游客中心”，门票60元。"],
     "pass", must_not=["geo"])

# ===================================================================================================
# 6. Restriction terms, military, unreleased information, non-public passages — and public news.
# ===================================================================================================

case("trm01", "txt", ["关于调整部分干部职务的通知（征求意见稿）", "本稿仅限内部征求意见使用，请勿外传。",
                       "请于3月5日前反馈修改意见。"],
     "review", [m(["term", "passage", "marking"], "请勿外传")])
case("trm02", "docx", ["专题会议纪要", "会议内容严格控制在知悉范围内，不得复制、转发。", "一、关于项目推进。会议同意按既定方案推进。"],
     "review", [m(["term", "passage"], "知悉范围")])
case("trm03", "txt", ["工作提示", "以下情况仅供领导参阅，不得对外公开：", "近期辖区内发生两起群体性聚集事件，目前已妥善处置。"],
     "review", [m(["term", "passage"])])
case("trm04", "txt", ["军民共建简讯", "驻地69316部队官兵走进社区，为居民义务理发、维修家电。"],
     "review", [m(["term.military", "passage"], "69316部队")])
case("trm05", "txt", ["拥军优属活动安排", "春节前走访慰问驻军某部：一营驻东山营区，二营及炮兵连驻西岭营区，共计官兵约600人。"],
     "review", [m(["term", "passage"])])
case("trm06", "txt", ["工作动态", "据统计，今年一季度全市地区生产总值初步核算为2105亿元，同比增长4.1%。",
                       "该数据尚未正式发布，请勿引用。"],
     "review", [m(["term", "passage"])])
case("trm07", "txt", ["党组会议议题", "经党组研究，拟提名刘志成同志为市交通运输局副局长人选，按程序报批，暂不对外公布。"],
     "review", [m(["term", "passage"])])
case("trm08", "txt", ["招商引资项目谈判要点", "我方谈判底线为土地价格不低于每亩45万元，税收返还比例最高不超过30%，"
                       "如对方坚持，可在配套资金上适当让步。"],
     "review", [m(["term", "passage"])])
case("trm09", "txt", ["庆祝建军节文艺晚会举行", "8月1日晚，市双拥办举办庆祝建军节文艺晚会，驻地部队官兵和群众代表500余人观看演出。",
                       "晚会在《强军战歌》的歌声中落下帷幕。"],
     "pass", must_not=["term.military"])
case("trm10", "txt", ["“军营开放日”活动走进海军某舰艇", "5月20日，驻市海军部队举办“军营开放日”活动，",
                       "学生们参观了舰艇甲板，观看了队列训练表演，近距离感受海军官兵的风采。"],
     "pass")
case("trm11", "txt", ["国庆阅兵观后感", "受阅方队步伐整齐，装备方队依次通过天安门广场，展示了人民军队的强大实力。"],
     "pass")
case("trm12", "txt", ["干部任前公示", "根据干部选拔任用有关规定，现将拟任职干部情况公示如下：",
                       "刘志成，男，1978年5月出生，大学学历，现任市交通运输局综合规划科科长，拟任市交通运输局副局长。",
                       "公示期为2026年3月10日至3月16日。监督电话：12380。"],
     "pass")
case("trm13", "txt", ["内部管理制度修订说明", "为加强内部控制，公司修订了《内部审计制度》和《员工内部调岗办法》。",
                       "新制度自发布之日起施行，全文在官网公布。"],
     "pass", must_not=["marking", "term"])
case("trm14", "txt", ["市政府常务会议召开", "会议研究了城市更新、优化营商环境等工作，审议通过了《关于进一步促进消费的若干措施》。",
                       "会议强调，要加强对外开放，扩大有效投资。"],
     "pass")
case("trm15", "txt", ["关于近期我市金融风险处置情况的汇报", "某农商行流动性缺口约12亿元，已协调省联社紧急注资，"
                       "目前存款挤兑风险尚未完全消除，相关情况严禁向媒体透露。"],
     "review", [m(["term", "passage"])])
case("trm16", "txt", ["人员调整预案", "拟将办公室主任陈某调任后勤中心，由副主任接任，相关安排在正式发文前严格保密。"],
     "review", [m(["term", "passage"])])
case("trm17", "txt", ["征兵宣传", "2026年征兵工作已经开始，适龄青年可登录全国征兵网报名。", "征兵咨询电话：0791-86231234。"],
     "pass")
case("trm18", "html", ["演训简报", "某旅于10月中旬机动至某训练基地开展实兵对抗演练，参演兵力1200余人，各型装备86台。"],
     "review", [m(["term", "passage"])])

# ===================================================================================================
# 7. Hidden content in files.
# ===================================================================================================

case("hid01", "docx", ["关于启用新版办事服务系统的公告", "新系统自4月1日起启用，原系统同步停止服务。"], "review",
     [m("hidden.revision")], tracked=[(1, "ins", "（实际上线时间视安全测评结果而定，暂不对外）")])
case("hid02", "docx", ["关于举办科普周活动的通知", "活动时间：5月18日至24日。"], "review",
     [m("hidden.revision")], tracked=[(1, "del", "活动经费38万元由某企业赞助，不宜公开")])
case("hid03", "docx", ["政务公开工作要点", "一、推进决策公开。二、深化执行公开。"], "review",
     [m("hidden.comment")], comments=[(0, "第二条请领导把关，有些内容不宜公开")])
case("hid04", "docx", ["社区便民服务通知", "本周六在社区广场举办义诊活动。"], "review",
     [m("hidden.text")], hidden=[(1, "备注：经费从维稳专项中列支")])
case("hid05", "docx", ["关于春节期间值班安排的通知", "请各部门按要求落实值班制度。"], "review",
     [m("hidden.metadata")], props={"author": "王建军", "comments": "根据办公室内部讨论稿修改"})
case("hid06", "docx", ["关于开展植树节义务植树活动的倡议书", "3月12日上午在滨江公园开展义务植树活动，欢迎市民参加。"],
     "pass", must_not=["hidden"], props={"title": "关于开展植树节义务植树活动的倡议书"})
case("hid07", "pdf", ["行政处罚决定书（公开版）", "当事人：某商贸有限公司", "违法事实：销售过期食品。", "当事人联系电话：13812349876"],
     "review", [m("hidden.redaction")], redact=[3])
case("hid08", "pdf", ["关于征集城市标志设计方案的公告", "征集时间：即日起至6月30日。"],
     "review", [m("hidden.text")], hidden=["评审专家内定：周某、吴某、郑某"])
case("hid09", "pdf", ["关于公布第一批老字号名录的通知", "经评审，现将名录公布如下：某某酱园、某某茶庄。"],
     "pass", must_not=["hidden", "marking"], props={"title": "关于公布第一批老字号名录的通知"})
case("hid10", "html", ["社区活动预告", "本周日下午在社区文化中心举办亲子手工活动。"], "review",
     [m("hidden")], html_extra="<!-- 内部备注：活动经费待审批，联系人手机13988776655 -->")
case("hid11", "html", ["招生简章", "学校今年计划招收新生300名。"], "review",
     [m("hidden")], html_extra='<div style="display:none">内部掌握：实际计划招收350名，另有50个调剂名额</div>')
case("hid12", "docx", ["年度财政预算执行情况说明", "全年一般公共预算收入完成预算的101.2%。"], "review",
     [m("hidden.revision"), m(["term", "passage", "hidden"])],
     tracked=[(1, "del", "其中土地出让收入未达预期，缺口约18亿元，请勿外传")])
case("hid13", "pdf", ["关于某小区违建整改情况的通报", "经查，该违建已于5月10日拆除完毕。", "举报人：孙某，手机13609871234，住该小区9栋"],
     "review", [m("hidden.redaction")], redact=[2])
case("hid14", "docx", ["政策解读", "新政策主要包括以下三方面内容。"], "review",
     [m("hidden.comment")], comments=[(1, "此处数据来自内部通报，发布前请删除")])

# ===================================================================================================
# 8. Mixed, long and realistic drafts.
# ===================================================================================================

case("mix01", "docx", ["关于2026年第一季度安全生产检查情况的通报",
                        "各镇（街道）、各有关部门：",
                        "按照年度工作安排，3月份市安委办组织开展了安全生产专项检查，共检查企业126家，发现隐患213处，已整改198处。",
                        "下一步，各地要压实责任，确保隐患整改到位。",
                        "联系人：市应急管理局安全生产基础科，电话：0575-85121234。"],
     "pass", must_not=["marking", "hidden", "pii.id_card"])
case("mix02", "txt", ["关于公布2026年度区级财政专项资金分配结果的通知",
                       "经区政府同意，现将2026年度区级财政专项资金分配结果予以公布（见附表）。",
                       "资金总额1.36亿元，其中产业发展资金6800万元、民生保障资金5200万元、生态环保资金1600万元。",
                       "监督电话：0755-26541234。"],
     "pass")
case("mix03", "html", ["区人民政府关于开展第五次全国经济普查的通告",
                        "根据《全国经济普查条例》，我区将于2026年1月1日至4月30日开展第五次全国经济普查。",
                        "普查取得的单位和个人资料，严格限定用于普查目的，不作为任何单位对普查对象实施处罚的依据。",
                        "普查机构和普查人员对在普查中知悉的国家秘密、商业秘密和个人信息，应当依法履行保密义务。"],
     "pass", must_not=["marking"])
case("mix04", "docx", ["关于拟推荐劳动模范人选的公示",
                        "经基层推荐、审核，现将拟推荐人选公示如下。",
                        "公示期间，如有异议，请向市总工会反映。"], "review",
     [m("pii.id_card", ID_10), m("pii.phone", MOB_4)],
     table=[["姓名", "单位", "身份证号", "手机"], ["黄志明", "某机械厂", ID_10, MOB_4]])
case("mix05", "txt", ["秘密★1年", "关于某专项工作进展情况的汇报",
                       f"专项小组组长：陈国平（手机{MOB_5}），成员单位：公安、网信、工信等部门。",
                       "指挥部设在某宾馆2号楼，内网地址10.30.1.5。"],
     "block", [m("marking.level", "秘密★1年"), m("pii.phone", MOB_5), m("secret.intranet", "10.30.1.5")])
