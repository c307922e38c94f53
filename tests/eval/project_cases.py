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
case("pii11", "txt", ["赛事报名确认", "领队：吴刚　电话：+86 139 1234 5678", "请于比赛前一天到场检录。"],
     "review", [m("pii.phone", "13912345678")])
case("pii12", "txt", ["失物招领", f"一名市民在公交车上捡到钱包一个，失主可联系拾金者郑师傅：86-{MOB_3}。"],
     "review", [m("pii.phone", MOB_3)])
case("pii13", "txt", ["家长会通知", f"如有疑问请联系班主任许老师（{MOB_4[:3]}-{MOB_4[3:7]}-{MOB_4[7:]}）。"],
     "review", [m("pii.phone", f"{MOB_4[:3]}-{MOB_4[3:7]}-{MOB_4[7:]}")])
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
# (the key pair is random; AWS's own documentation pair, AKIAIOSFODNN7EXAMPLE, is a placeholder and is not reported)
case("sec05", "txt", ["对象存储接入说明", "AccessKeyId: AKIAQ7ZK3MTR4W2NB7QX", "SecretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYz4kq9TRvBL"],
     "review", [m("secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYz4kq9TRvBL")])
case("sec06", "html", ["代码仓库迁移公告", "请使用以下令牌拉取代码：ghp_8fK2mQ9xT4vB7nR1cY6wZ3hJ5pL0sD2aE4gU"],
     "review", [m("secret.token", "ghp_8fK2mQ9xT4vB7nR1cY6wZ3hJ5pL0sD2aE4gU")])
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

# ===================================================================================================
# Round 2: harder forms and positions, and more hard negatives.
# ===================================================================================================

ID_11 = id_number("210102", "19760229", "418")      # born on 29 February of a leap year
ID_12 = id_number("130102", "19990731", "205")
ID_13 = id_number("450103", "19680814", "379")
ID_LOWER_X = next(i for i in (id_number("520102", "19840909", f"{s:03d}") for s in range(200, 500))
                  if i.endswith("X")).lower()
EMAIL_QQ = "2768391045@qq.com"

# ---- markings: more forms and positions -------------------------------------------------------
case("mk31", "txt", ["000128", "机密★5年", "特急", "关于做好重大活动安全保卫工作的通知"],
     "block", [m("marking.level", "机密★5年")])              # 份号 on line 1, marking on line 2
case("mk32", "txt", ["秘密" + fullwidth("*") + "1年", "关于开展专项整治“回头看”的通知"],
     "block", [m("marking.level", "秘密")])                  # full-width asterisk ＊
case("mk33", "txt", ["机密★五年", "关于某重点工程进度的情况通报"],
     "block", [m("marking.level", "机密★五年")])
case("mk34", "docx", ["发文稿纸"], "block", [m("marking", "秘密")],
     table=[["密级", "缓急", "份数"], ["秘密", "平件", "20"], ["标题", "关于调整值班安排的通知", ""]])   # field name above its value
case("mk35", "txt", ["会议纪要", "时间：2026年3月2日", "地点：2号楼第三会议室", "主持：分管副局长", "记录：综合科",
                      "密级：秘密★3年", "一、会议听取了专项工作进展汇报。"],
     "block", [m("marking", "秘密")])                        # a 密级 form line below the first four lines
case("mk36", "pdf", ["绝密★启用前", "2026年普通高等学校招生全国统一考试（模拟）", "数学", "注意事项：",
                      "1. 答卷前，考生务必将自己的姓名、准考证号填写在答题卡上。"],
     "block", [m("marking.level", "绝密★启用前")])
case("mk37", "pdf", ["关于印发专项工作方案的通知"] + [f"第{i}条 各单位应当按照职责分工落实本方案第{i}项任务，按月报送进展情况。"
                                                         for i in range(1, 41)] + ["附件", "秘密★1年", "专项工作任务分解表"],
     "block", [m("marking.level", "秘密★1年")])               # annex marking at the top of a later page
case("mk38", "docx", ["关于调整部分区域交通组织的通告", "因道路施工，相关路段将实行交通管制。"], "review",
     [m("hidden.revision"), m("marking", "秘密★6个月")], tracked=[(0, "ins", "秘密★6个月")])
case("mk39", "docx", ["关于组织收看专题节目的通知", "请各单位组织干部职工按时收看。"], "review",
     [m("hidden.comment")], comments=[(0, "此件原为机密★1年，解密审批手续尚未办完")])
case("mk40", "docx", ["工作简报", "第15期", "本期刊发基层经验两篇。"], "review",
     [m("marking.internal")], footer="内部资料　注意保存")
