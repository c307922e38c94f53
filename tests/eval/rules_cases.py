"""Evaluation drafts for issue 12 (same format as ../shared/eval/dev_cases.py): markings and
disclosure labels in every real form, evasion, pasted secrets, identifiers as people write them,
each beside the public look-alikes that must pass. Written for this set; nothing here is in the
rules' own examples.

Build:  python ../shared/eval/build.py tests/eval/rules_cases.py OUTDIR
Score:  python ../shared/eval/score.py OUTDIR --cmd "baomi scan --format jsonl"

Judgements (also in the README): a 国家秘密标志 in the marking position blocks, bracketed or not;
the same form quoted in running text, or in a GB/T 9704 teaching table, is shown only. 工作秘密,
内部, 商业秘密 marks (核心商密/普通商密) and the disclosure attributes 不予公开 / 不公开 / 此件不公开 /
内部发文 go to review; 依申请公开 is shown only (low: the document is not for proactive release but
may be given on request, publishing it is a question for the office, not a leak); 主动公开 is not
reported. A mark next to a declassification note (已解密, 解密日期, 保密期限已满) goes to review, not
block. Every key and token is random, generated for this file; every identifier is synthetic.
"""
import base64
import json
import sys
from pathlib import Path

_SHARED_EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
sys.path.insert(0, str(_SHARED_EVAL))
from synth import id_number, luhn_number, spaced  # noqa: E402

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


