"""The audit trail for people: each entry's action, outcome and fields in Chinese (the stored
entries keep their stable codes; the page shows the code only as a tooltip)."""
from __future__ import annotations

from scanner.taxonomy import category_zh, decision_zh

from ..workflow import LEVEL_ZH, OPINION_ZH, STATUS_ZH, VERDICT_ZH
from .common import ROLE_ZH

ACTION_ZH = {
    "submission.created": "提交申请", "submission.version_added": "提交新版本",
    "submission.text_viewed": "查看草稿正文", "scan.queued": "排队自动审查", "scan.completed": "自动审查完成",
    "scan.scanned": "扫描草稿", "gate.scanned": "发布网关扫描", "gate.checked": "发布网关检查",
    "review.verdict": "填写逐条审查结论", "record.exported": "导出审查单",
    "redacted_copy.downloaded": "下载脱敏副本", "report.text_viewed": "查看报告正文",
    "allowlist.added": "加入放行名单", "allowlist.removed": "移出放行名单",
    "apikey.created": "创建接口密钥", "apikey.revoked": "吊销接口密钥",
    "auth.login": "登录", "auth.login_failed": "登录失败", "auth.login_throttled": "登录受限（多次失败）",
    "auth.logout": "退出登录", "csrf_rejected": "拒绝跨站请求", "lexicon.updated": "修改规则与词表",
    "retention.purge": "按保留期清除草稿", "user.created": "创建用户", "user.updated": "修改用户",
    "user.unlocked": "解除登录锁定",
    "review.verdict_batch": "批量填写审查结论", "review.verdicts_carried": "沿用上一版审查结论",
    "review.allowlist_promoted": "审查结论加入白名单", "allowlist.entry_created": "新增白名单条目",
    "allowlist.entry_revoked": "撤销白名单条目", "allowlist.entry_expired": "白名单条目到期",
}
FIELD_ZH = {
    "status": "状态", "version": "版本", "sha256": "内容 SHA-256", "size": "大小（字节）", "media_type": "文件类型",
    "job": "任务编号", "finding": "发现编号", "fingerprint": "指纹", "category": "类别", "verdict": "审查结论",
    "reason_len": "理由字数", "format": "格式", "report_id": "报告编号", "decision": "自动审查结论",
    "findings": "发现数", "fingerprints": "发现指纹", "errors": "读取错误", "role": "角色", "active": "启用",
    "password_reset": "重置口令", "sessions_ended": "结束会话数", "user_id": "用户编号", "scopes": "权限范围",
    "prefix": "密钥前缀", "was_locked": "原已锁定", "url": "发布地址", "count": "数量",
    "from_version": "沿用自版本", "groups": "项数", "occurrences": "出现次数", "entry": "白名单条目",
    "scope_kind": "适用范围", "label": "标签", "expires_at": "有效期至", "rule_id": "规则", "filter": "筛选条件",
    "submission": "申请",
}
FORMAT_ZH = {"pdf": "PDF", "docx": "Word（docx）", "xlsx": "Excel（xlsx）", "txt": "文本", "html": "网页"}
MEDIA_ZH = {"application/pdf": "PDF", "text/plain": "文本",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word（docx）",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel（xlsx）"}


def action_zh(action: str) -> str:
    if action in ACTION_ZH:
        return ACTION_ZH[action]
    level, _, decision = action.partition(".")
    if level in LEVEL_ZH and decision in OPINION_ZH:          # a workflow decision: review.approve ...
        return f"{LEVEL_ZH[level]}：{OPINION_ZH[decision]}"
    return "其他操作"


def _value_zh(key: str, v) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if v is None:
        return "无"
    if key == "status":
        return STATUS_ZH.get(str(v), str(v))
    if key == "verdict":
        return VERDICT_ZH.get(str(v), str(v))
    if key == "category":
        return category_zh(str(v))
    if key == "decision":
        return decision_zh(str(v))
    if key == "format":
        return FORMAT_ZH.get(str(v), str(v))
    if key == "media_type":
        return MEDIA_ZH.get(str(v).split(";")[0], "其他格式")
    if key == "role":
        return ROLE_ZH.get(str(v), str(v))
    if key == "version":
        return f"第 {v} 版"
    if key == "fingerprints" and isinstance(v, list):
        return f"{len(v)} 个"
    if key == "errors" and isinstance(v, list):
        return f"{len(v)} 项" if v else "无"
    if isinstance(v, list):
        return "、".join(str(x) for x in v) or "无"
    if isinstance(v, dict):
        return fields_zh(v)
    return str(v)


def fields_zh(d: dict | None) -> str:
    """A before/after dict as "状态：待保密审查；版本：第 2 版" (unknown keys keep a neutral label)."""
    if not d:
        return ""
    return "；".join(f"{FIELD_ZH.get(k, '其他')}：{_value_zh(k, v)}" for k, v in d.items())


def rows_zh(rows: list[dict]) -> list[dict]:
    """The entries of workflow.audit_trail with action_zh, role_zh, before_zh, after_zh added."""
    out = []
    for r in rows:
        out.append(dict(r, action_zh=action_zh(r["action"]), role_zh=ROLE_ZH.get(r.get("role") or "", "系统"),
                        before_zh=fields_zh(r.get("before")), after_zh=fields_zh(r.get("after"))))
    return out