case("mk41", "html", ["专项督查情况通报", "现将近期专项督查发现的问题通报如下。"], "block",
     [m("marking.level", "机密★2年")], props={"title": "机密★2年 专项督查情况通报"})
case("mk42", "txt", ["密　级：机密", "保密期限：10年", "编　号：2026-017", "关于某项目评估情况的报告"],
     "block", [m("marking", "机密")])
case("mk43", "docx", ["秘 密 ★ 长 期", "关于重要目标防护方案的请示"],
     "block", [m("marking.level")])
case("mk44", "txt", ["内部资料", "（供领导参阅）", "社情民意摘报", "第3期"],
     "review", [m("marking.internal", "内部资料")], encoding="gb18030")
case("mk45", "txt", ["机密★2年", "关于某专项审计发现问题的报告", "审计发现，部分资金存在挪用风险。"],
     "block", [m("marking.level", "机密★2年")], encoding="utf-16")

# ---- public text that only looks like markings ---------------------------------------------------
case("pub21", "txt", ["内部控制评价报告", "某某股份有限公司2025年度内部控制评价报告",
                       "根据企业内部控制规范体系的规定，公司董事会对2025年12月31日的内部控制有效性进行了评价。"],
     "pass", must_not=["marking"])
case("pub22", "txt", ["内部资料性出版物管理办法", "第一条 为了加强对内部资料性出版物的管理，根据《出版管理条例》，制定本办法。",
                       "第二条 本办法所称内部资料，是指在本行业、本系统、本单位内部，用于指导工作、交流信息的非卖性单本成册或折页散页印刷品。"],
     "pass", must_not=["marking.level", "marking.field"])
case("pub23", "txt", ["机密计算技术白皮书（2026年）", "机密计算（Confidential Computing）通过在基于硬件的可信执行环境中执行计算来保护使用中的数据。",
                       "本白皮书介绍机密计算的技术原理、产业现状和典型应用。"],
     "pass", must_not=["marking"])
case("pub24", "html", ["《绝密档案》第12期：湖底沉船之谜", "本期节目带您走进湖底沉船背后的历史故事。"],
     "pass", must_not=["marking"])
case("pub25", "txt", ["警示教育｜一起机密级文件泄露案", "某单位工作人员违规将一份机密级文件拍照后通过微信发送给他人，造成泄密。",
                       "经鉴定，该文件属于机密级国家秘密。当事人受到党纪政务处分，并被依法追究刑事责任。",
                       "案例警示我们：涉密文件严禁拍照、严禁通过互联网传输。"],
     "pass", must_not=["marking.level", "marking.field"])
case("pub26", "docx", ["关于公布2026年度部门预算的通知", "根据预算法有关规定，现将我局2026年度部门预算予以公开。", "（此件公开发布）"],
     "pass", must_not=["marking", "hidden"])
case("pub27", "txt", ["关于报送年度保密自查自评报告的通知", "各单位：请对照保密工作责任制落实情况、定密工作、涉密人员管理、"
                       "涉密载体管理等方面开展自查，并于11月30日前将自查报告报市保密办。",
                       "报告中不得涉及国家秘密事项。"],
     "pass", must_not=["marking"])
case("pub28", "docx", ["横向课题合作协议"], "pass", must_not=["marking"],
     table=[["合同编号", "HX-2026-0412"], ["密级", "无"], ["项目经费", "35万元"]])
case("pub29", "txt", ["关于本网站", "版权所有：某某市人民政府办公室", "未经许可，不得复制、转载或建立镜像。",
                       "网站标识码：3301000001　ICP备案号：浙ICP备12345678号"],
     "pass")   # copyright footer of every government site: "不得复制" is not a restriction on a draft
case("pub30", "txt", ["警方通报", "近日，网传“某地发生重大刑事案件”的消息系谣言。",
                       "警方提醒广大网民：不信谣、不传谣，请勿扩散未经证实的信息。"],
     "pass")
case("pub31", "txt", ["2026年一季度手机市场分析", "一季度全省手机出货量达35000部，其中5G手机占比82.6%。",
                       "某品牌新机首销当日售出12000部。"],
     "pass", must_not=["term.military"])   # 5 digits + 部 as a count, not a unit designation
case("pub32", "txt", ["驻港部队举行军营开放活动", "5月1日，中国人民解放军驻香港部队昂船洲军营向市民开放，",
                       "官兵们进行了擒敌拳、队列等科目表演。"],
     "pass")
case("pub33", "txt", ["某县概况", "某县位于省境东南部，地处东经118°22′～119°14′、北纬31°14′～32°37′之间，总面积1982平方千米。",
                       "全县辖8个镇、2个乡，户籍人口48.6万人。"],
     "pass")   # county extent in degrees and minutes, as in every 地方志: public and imprecise