def b64url(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


ID_A = id_number("320106", "19880415", "263")
ID_B = id_number("440104", "19750930", "518")
ID_C = id_number("510104", "19920211", "047")
ID_D = id_number("420102", "19830627", "391")
ID_OLD = "320106" + "690512" + "031"
CARD_BOC = luhn_number("621661", 19)         # 中国银行 借记卡
CARD_UNKNOWN = luhn_number("629876", 16)     # a 62… prefix the BIN table does not hold
JWT = (b64url({"alg": "HS256", "typ": "JWT"}) + "." + b64url({"sub": "zw-ops", "iat": 1767225600, "scope": "admin"})
       + ".Xq8vR2mK7pT4wN9cB3yH6jL1sD5fG0aZ-eU_iO8kQ2w")

# ===================================================================================================
# 1. Bracketed and decorated marks in the marking position: block.
# ===================================================================================================
case("br01", "txt", ["【秘密★5年】", "关于做好重点时段安全防范工作的通知", "各单位：现就有关事项通知如下。"],
     "block", [m("marking.level", "秘密★5年")])
case("br02", "docx", ["[绝密★长期]", "关于专项保障任务的实施方案", "一、任务目标。二、组织分工。"],
     "block", [m("marking.level", "绝密★长期")])
case("br03", "pdf", ["（机密★10年）", "关于调整部分指标的请示", "市政府：根据工作需要，拟调整以下指标。"],
     "block", [m("marking.level", "机密★10年")])
case("br04", "txt", ["〔机密〕", "情况通报", "近期发现若干问题，现通报如下。"],
     "block", [m("marking", "机密")])
case("br05", "html", ["［秘密★1年］", "关于召开专题会议的通知", "定于下周二召开专题会议。"],
     "block", [m("marking.level", "秘密★1年")])
case("br06", "docx", ["会议纪要", "研究了年度重点工作推进情况。"], "block", [m("marking.level", "机密★3年")],
     header="【机密★3年】")
case("br07", "txt", ["【秘密★6个月】关于开展联合检查的通知", "各区：定于下月开展联合检查。"],
     "block", [m("marking.level", "秘密★6个月")])
case("br08", "docx", ["文件处理笺"], "block", [m("marking", "机密")],
     table=[["来文单位", "市应急管理局"], ["密级", "【机密】"], ["缓急", "特急"]])
case("br09", "txt", ["《绝密★启用前》", "2026年度职业技能等级认定理论知识试卷"],
     "block", [m("marking.level", "绝密★启用前")])
case("br10", "pdf", ["「秘密」", "关于某项目前期工作的汇报"], "block", [m("marking", "秘密")])

# public look-alikes: the same forms quoted in running text, teaching material, a GB/T 9704 table
case("brp01", "txt", ["公文格式培训讲义", "密级和保密期限一般标注在版心左上角，如“秘密★1年”“机密★5年”，顶格编排。",
                      "标注时不得使用【】等括号。"], "pass", must_not=["marking.field"])
case("brp02", "docx", ["公文格式要素示例（依据GB/T 9704—2012）", "下表列出版头部分各要素的标注示例。"],
     "pass",      # the sample row is shown to the reviewer as an example of the format (low), it does not decide
     table=[["要素", "标注示例"], ["份号", "000001"], ["密级和保密期限", "秘密★1年"], ["紧急程度", "特急"]])
case("brp03", "html", ["书讯", "长篇小说《秘密》近日出版，讲述了一个关于友情的故事。"], "pass", must_not=["marking"])
case("brp04", "txt", ["保密知识测试题", "1. 某文件左上角标注“【机密★10年】”，表示该文件的保密期限为（　）。",
                      "A. 10年　B. 长期　C. 5年"], "pass", must_not=["marking.field"])

# ===================================================================================================
# 2. Marks that are not 国家秘密标志 but still mean "not for publication": review.
# ===================================================================================================
case("wk01", "txt", ["工作秘密", "关于调整部分岗位人员的工作方案", "一、调整原则。二、实施步骤。"],
     "review", [m("marking.work", "工作秘密")])
case("wk02", "txt", ["发文稿纸", "密级：内部　　缓急：平件", "标题：关于年度考核工作的通知"],
     "review", [m("marking.work")])
case("wk03", "docx", ["工作秘密★3年", "关于信访积案化解情况的报告"], "review", [m("marking.work")])
case("wk04", "docx", ["工作动态", "本期刊发基层经验两篇。"], "review", [m("marking.work")], header="【工作秘密】")
case("wk05", "pdf", ["内部★", "情况反映（第8期）", "部分企业反映融资成本偏高。"], "review", [m("marking.internal")])
case("cm01", "txt", ["核心商密★5年", "某型号产品工艺参数表", "一、主要参数。二、控制要求。"],
     "review", [m("marking.commercial", "核心商密")])
case("cm02", "docx", ["普通商密", "2026年度供应商报价汇总", "各供应商报价如下。"], "review", [m("marking.commercial")])
case("cm03", "docx", ["投标文件商务部分"], "review", [m("marking.commercial")],
     table=[["项目名称", "智慧园区建设项目"], ["密级", "核心商密"], ["编制单位", "某科技公司"]])
case("cm04", "html", ["【普通商密】", "客户回访记录汇总（第二季度）"], "review", [m("marking.commercial")])

case("wkp01", "txt", ["机关保密管理办法", "第八条 工作秘密的确定、变更和解除，由产生该事项的机关负责。",
                      "第九条 机关工作人员不得泄露工作秘密。"], "pass", must_not=["marking"])
case("wkp02", "txt", ["企业商业秘密保护指引", "企业可将商业秘密划分为核心商密和普通商密两级，分别采取相应的保护措施。"],
     "pass", must_not=["marking"])
case("wkp03", "docx", ["采购合同", "第十条 保密条款：双方应对在合作中知悉的商业秘密承担保密义务。"],
     "pass", must_not=["marking"])
case("wkp04", "txt", ["新闻发布", "市场监管局日前查处一起侵犯商业秘密案件，涉案企业被罚款50万元。"],
     "pass", must_not=["marking"])

# ===================================================================================================
# 3. Government disclosure attributes (政府信息公开属性).
# ===================================================================================================
case("ds01", "txt", ["关于印发2026年度财政预算调整方案的通知", "各部门：现将调整方案印发给你们。",
                     "2026年3月15日", "信息公开形式：不予公开"], "review", [m("marking.disclosure", "不予公开")])
case("ds02", "docx", ["关于加强重点人员服务管理的通知", "各街道要落实属地责任。", "2026年4月2日",
                      "（此件不公开）"], "review", [m("marking.disclosure", "此件不公开")])
case("ds03", "pdf", ["公开方式：不公开", "关于某项目资金拨付的请示", "市财政局：……"], "review",
     [m("marking.disclosure")])
case("ds04", "txt", ["内部发文", "关于调整机关内设机构职责的通知"], "review", [m("marking.disclosure")])
case("ds05", "txt", ["关于公布年度行政执法数据的通知", "现将有关数据予以公布。", "2026年1月20日",
                     "信息公开选项：依申请公开"], "pass", [m("marking.disclosure", "依申请公开")])
case("ds06", "html", ["关于开展全民健身月活动的通知", "各单位积极组织干部职工参加。", "2026年5月6日",
                      "公开属性：主动公开"], "pass", must_not=["marking.disclosure"])
case("ds07", "txt", ["关于部分地块收储的工作方案", "【此件不宜公开】", "一、收储范围。二、资金安排。"], "review",
     [m(["marking.disclosure", "term"])])
case("dsp01", "txt", ["政府信息公开条例（节选）", "第十四条 依法确定为国家秘密的政府信息，不予公开。",
                      "第十五条 涉及商业秘密、个人隐私等公开会对第三方合法权益造成损害的政府信息，行政机关不得公开。"],
     "pass", must_not=["marking"])
case("dsp02", "docx", ["关于表彰优秀志愿者的决定", "经研究，决定对以下同志予以表彰。", "2026年3月5日", "（此件公开发布）"],
     "pass", must_not=["marking"])
case("dsp03", "txt", ["政务公开培训", "公文的公开属性分为主动公开、依申请公开和不予公开三类，拟稿时应在“信息公开形式”栏中选择。"],
     "pass", must_not=["marking.disclosure"])

# ===================================================================================================
# 4. Declassification awareness: a mark with a declassification note goes to review, not block.
# ===================================================================================================
case("dc01", "txt", ["秘密★5年", "已解密（解密日期：2025年12月1日）", "关于1998年防汛工作的总结报告"],
     "review", [m("marking.level", "秘密★5年")])
case("dc02", "docx", ["机密★10年", "经审查已解密，可以公开", "关于城市总体规划修编的请示（2008年）"],
     "review", [m("marking.level")])
case("dc03", "pdf", ["秘密★1年", "关于2019年度专项检查的通报", "（保密期限已满，已解除密级）"],
     "review", [m("marking.level")])
case("dcp01", "txt", ["档案开放目录（第五批）", "1. 《关于1990年粮食工作的报告》（原密级：秘密，已解密）",
                      "2. 《关于1992年城建工作的通知》（原密级：机密，已解密）"], "pass", must_not=["marking.level", "marking.field"])

# ===================================================================================================
# 5. 知悉范围 inside a regulation or training text is a mention; a 知悉范围 field is a restriction.
# ===================================================================================================
case("zx01", "txt", ["保守国家秘密法（节选）", "第十六条 机关、单位应当根据工作需要，限定国家秘密的知悉范围。",
                     "国家秘密的知悉范围以外的人员，因工作需要知悉国家秘密的，应当经过批准。"], "pass", must_not=["term"])
case("zx02", "docx", ["保密知识问答", "问：什么是知悉范围？", "答：知悉范围是指根据工作需要限定的能够知悉国家秘密的人员范围。"],
     "pass", must_not=["term"])
case("zx03", "txt", ["关于干部调整的初步方案", "知悉范围：局党组成员", "一、调整原则。"], "review", [m("term.internal")])
case("zx04", "docx", ["会议材料"], "review", [m("term.internal")],
     table=[["材料名称", "年度考核初步结果"], ["知悉范围", "考核工作领导小组"]])

# ===================================================================================================
# 6. Evasion: inserted symbols, tags, repeated characters, look-alikes, pinyin.
# ===================================================================================================
case("ev01", "txt", ["关于近期人事安排的说明", "以下内容不@得@外@传：拟调整三名处级干部。"], "review", [m("term.internal")])
case("ev02", "html", ["会议情况通报", "本通报请★勿★扩★散，仅供参会人员参阅。"], "review", [m("term.internal")])
case("ev03", "txt", ["工作群通知（复制自网页）", "<p>名单已确定，不<b>得</b>外传。</p>"], "review", [m("term.internal")])
case("ev04", "docx", ["值班安排", "不不得得外外传传：春节期间值班人员及联系方式如下。"], "review", [m("term.internal")])
case("ev05", "txt", ["内部通知", "此件不，得，外，传，请各位注意。"], "review", [m("term.internal")])
case("ev06", "txt", ["群消息", "今晚的会议内容请😀勿😀扩😀散🙏"], "review", [m("term.internal")])
case("ev07", "txt", ["Meeting notes", "Agenda: budget for 2027 — bu de wai chuan, thanks."], "review", [m("term.internal")])
case("ev08", "txt", ["群公告", "（bdwc）下周起调整考勤方式。"], "review", [m("term.internal")])
case("ev09", "txt", ["服务器交接", "账号 admin，pаssword: Srv#2026ops"], "review", [m("secret.credential", "Srv#2026ops")])
case("ev10", "txt", ["系统开通说明", "初始囗令：Kq7#vT2026"], "review", [m("secret.credential", "Kq7#vT2026")])
case("ev11", "pdf", ["关于调整科室职责的通知", "本方案内 部 传 阅，请勿对外。"], "review", [m("term.internal")])
case("evp01", "txt", ["新车评测", "该车型拥有无限内部空间的设计感，后排乘坐舒适。"], "pass", must_not=["term"])
case("evp02", "txt", ["数据结构课程", "内部数据结构采用红黑树实现，查找复杂度为O(log n)。"], "pass", must_not=["term"])
case("evp03", "txt", ["市民热线周报", "不少市民期待公布更多停车场的实时空位信息。"], "pass", must_not=["term"])
case("evp04", "txt", ["即时通讯软件更新说明", "新版本优化了阅后销毁功能，开发者可调用阅后销毁函数清理会话。"], "pass", must_not=["term"])
case("evp05", "html", ["网友评价", "★★★★★ 服务很好！😀👍 下次还来～", "环境不错，菜品丰富，价格实惠。"], "pass", must_not=["term"])
case("evp06", "txt", ["网页源码片段", "<div class=\"notice\"><p>欢迎访问本站</p><a href=\"/about\">关于我们</a></div>"],
     "pass", must_not=["term"])
case("evp07", "txt", ["会议简报", "会议强调，要加强管理内部。数据显示，今年以来投诉量下降12%。"], "pass", must_not=["term"])
case("evp08", "txt", ["Russian reading club", "Книга «Пароль» обсуждалась на встрече; password policy is covered in chapter 2."],
     "pass", must_not=["secret"])

# ===================================================================================================
# 7. Secrets pasted into drafts.
# ===================================================================================================
case("sc01", "txt", ["接口联调记录", "{\"endpoint\": \"/v2/report\", \"api_token\": \"vCS7X2szgIfZWZ96IuNM7Rdb\"}"],
     "review", [m("secret", "vCS7X2szgIfZWZ96IuNM7Rdb")])
case("sc02", "txt", ["部署配置（application.yml）", "spring:", "  datasource:", "    username: pay_rw",
                     "    password: 'Pay#Prod2026!rw'"], "review", [m("secret.credential", "Pay#Prod2026!rw")])
case("sc03", "txt", ["访问方式", "后台地址 https://ops:Ops#2026pw@console.example.com/admin"], "review",
     [m("secret.credential", "Ops#2026pw")])
case("sc04", "docx", ["数据库迁移说明", "连接串：Server=db01;Database=finance;User Id=fin_app;Password=Fin@2026db;"],
     "review", [m("secret.credential", "Fin@2026db")])
case("sc05", "txt", [".env 文件内容", "APP_ENV=production", "REDIS_URL=redis://:Cache2026x@10.3.1.20:6379/0",
                     "SECRET_KEY=2sUOhvDXIhpM2k6NOMxx37dSQjpdzzbU"], "review", [m("secret", "2sUOhvDXIhpM2k6NOMxx37dSQjpdzzbU")])
case("sc06", "txt", ["Kubernetes 配置", "apiVersion: v1", "kind: Secret", "metadata:", "  name: pay-db", "type: Opaque",
                     "data:", "  password: UGF5I1Byb2QyMDI2IXJ3"], "review", [m("secret.credential", "UGF5I1Byb2QyMDI2IXJ3")])
case("sc07", "txt", ["登录逻辑（代码评审）", "if (password.equals(\"Adm#2026root\")) { grantAll(); }"], "review",
     [m("secret.credential", "Adm#2026root")])
case("sc08", "txt", ["云存储配置", "aws_access_key_id = AKIA4ENOOFTXKXR2OS6F",
                     "aws_secret_access_key = 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"], "review",
     [m("secret.token", "AKIA4ENOOFTXKXR2OS6F"), m("secret.token", "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")])
case("sc09", "txt", ["Azure 应用注册", "client_secret: sd17Q~rdc5S5agCyau3qUr7ZO_eHwO4bDoXZTrjo"], "review", [m("secret.token")])
case("sc10", "html", ["地图接口说明", "script src=\"https://maps.googleapis.com/maps/api/js?key=AIzaDfT1ZZ8VNNIhf0RMjdAcH_t_0Mhi7XGO94d\""],
     "review", [m("secret.token")])
case("sc11", "txt", ["代码仓库", "请用 ghp_VSwSZ4eNkheVpd5rL4bloa5M2NcpIO89p9Bb 拉取；CI 使用 glpat-peqNgH2G5PbYsBXxQ2OY。"],
     "review", [m("secret.token", "ghp_VSwSZ4eNkheVpd5rL4bloa5M2NcpIO89p9Bb"), m("secret.token", "glpat-peqNgH2G5PbYsBXxQ2OY")])
case("sc12", "txt", ["制品库发布", "//registry.npmjs.org/:_authToken=npm_vweFsU9wzousber0GRVGsNYgbfv8WyNjNraq",
                     "password = pypi-AgEIcHlwaS5vcmc8JSXGlkcIye-oKvG4UOBdt9pZe9rvssNaZuRwDNu67pWXrqA8c_W456bjgpilroj0m2z2J"],
     "review", [m("secret.token", "npm_vweFsU9wzousber0GRVGsNYgbfv8WyNjNraq"), m("secret.token", "pypi-AgEIcHlwaS5vcmc")])
case("sc13", "txt", ["模型下载", "export HF_TOKEN=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"], "review", [m("secret.token")])
case("sc14", "txt", ["邮件服务", "SENDGRID_API_KEY=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"],
     "review", [m("secret.token")])
case("sc15", "txt", ["告警通知", "SLACK_BOT_TOKEN=xoxb-561822906431-6716487013319-HmErRKV4u0cp3XDRVQHF4wft",
                     "webhook: https://hooks.slack.com/services/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"],
     "review", [m("secret.token", "xoxb-"), m("secret.token", "hooks.slack.com")])
case("sc16", "txt", ["接口调试", f"curl -H \"Authorization: Bearer {JWT}\" https://api.example.com/v1/users"],
     "review", [m("secret")])
case("sc17", "txt", ["阿里云 OSS 配置", "AccessKeyId: LTAI5tSguAOnTx4Y2c4b9Ivt", "AccessKeySecret: MFOl3cGj2FTiufOiGgFAAiQvobw0uw"],
     "review", [m("secret.token", "LTAI5tSguAOnTx4Y2c4b9Ivt"), m("secret.token", "MFOl3cGj2FTiufOiGgFAAiQvobw0uw")])
case("sc18", "docx", ["腾讯云短信接入", "SecretId：AKIDHDt0HU5rFOxEoSijQO2x8KZj5hQJ3JJ0",
                      "SecretKey：nie8z8ZX0hNzhGTCJ9BTJFXCyOkHQW11"],
     "review", [m("secret.token", "AKIDHDt0HU5rFOxEoSijQO2x8KZj5hQJ3JJ0"), m("secret.token", "nie8z8ZX0hNzhGTCJ9BTJFXCyOkHQW11")])
case("sc19", "txt", ["华为云 OBS 上传", "AK：M8NFQTNAU2J735FX4BLJ", "SK：zZ0bh7ta3HyziNSqVFDIVpW8ZJJEc8j5ZLh7pdy1"],
     "review", [m("secret.token", "zZ0bh7ta3HyziNSqVFDIVpW8ZJJEc8j5ZLh7pdy1")])
case("sc20", "txt", ["百度智能云 BOS", "BCE_ACCESS_KEY_ID=881421f8feb172361590d191e1cce73d",
                     "BCE_SECRET_ACCESS_KEY=7bb766d143eae99654c8c5021dab3e8b"], "review", [m("secret.token")])
case("sc21", "txt", ["火山引擎 TOS", "VOLCENGINE_ACCESS_KEY=AKLTT9K6k3aW9bV7G3FFwpnKKreWMaC0DCGwzII7-Bg6"], "review",
     [m("secret.token", "AKLTT9K6k3aW9bV7G3FFwpnKKreWMaC0DCGwzII7-Bg6")])
case("sc22", "txt", ["七牛云存储", "QINIU_ACCESS_KEY=M-ed2-FqSRnuB9uqhl77tlswdCn2rvzT-XTBmd7t",
                     "QINIU_SECRET_KEY=JfjVapZBZwycGkbAUNP0BoYJzZ4CdAxhUuZQh3G0"], "review", [m("secret.token")])
case("sc23", "txt", ["UCloud 接入", "UCLOUD_PUBLIC_KEY=TozleKKBYJ729BCiwH8PtElf72Kuo0rcneC9umUt",
                     "UCLOUD_PRIVATE_KEY=e66ef5a59111cd86b4791cd961dcee330077fe6a"], "review", [m("secret.token")])
case("sc24", "docx", ["小程序开发配置", "AppID：wx33c44158e5b87407", "AppSecret：0e32e34e166e5ac3b5e7c1ceb93b56ab"],
     "review", [m("secret.token", "0e32e34e166e5ac3b5e7c1ceb93b56ab")])
case("sc25", "txt", ["企业微信接入", "corpid=ww18500bc7b827ca7b", "corpsecret=n5-N6FEO0WMdq5sQcCyn2KWZbu2IFet_iAQwRoRUKnM"],
     "review", [m("secret.token")])
case("sc26", "txt", ["值班告警机器人", "企业微信：https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=37a5ff3f-4706-4439-9a71-d6f57323fbb7",
                     "钉钉：https://oapi.dingtalk.com/robot/send?access_token=fa403b4761236ccee5674b137f1334b174e1bdb8128659d066bd05c3ca761ce9",
                     "加签：SEC9da0dfa4e0ae7bcd5dcc4f346f31d610cf4b87e2d5b6d992b7defb4fa2020837"], "review",
     [m("secret.token", "qyapi.weixin.qq.com"), m("secret.token", "oapi.dingtalk.com"), m("secret.token", "SEC9da0")])
case("sc27", "txt", ["飞书机器人", "https://open.feishu.cn/open-apis/bot/v2/hook/de68fe67-e4dc-4faa-a420-22569dc58100",
                     "飞书应用 app_id: cli_2e442da07612c628, app_secret: CL2RcDCPGivMXfTCkF7MidqlLUnlPD1C"], "review",
     [m("secret.token", "open-apis/bot"), m("secret.token", "CL2RcDCPGivMXfTCkF7MidqlLUnlPD1C")])
case("sc28", "txt", ["运维手册", "-----BEGIN OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
                     "-----END OPENSSH PRIVATE KEY-----"], "review", [m("secret.credential")])
case("sc29", "txt", ["新员工入职须知", "OA 系统初始密码：Hr@20260301，邮箱默认密码是 Mail#2026a，请首次登录后修改。"],
     "review", [m("secret.credential", "Hr@20260301"), m("secret.credential", "Mail#2026a")])
case("sc30", "txt", ["备份脚本", "mysqldump -h 10.2.8.31 -u backup -pBak2026db --all-databases > all.sql"], "review",
     [m("secret.credential", "Bak2026db")])
case("scp01", "txt", ["AWS 入门教程", "配置示例：aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
                      "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY（请替换为你自己的密钥）"], "pass", must_not=["secret"])
case("scp02", "txt", ["部署文档（模板）", "DB_PASSWORD=${DB_PASSWORD}", "API_KEY=<your-key>", "SECRET_KEY=insert_key_here",
                      "db_password = var.db_password", "token: xxxxxxxxxxxxxxxxxxxx"], "pass", must_not=["secret"])
case("scp03", "txt", ["Security awareness", "Use a strong password combination.", "Never share your password."],
     "pass", must_not=["secret"])
case("scp04", "html", ["钉钉机器人接入指南", "自定义机器人的接入方法见 https://open.dingtalk.com/document/robots/custom-robot-access ，",
                       "Webhook 地址形如 https://oapi.dingtalk.com/robot/send?access_token=XXXXXX 。"], "pass", must_not=["secret"])
case("scp05", "txt", ["网上办事指南", "首次登录的初始密码为身份证号码后六位，登录后请立即修改。"], "pass", must_not=["secret"])
case("scp06", "txt", ["JWT 简介", "JWT 由 header、payload、signature 三部分组成，用点号连接，头部通常以 eyJ 开头。"],
     "pass", must_not=["secret"])
case("scp07", "txt", ["Kubernetes 培训", "Secret 的 data 字段保存 Base64 编码的数据，例如：", "kind: Secret", "data:",
                      "  password: <base64-encoded-password>"], "pass", must_not=["secret"])

# ===================================================================================================
# 8. Identifiers as people write them.
# ===================================================================================================
case("id01", "txt", ["拟录用人员公示（内部）", f"王某，身份证号 {spaced(ID_A, 4)}，拟录用为科员。"], "review", [m("pii.id_card")])
case("id02", "docx", ["租房登记", f"承租人证件号码：{ID_B[:6]}-{ID_B[6:14]}-{ID_B[14:]}"], "review", [m("pii.id_card")])
case("id03", "pdf", ["经查，申请人张某某于2026年3月提交的补助申请材料齐全，公民身份号码为" + ID_C + "，符合条件。"],
     "review", [m("pii.id_card")])     # the number falls across the 44-character line wrap of the PDF
case("id04", "docx", ["补助发放名单"], "review", [m("pii.id_card", ID_D)],
     table=[["姓名", "身份证号", "金额"], ["李某", ID_D, "2000元"]])
case("id05", "docx", ["老干部走访登记"], "review", [m("pii.id_card", ID_OLD)],
     table=[["姓名", "身份证号", "走访时间"], ["赵某", ID_OLD, "3月2日"]])
case("id06", "txt", ["联系方式", "联系人：陈先生，电话 0086 139 1234 5678（微信同号）"], "review", [m("pii.phone")])
case("id07", "txt", ["报名回执", "手机：(+86)186-1111-2233"], "review", [m("pii.phone")])
case("id08", "txt", ["报销说明", f"收款账号：{spaced(CARD_UNKNOWN, 4)}，开户人：刘某"], "review", [m("pii.bank_card")])
case("id09", "html", ["退费申请", f"银行卡号：{CARD_BOC[:6]} {CARD_BOC[6:13]} {CARD_BOC[13:]}"], "review", [m("pii.bank_card")])
case("id10", "txt", ["通讯录更新", "李明：liming@xn--fiqs8s.xn--fiqs8s（个人邮箱）"], "review", [m("pii.email")])
case("id11", "txt", ["选址报告", "备选地块中心点坐标：东经118度05分21秒，北纬31度14分08秒。"], "review", [m("geo.coordinates")])
case("id12", "docx", ["勘察记录", "3号监测井位于北纬31度14.527分、东经121度28.633分。"], "review", [m("geo.coordinates")])
case("idp01", "txt", ["旅游推介", "某某山国家森林公园位于东经118°22′、北纬31°14′，总面积86平方公里，是国家4A级景区。"],
     "pass", must_not=["pii"])
case("idp02", "txt", ["报销须知", "发票代码：044031900111，发票号码：02766012，开票日期2026年3月5日。",
                      "电子发票号码：13572468013（全电发票号码以系统为准）"], "pass", must_not=["pii.phone"])
case("idp03", "txt", ["采购结果公告", "中标单位：某某科技有限公司（统一社会信用代码：91320106MA1MXRD23E）",
                      "订单号：202603051030227781，快递单号：SF1402385566210"], "pass", must_not=["pii.id_card", "pii.phone", "pii.bank_card"])
case("idp04", "txt", ["新书推荐", "《城市治理的逻辑》，ISBN 978-7-5201-8856-3，定价68元。"], "pass", must_not=["pii"])
case("idp05", "txt", ["地震速报", "中国地震台网正式测定：4月2日10时21分在某县（北纬30.12度，东经103.45度）发生3.8级地震。"],
     "pass", must_not=["pii"])
case("idp06", "txt", ["办事指南", "咨询电话：(+86) 025-83126100（工作日9:00-17:00）"], "pass", must_not=["pii.id_card"])
