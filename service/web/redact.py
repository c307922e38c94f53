"""The redacted copy for authors: visible text with personal data and secrets masked (same
length, so positions stay), plus a list of the markings and hidden content to remove."""
from __future__ import annotations

from scanner.report.locate import location_zh
from scanner.taxonomy import TAXONOMY, VISIBLE_LAYERS, Taxonomy, layer_zh

MASK_PREFIXES = ("pii.", "secret.", "geo.")
MASK = "＊"


def mask_text(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        if 0 <= a < b <= len(chars):
            for i in range(a, b):
                if not chars[i].isspace():
                    chars[i] = MASK
    return "".join(chars)


def redacted_copy(report: dict, title: str, version: int, taxonomy: Taxonomy | None = None) -> str:
    tax = taxonomy or TAXONOMY
    segs = report.get("segments") or []
    findings = report.get("findings") or []
    by_seg: dict[int, list[dict]] = {}
    for f in findings:
        by_seg.setdefault(f.get("segment_id"), []).append(f)
    seg_by_id = {s["id"]: s for s in segs}
    lines = [f"保密审查脱敏副本：{title}（第 {version} 版）",
             "说明：个人信息、口令密钥、内网地址与精确坐标已用“＊”遮盖；下列密级标志与隐藏内容不会出现在正文中，"
             "须在原文件中删除（接受修订、删除批注、清除文档属性）后重新提交。", ""]
    marks = [f for f in findings if f.get("category", "").startswith("marking.")]
    hidden = [f for f in findings if f.get("category", "").startswith("hidden.")]
    lines.append(f"一、密级标志（{len(marks)} 处）")
    for f in marks:
        seg = seg_by_id.get(f.get("segment_id")) or {}
        lines.append(f"  - {location_zh(seg.get('locator') or {}, f.get('layer', ''))}：{tax.category_zh(f['category'])}。"
                     f"{f.get('suggestion', '')}")
    lines.append(f"二、隐藏内容（{len(hidden)} 处）")
    for f in hidden:
        seg = seg_by_id.get(f.get("segment_id")) or {}
        lines.append(f"  - {layer_zh(f.get('layer', ''))}，{location_zh(seg.get('locator') or {}, f.get('layer', ''))}："
                     f"{tax.category_zh(f['category'])}。{f.get('suggestion', '')}")
    lines += ["", "三、正文（已脱敏）", ""]
    for s in segs:
        if s.get("layer") not in VISIBLE_LAYERS:
            continue
        spans = [(f["start"], f["end"]) for f in by_seg.get(s["id"], [])
                 if f.get("category", "").startswith(MASK_PREFIXES)]
        lines.append(mask_text(s.get("text", ""), spans))
    return "\n".join(lines) + "\n"