case("pub34", "txt", ["建筑防火设计要点", "消防救援窗口的设置应符合GB 50016第7.2.4条和第7.2.5条的规定，",
                       "排烟系统设计详见第8.5.1条及GB 51251第4.6.1条、第10.1.5.2条。"],
     "pass", must_not=["secret"])   # clause numbers like 10.1.5.2 are not IP addresses
case("pub35", "txt", ["计算机网络（期末考试试卷·已考）", "三、计算题：某主机的IP地址为192.168.5.33，子网掩码为255.255.255.224，",
                       "求该主机所在子网的网络地址和广播地址。"],
     "pass", must_not=["secret.credential"])
# Judgement: a textbook exercise's address names no real host of the author's network.
case("pub36", "html", ["社区活动回顾", "上周六，社区文化节在中心广场顺利举办，近千名居民参加。"],
     "pass", must_not=["marking", "pii"],
     html_extra="<!-- header start --><!-- footer end -->")
# Judgement: structural template comments in every CMS page carry nothing; a reviewer would pass them.
case("pub37", "txt", ["保密工作“十不准”", "不准在互联网及其他公共信息网络或者未采取保护措施的普通电话、传真中传递国家秘密；",
                       "不准在未采取保护措施的情况下将涉密计算机及网络接入互联网。"],
     "pass", must_not=["marking"])
case("pub38", "txt", ["人民日报·国际", "他说，布隆迪民族和解进程正在取得进展，希望随着布隆迪国内形势的稳定，布中两国在各个领域的友好合作不断加强。",
                       "一是精简政府机构，将原有的23个部处缩编为16个，新政府的国务委员由21名减为16名，部长级的长官由33名减为24名。",
                       "于是，在公司领导的大力支持、公司工会的积极组织和员工们的热心参与下，陆续成立了篮球队、足球、羽毛球、乒乓球等协会。"],
     "pass")
case("pub39", "docx", ["2026年度市级机关公开遴选公务员公告",
                        "一、遴选职位。本次共遴选公务员15名，具体职位见附件。",
                        "二、报名条件。具有2年以上基层工作经历；政治素质好，保密意识强。",
                        "三、报名方式。报名人员登录市人事考试网报名。咨询电话：0851-86891234（工作日）。"],
     "pass", must_not=["marking", "hidden"])
case("pub40", "txt", ["汛期安全提示", "受强降雨影响，我市部分区域可能出现城市内涝。", "遇险请拨打119或110，"
                       "如需防汛物资可拨打市防汛抗旱指挥部办公室值班电话0771-2801234。"],
     "pass")

# ---- personal data: more formats ------------------------------------------------------------------
case("pii36", "txt", ["法律援助受理通知", f"申请人：邹海燕，公民身份号码：{ID_LOWER_X}，案由：劳动争议。"],
     "review", [m("pii.id_card")])
case("pii37", "txt", ["残疾人补贴名单", f"赵金凤　身份证：{ID_11}　补贴标准：每月150元"],
     "review", [m("pii.id_card", ID_11)])
case("pii38", "html", ["参赛选手信息", f"选手：朱明轩，证件号：{ID_12}，参赛项目：男子5000米。"],
     "review", [m("pii.id_card", ID_12)])
case("pii39", "pdf", ["行政复议决定书", f"申请人：韦丽萍，女，身份证号{ID_13}，住广西南宁市青秀区民族大道101号2栋1单元801室。",
                       "被申请人：某区市场监督管理局。"],
     "review", [m("pii.id_card", ID_13)])
case("pii40", "txt", ["业主联络表", "1栋502业主：陈先生，住宅电话：0571-86012345，手机+86-138-0571-2468。"],
     "review", [m("pii.phone", "138-0571-2468")])
case("pii41", "txt", ["失物认领", f"认领人请携带身份证原件，或联系本人QQ邮箱 {EMAIL_QQ}。"],
     "review", [m("pii.email", EMAIL_QQ)])
case("pii42", "txt", ["港澳游团队名单报备", "游客：邱美玲，往来港澳通行证号码：C87654321；游客：石永康，护照号码：EA1234567。"],
     "review", [m("pii", "C87654321")])
case("pii43", "txt", ["停车场违规车辆通报", "以下车辆长期占用消防通道：粤B·D12345（新能源），川A3F7K9。"],
     "review", [m("pii.plate", "粤B·D12345")])
case("pii44", "txt", ["信访事项告知书", "信访人：傅某某，现住址：四川省成都市武侯区人民南路四段27号附1号。"],
     "review", [m("pii.address", "人民南路四段27号")])
