"""Every action the service writes to a submission's audit trail has its Chinese name on the audit
page (service.web.auditview): found by reading the service's own audit.append calls, so a new
action without a name fails here."""
from __future__ import annotations

import ast
from pathlib import Path

from service.web.auditview import action_zh, fields_zh
from service.workflow import TRANSITIONS

ROOT = Path(__file__).resolve().parents[2]


def _strings(node) -> set[str]:
    """Whole string constants under `node` (an f-string's fragments are not actions)."""
    if isinstance(node, ast.JoinedStr):
        return set()
    if isinstance(node, ast.Constant):
        return {node.value} if isinstance(node.value, str) else set()
    out: set[str] = set()
    for child in ast.iter_child_nodes(node):
        out |= _strings(child)
    return out


def _assigned(tree, name: str) -> set[str]:
    """String constants assigned to `name` anywhere in the module (plain or tuple assignment)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id == name:
                out |= _strings(node.value)
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for t, v in zip(target.elts, node.value.elts):
                    if isinstance(t, ast.Name) and t.id == name:
                        out |= _strings(v)
    return out


def _actions() -> set[str]:
    """The action argument of every audit.append(s, actor, action, "submission", ...) in service/
    (what a submission's audit page shows): its string constants, or those assigned to the
    variable it names; f-strings are the workflow's transitions (added from TRANSITIONS)."""
    out: set[str] = set()
    for path in (ROOT / "service").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit" and len(node.args) >= 4
                    and isinstance(node.args[3], ast.Constant) and node.args[3].value == "submission"):
                arg = node.args[2]
                out |= _assigned(tree, arg.id) if isinstance(arg, ast.Name) else _strings(arg)
    return out


def test_every_audited_action_has_a_chinese_name():
    actions = _actions() | {f"{t.level}.{t.decision}" for t in TRANSITIONS if t.level}
    assert {"submission.created", "review.verdict", "record.exported", "redacted_copy.downloaded"} <= actions
    missing = sorted(a for a in actions if action_zh(a) == "其他操作")
    assert not missing, missing
    assert action_zh("approval.approve") == "审批：同意发布" and action_zh("no.such") == "其他操作"


def test_fields_read_in_chinese():
    text = fields_zh({"status": "pending_approval", "version": 2, "verdict": "accepted_risk",
                      "category": "pii.phone", "format": "docx"})
    assert text == "状态：待审批；版本：第 2 版；审查结论：接受风险；类别：电话号码；格式：Word（docx）"