case("pii45", "docx", ["工资发放说明", "本月工资已发放。"], "review",
     [m("hidden.comment"), m("pii.bank_card", CARD_SPDB16)],
     comments=[(1, f"杨帆的工资卡号{CARD_SPDB16}（浦发银行）有误，请财务核对")])
case("pii46", "txt", ["投标保证金缴纳说明", "投标保证金请汇入以下账户：", "户名：某市公共资源交易中心",
                       "开户银行：中国工商银行某市分行营业部", "账号：1202 0212 0900 1234 567"],
     "pass", must_not=["pii.bank_card"])   # a public institution's settlement account, published on purpose
case("pii47", "txt", ["供应商信息公示", "供应商名称：某网络科技有限公司", "地址：浙江省杭州市西湖区文三路478号华星时代广场A座12楼",
                       "联系电话：0571-88271234", f"统一社会信用代码：{uscc('91330106MA2' + 'CDK8L3')}"],
     "pass", must_not=["pii.id_card", "pii.bank_card"])   # a company's registered office address is public
case("pii48", "txt", ["关于表彰2025年度优秀教师的决定", "经评审，决定授予王晓燕、李文博、张海鹰等20名同志“优秀教师”称号。",
                       "希望受表彰的同志珍惜荣誉，再接再厉。"],
     "pass", must_not=["pii.id_card", "pii.phone"])
case("pii49", "txt", ["个人信息保护提示", "身份证号码由18位数字组成，其中第7至14位为出生日期，最后一位为校验码。",
                       "示例：11010519491231002X（国家标准示例号码）。请勿在网上随意公布本人证件号码。"],
     "pass", must_not=["pii.bank_card"])
# Judgement: 11010519491231002X is the example number printed in GB 11643 itself; a public explainer
# quoting the standard's own example is not personal data. Flagging it is acceptable only at low severity.
case("pii50", "txt", ["医保报销结果通知", f"参保人：马建华，社会保障卡号：{ID_5}，本次报销金额：3,268.50元。"],
     "review", [m("pii.id_card", ID_5)])    # 社保卡号 is the ID number
case("pii51", "txt", ["订单确认", "收货人：林小姐　电话：13067893456", "收货地址：上海市徐汇区漕溪北路398号汇智大厦6楼601室"],
     "review", [m("pii.phone", "13067893456")])
case("pii52", "txt", ["客服信息", "全国客服热线：400-820-1234；服务监督电话：95555。", "客服邮箱：service@example-bank.com"],
     "pass", must_not=["pii.bank_card", "pii.id_card"])
case("pii53", "txt", ["个人所得税专项附加扣除填报说明", f"示例：纳税人尾号{ID_1[-4:]}的身份证，子女教育扣除每月2000元。",
                       "手机号以138开头的用户请通过App填报。"],
     "pass", must_not=["pii.id_card", "pii.phone"])
case("pii54", "txt", ["党员发展对象公示", "发展对象：高小琴，女，汉族，1996年3月出生，大学本科学历，现任市场部职员。",
                       "公示时间：2026年3月11日至3月17日。监督电话：0532-82861234。"],
     "pass", must_not=["pii.id_card", "pii.address"])

# ---- secrets: more phrasings and look-alikes ------------------------------------------------------
case("sec22", "txt", ["系统账号分配表", "财务系统：账号/密码：cw_admin/Cw@2026!", "人事系统：admin / Rs#7781"],
     "review", [m("secret.credential", "Cw@2026!")])
case("sec23", "txt", ["FTP使用说明", "ftp://upload:Up2026ftp@172.20.5.8/incoming，上传后请通知信息中心。"],
     "review", [m("secret", "Up2026ftp")])
case("sec24", "txt", ["机房巡检记录", "核心交换机enable密码为 Core_sw#2025；管理地址10.254.0.1，SNMP团体名 hzgov_ro。"],
     "review", [m("secret.credential", "Core_sw#2025"), m("secret.intranet", "10.254.0.1")])
case("sec25", "txt", ["共享目录说明", "会议材料已放在 \\\\FS01\\办公室\\2026会议 共享目录下，请自行取用。"],
     "review", [m("secret.intranet")])
case("sec26", "txt", ["个人账户设置", "登录密码：******", "支付密码：已设置（6位数字）", "请勿将密码告诉任何人。"],
     "pass", must_not=["secret"])
case("sec27", "txt", ["开发者文档", "调用示例中请将 api_key 替换为您在控制台申请的密钥，例如：api_key=YOUR_API_KEY。",
                       "接口地址：https://api.example.com/v2/weather"],
     "pass", must_not=["secret"])
case("sec28", "txt", ["内网邮件服务器迁移", "自3月起，内网邮件服务器由mail.hzgov.local迁移至新地址，Outlook中SMTP服务器请改为10.16.2.25。"],
     "review", [m("secret.intranet")])
case("sec29", "txt", ["WiFi热点开放公告", "市民中心开放免费WiFi，热点名称“i-市民中心”，无需密码，连接后通过手机验证码认证。"],
     "pass", must_not=["secret"])
case("sec30", "txt", ["数据库配置", "PGPASSWORD='Pg#Prod2026' psql -h 10.12.7.31 -U report -d stats"],
     "review", [m("secret", "Pg#Prod2026")])
case("sec31", "txt", ["加密算法介绍", "RSA公钥格式示例：", "-----BEGIN PUBLIC KEY-----",
                       "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo", "-----END PUBLIC KEY-----"],
     "pass", must_not=["secret.credential"])

# ---- coordinates: more --------------------------------------------------------------------------
case("geo10", "txt", ["物资储备点调整", "新储备点经度116.397128，纬度39.916527，请各单位更新台账。"],
     "review", [m("geo.coordinates")])
case("geo11", "txt", ["观测点信息", "观测点：N 30°34'12.6\" E 104°03'58.3\"，海拔512米。"],
     "review", [m("geo.coordinates")])
case("geo12", "txt", ["体质健康测试结果", "男生50米跑平均7.85秒，立定跳远平均2.13米，1000米跑平均4分12.36秒。",
                       "BMI平均值为21.46，优良率为63.58%。"],
     "pass", must_not=["geo"])

# ---- terms and passages: more --------------------------------------------------------------------
case("trm19", "txt", ["关于做好近期舆情应对工作的通知（此件不公开）", "针对近期网上出现的负面炒作，各单位要统一口径，不得擅自接受媒体采访。"],
     "review", [m(["term", "passage", "marking"])])
case("trm20", "txt", ["2026年5月份全市主要经济指标（快报）", "说明：以下数据为内部统计快报数据，仅供参考，正式数据以统计局发布为准。",
                       "规模以上工业增加值增长5.6%。"],
     "review", [m(["term", "passage"])])
case("trm21", "docx", ["关于安排接待上级检查组的工作方案", "检查组行程严格保密，仅限接待组成员掌握，不得向被检查单位透露。"],
     "review", [m(["term", "passage"])])
case("trm22", "txt", ["国防教育进校园", "武警某支队官兵走进市第三中学，为学生们讲授国防知识、演示军体拳。"],
     "pass", must_not=["term.military"])
case("trm23", "txt", ["训练动态", "近日，某部在西北某地域组织实弹射击考核，某型导弹阵地转移时间缩短至40分钟。"],
     "review", [m(["term", "passage"])])
case("trm24", "txt", ["关于公布市政府部门权责清单的通知", "经市政府同意，现将市政府部门权责清单予以公布。", "（此件公开发布）"],
     "pass")

# ===================================================================================================
# Round 3: long drafts, buried findings, declassification lists, more layers.
# ===================================================================================================

ID_14 = id_number("340104", "19910611", "528")
ID_15 = id_number("620102", "19800103", "146")
CARD_ABC19 = luhn_number("622848", 19)      # 中国农业银行 借记卡 19 (BIN list: 622848, ABC, DC, 19)

_LONG_PUBLIC = [
    "关于2025年度法治政府建设情况的报告",
    "2025年，我市坚持以习近平新时代中国特色社会主义思想为指导，深入贯彻落实《法治政府建设实施纲要（2021—2025年）》，各项工作取得新进展。",
    "一、主要举措和成效",
    "（一）深化“放管服”改革。全年新增“一件事一次办”事项21项，政务服务事项网上可办率达到98.7%，平均办理时限压缩62.3%。",
    "（二）完善依法行政制度体系。制定地方性法规2件、政府规章3件，清理规范性文件147件，废止12件、修改9件。",
    "（三）严格规范公正文明执法。全市行政执法机关共办理行政处罚案件1.26万件，行政复议纠错率为8.4%。",
    "（四）推进政务公开。主动公开政府信息4.8万条，办理政府信息公开申请1326件，依法不予公开的均已说明理由。",
    "（五）强化行政权力监督。自觉接受人大法律监督和政协民主监督，办理人大代表建议312件、政协提案287件，办结率100%。",
    "二、存在的不足",
    "一是部分领域执法标准不够统一；二是基层法治力量较为薄弱；三是数字法治政府建设仍需加快。",
    "三、2026年工作安排",
    "我们将对照GB/T 39735—2020《政务服务评价工作指南》第5.2.1条要求，持续优化营商环境；",
    "加快建设全市统一的行政执法监督平台（网址：https://zfjd.example.gov.cn），力争年底前实现执法信息全覆盖。",
    "联系单位：市司法局法治督察处，电话：0591-87061234，地址：某市鼓楼区湖东路168号。",
]

case("long01", "docx", _LONG_PUBLIC, "pass", must_not=["marking", "hidden", "pii.id_card", "secret"])
case("long02", "pdf", _LONG_PUBLIC, "pass", must_not=["marking", "hidden", "pii.id_card", "secret"],
     props={"title": "关于2025年度法治政府建设情况的报告"})
case("long03", "docx", _LONG_PUBLIC[:9] + [f"（附：行政复议申请人名单，第一申请人吕德华，身份证号{ID_14}）"] + _LONG_PUBLIC[9:],
     "review", [m("pii.id_card", ID_14)])                     # one ID number buried in a long public report
case("long04", "txt", _LONG_PUBLIC[:12] + ["（内部掌握：行政复议纠错率实际为12.6%，报告中按8.4%表述）"] + _LONG_PUBLIC[12:],
     "review", [m(["term", "passage"])])
case("long05", "txt", _LONG_PUBLIC, "pass", must_not=["marking", "pii.id_card", "secret"], encoding="gb18030")

# ---- declassification and archive texts ---------------------------------------------------------
case("arc01", "txt", ["关于公布第三批解密档案目录的公告", "经鉴定，以下档案已解除密级，自即日起向社会开放：",
                       "1. 《关于1985年度城市建设规划的报告》（原密级：秘密，已解密）",
                       "2. 《关于1987年粮食收购工作的通知》（原密级：机密，已解密）",
                       "查阅地点：市档案馆查阅大厅，咨询电话：0351-4041234。"],
     "pass", must_not=["marking.internal"])
# Judgement: a public list of declassified files quotes the former level after 原密级 and says 已解密;
# a 保密办 reviewer passes it. The scanner should read "原密级" / "已解密" as a mention, not a field.
case("arc02", "txt", ["档案开放鉴定工作简介", "档案馆对保管期限届满30年的档案进行开放鉴定，",
                       "对仍需保密的档案延期开放，对已解密的档案按规定向社会开放。"],
     "pass", must_not=["marking"])

# ---- restriction marks without a star --------------------------------------------------------------
case("mk46", "txt", ["内部", "情况反映", "第9期", "近期部分小区物业纠纷增多，群众意见较大。"],
     "review", [m("marking.internal", "内部")])
case("mk47", "txt", ["内部资料　免费交流", "《某区文史》2026年第1期", "本期专题：老街巷的记忆"],
     "review", [m("marking.internal", "内部资料")])
case("mk48", "docx", ["全省经济运行分析", "内部参考", "（第18期）", "一、主要指标运行情况。"],
     "review", [m(["marking.internal", "term"], "内部参考")])

# ---- more personal data formats -----------------------------------------------------------------
case("pii55", "txt", ["家访记录", "学生家长联系方式：139 0571 8823（母亲），家住某小区12幢。"],
     "review", [m("pii.phone", "13905718823")])
case("pii56", "txt", ["代发工资银行卡变更", f"员工：宁浩然，新工资卡（农业银行）：{'-'.join(CARD_ABC19[i:i+4] for i in range(0, 19, 4))}。"],
     "review", [m("pii.bank_card")])
case("pii57", "txt", ["学生资助信息（已脱敏）", f"学生：许某，银行卡号：{CARD_ABC19[:4]} **** **** {CARD_ABC19[-4:]}，"
                       f"身份证号：{ID_15[:6]}********{ID_15[-4:]}，联系电话：139****8823。"],
     "pass", must_not=["pii.bank_card", "pii.id_card", "pii.phone"])
case("pii58", "txt", ["在职证明", f"兹证明龚丽娟（身份证号：{ID_15}）系我单位在职员工，月收入8500元。", "特此证明。"],
     "review", [m("pii.id_card", ID_15)], encoding="utf-16")
case("pii59", "docx", ["出差人员名单"], "review", [m("pii.passport", "E71530284")],
     table=[["姓名", "护照号", "出发日期"], ["闵立群", "E71530284", "2026-04-08"]])
case("pii60", "pdf", ["不动产登记公告", f"权利人：包雪梅，身份证号{ID_14}，不动产坐落：某区某路18号。"],
     "review", [m("hidden.redaction")], redact=[1])
case("pii61", "pdf", ["关于评选“最美家庭”的公示", "经推荐评选，现将10户“最美家庭”名单公示如下。"],
     "review", [m("hidden.metadata")], props={"author": "祁晓峰", "subject": "公示稿（内部修改版）"})
case("pii62", "docx", ["关于发放防暑降温费的通知", "请各部门于7月10日前报送人员名单。"],
     "review", [m("hidden"), m("pii.phone", MOB_6)], hidden=[(1, f"（经办人：刘某，手机{MOB_6}）")])

# ---- more secrets -----------------------------------------------------------------------------------
case("sec32", "docx", ["运维周报", "本周完成数据库主备切换演练。"], "review",
     [m("hidden.revision"), m("secret.intranet", "10.41.6.18")],
     tracked=[(1, "ins", "（主库10.41.6.18，备库10.41.6.19）")])
case("sec33", "txt", ["Git 仓库迁移说明", "新的远程地址：https://deploy:glpat-Xc8vN2qR5tY7uI9oP1aS@git.example.com/ops/config.git"],
     "review", [m("secret")])
case("sec34", "txt", ["微信公众号开发配置", "AppID：wx8f3a2b1c4d5e6f70", "AppSecret：3c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f"],
     "review", [m("secret.token", "3c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f")])
case("sec35", "txt", ["信息系统等级保护测评报告（公开摘要）", "测评对象：某市政务服务网，公网地址 https://zwfw.example.gov.cn，",
                       "测评结论：符合等级保护第三级要求。本摘要不含网络拓扑、地址规划等信息。"],
     "pass", must_not=["secret"])

# ---- more public drafts with traps -------------------------------------------------------------------
case("pub41", "txt", ["政府采购项目招标公告", "项目编号：ZFCG-2026-0418-015", "预算金额：186.5万元",
                       "开标时间：2026年5月8日9:30", "开标地点：某市公共资源交易中心3楼第二开标室（某市新华路100号）",
                       "采购代理机构：某招标咨询有限公司，联系人：周工，电话：0311-87651234"],
     "pass", must_not=["pii.id_card", "pii.bank_card", "secret"])
case("pub42", "txt", ["关于召开全市文明城市创建推进会的通知", "时间：3月25日（星期三）下午3:00",
                       "地点：市行政中心1号楼501会议室", "参会人员：各区分管负责同志。"],
     "pass")
case("pub43", "txt", ["体检安排", "请全体干部职工于4月15日上午8:00前空腹到市人民医院体检中心（门诊楼3楼302室）参加体检。"],
     "pass")
case("pub44", "txt", ["中华人民共和国密码法（节选）", "第二条 本法所称密码，是指采用特定变换的方法对信息等进行加密保护、安全认证的技术、产品和服务。",
                       "第六条 国家对密码实行分类管理。密码分为核心密码、普通密码和商用密码。",
                       "第七条 核心密码、普通密码用于保护国家秘密信息，核心密码保护信息的最高密级为绝密级，普通密码保护信息的最高密级为机密级。"],
     "pass", must_not=["secret", "marking"])
case("pub45", "txt", ["反诈提醒", "近期有骗子冒充银行客服，以“账户异常”为由索要短信验证码和银行卡密码。",
                       "请牢记：银行工作人员不会索要您的密码，接到可疑电话请拨打96110咨询。"],
     "pass", must_not=["secret", "pii.bank_card"])
case("pub46", "txt", ["个人信息保护法（节选）", "第二十八条 敏感个人信息是一旦泄露或者非法使用，容易导致自然人的人格尊严受到侵害或者人身、财产安全受到危害的个人信息，",
                       "包括生物识别、宗教信仰、特定身份、医疗健康、金融账户、行踪轨迹等信息，以及不满十四周岁未成年人的个人信息。"],
     "pass")
case("pub47", "txt", ["期刊简介", "《城市规划研究》，国内统一连续出版物号：CN 11-1234/TU，国际标准连续出版物号：ISSN 1002-1329。",
                       "邮发代号：82-123，编辑部邮箱：bjb@example-journal.cn，编辑部电话：010-68361234。"],
     "pass", must_not=["pii.id_card", "pii.bank_card", "pii.phone.mobile"])
case("pub48", "txt", ["上市公司公告", "证券代码：600123　证券简称：某某股份　公告编号：临2026-018",
                       "本公司董事会及全体董事保证本公告内容不存在任何虚假记载、误导性陈述或者重大遗漏。",
                       "公司2025年度实现营业收入48.62亿元，同比增长12.37%；归属于上市公司股东的净利润5.18亿元。"],
     "pass")
case("pub49", "txt", ["道路施工交通管制通告", "因地铁5号线施工需要，自4月1日起，对中山路（解放路至人民路段）实行封闭施工，",
                       "过往车辆请绕行建设路、和平路。施工工期约180天。"],
     "pass")
case("pub50", "html", ["政府信息公开指南", "受理机构：某区人民政府办公室（政务公开科）", "通信地址：某区府前路1号，邮政编码：315000",
                        "电子邮箱：zwgk@example.gov.cn", "办公时间：工作日上午8:30—12:00，下午14:00—17:30"],
     "pass", must_not=["pii.id_card", "secret"])
case("pub51", "txt", ["IT设备采购需求", "核心交换机1台：支持IPv4/IPv6双栈，交换容量≥19.2Tbps，包转发率≥2880Mpps；",
                       "下一代防火墙2台：吞吐量≥20Gbps，并发连接数≥800万。", "质保期：3年。"],
     "pass", must_not=["secret"])
case("pub52", "txt", ["讣告", "原市政协副主席、离休干部孔繁荣同志，因病医治无效，于2026年3月6日逝世，享年92岁。",
                       "孔繁荣同志遗体告别仪式定于3月10日上午在市殡仪馆举行。"],
     "pass", must_not=["pii.id_card", "pii.phone"])
case("pub53", "txt", ["空气质量周报", "本周全市PM2.5平均浓度为32.6微克/立方米，同比下降8.3%；优良天数比例为85.7%。",
                       "各监测点位中，市监测站点AQI均值最低，为56.4。"],
     "pass", must_not=["geo", "secret"])
case("pub54", "txt", ["马拉松赛事成绩公告", "男子组冠军成绩为2:08:35，女子组冠军成绩为2:24:17，均打破赛会纪录。",
                       "本次赛事共有3.2万名跑者参赛，完赛率为96.8%。"],
     "pass")
case("pub55", "docx", ["2026年度部门整体支出绩效自评报告",
                        "一、部门基本情况。我局内设机构9个，下属事业单位3个，编制人数126名。",
                        "二、绩效目标完成情况。年度预算执行率为97.6%，项目完成率为100%。",
                        "三、存在的问题。部分项目绩效目标设置不够细化、量化。"],
     "pass", must_not=["marking", "hidden"], props={"title": "2026年度部门整体支出绩效自评报告"})
case("pub56", "txt", ["Python 入门教程：第5章 网络编程", "下面的例子在本机启动一个简单的 HTTP 服务：",
                       "python -m http.server 8000 --bind 127.0.0.1", "然后在浏览器中访问 http://localhost:8000/ 即可看到目录列表。"],
     "pass", must_not=["secret.credential"])
# Judgement: loopback (127.0.0.1, localhost) in a tutorial reveals no network of anyone's.
case("pub57", "txt", ["银行网点公告", "本行国际业务SWIFT代码：ICBKCNBJZJP，客户服务热线：95588。",
                       "营业时间：周一至周五 9:00-17:00。"],
     "pass", must_not=["secret", "pii.bank_card"])
case("pub58", "txt", ["关于开展2026年“全民国家安全教育日”宣传活动的通知",
                       "4月15日是第十一个全民国家安全教育日。各单位要组织干部群众学习《国家安全法》《反间谍法》《保守国家秘密法》，",
                       "增强防范意识，发现危害国家安全的线索请拨打12339举报电话。"],
     "pass", must_not=["marking"])
case("pub59", "txt", ["军事题材纪录片《铁血丹心》开播", "该片讲述了人民军队在解放战争中的重要战役，片中首次公开了部分历史档案和作战地图。",
                       "导演表示，创作团队查阅了大量已解密的历史资料。"],
     "pass", must_not=["marking"])
case("pub60", "txt", ["居民身份证办理指南", "办理地点：各派出所户籍窗口。", "所需材料：户口簿、近期免冠照片。",
                       "办理时限：15个工作日。收费标准：首次申领20元，换领20元。", "咨询电话：110（非紧急事项请拨打12345）。"],
     "pass", must_not=["pii.id_card"])

# ---- more restriction phrasings ------------------------------------------------------------------
case("trm25", "txt", ["关于近期信访形势的分析", "本材料不得上传互联网，不得在微信群中转发。",
                       "一、总体情况。今年以来，集体访批次同比上升15%。"],
     "review", [m(["term", "passage"])])
case("trm26", "txt", ["会议精神传达提纲", "以上内容请勿截图外传，传达范围限于科级以上干部。"],
     "review", [m(["term", "passage"])])
case("trm27", "txt", ["文明上网倡议书", "我们倡议：不造谣、不传谣、不信谣；不随意截图转发他人隐私信息；",
                       "自觉维护清朗网络空间。"],
     "pass")
case("trm28", "docx", ["关于某化工厂停产事件的对外口径", "对外统一表述为“设备例行检修”，实际原因系发生有毒气体泄漏，",
                        "已造成2名工人送医，口径材料仅供新闻发言人掌握。"],
     "review", [m(["term", "passage"])])
