"""Hidden content: what the reader does not see but the published file still carries.

One finding per hidden segment (a revision, a comment, a group of hidden runs in a paragraph,
a property, the text under one box), span = the whole segment text. Every other detector runs
over the same segments, so a deleted revision with an ID number also gives pii.id_card.

Not findings (false-alarm control): script/style content and field instructions (scanned by the
other detectors, but their presence is normal), HTML <title>/meta description (visible to any
reader), generator strings (Producer, Creator, Application), default property values written by
tools (python-docx, Administrator, anonymous ...), a title/subject that is also in the visible text.
"""
from __future__ import annotations

import re

from ..model import Finding, Segment
from ..normalize import NormalizedText
from .base import ScanContext, make_finding

RULE_VERSION = "v1"

# metadata fields that are findings when non-empty and not a tool default
PERSON_FIELDS = {"author", "lastModifiedBy", "creator_person", "manager", "Author", "dc:creator", "lastAuthor"}
ORG_FIELDS = {"company"}
TEXT_FIELDS = {"title", "subject", "comments", "keywords", "category", "contentStatus", "custom", "description"}
GPS_FIELDS = {"exif_gps"}
FLAGGED_FIELDS = PERSON_FIELDS | ORG_FIELDS | TEXT_FIELDS | GPS_FIELDS

DEFAULT_VALUES = {
    "", "python-docx", "openpyxl", "python-pptx", "administrator", "admin", "user", "author", "unknown",
    "anonymous", "(anonymous)", "untitled", "(unspecified)", "unspecified", "none", "microsoft office user",
    "microsoft office 用户", "windows 用户", "windows user", "用户", "作者", "reportlab generated pdf document",
    "word 文档", "microsoft word - document1", "document", "文档", "ofd", "wps", "lenovo", "dell", "hp", "pc",
    "ofd reader", "adobe", "suwell", "foxit",
}
# custom properties written by tools, not people
TOOL_CUSTOM = re.compile(r"^(KSOProductBuildVer|ICV|KSOTemplateDocerSaveRecord|KSORubyTemplateID|ContentTypeId|"
                         r"_DocHome|AppVersion|Generator|GrammarlyDocumentId|_NewReviewCycle)$", re.I)

# hidden-layer kinds whose presence alone is normal (still scanned by the other detectors)
QUIET_HIDDEN_KINDS = {"field", "glossary", "docvar"}

EXPLAIN = {
    "revision": "文档中保留有修订痕迹（{what}{who}），发布后可被他人查看，可能泄露未公开的修改内容。",
    "comment": "文档中含有批注或注释（{who}），发布后可被他人查看：“{snippet}”。",
    "hidden": "文档中含有读者看不到的隐藏内容（{what}），发布后仍可被复制或检索出来。",
    "metadata": "文档属性（{what}）中含有“{snippet}”，发布后可被他人查看，可能暴露作者、单位或内部信息。",
    "redaction": "PDF 第 {page} 页有文字被黑框等图形遮盖，但文字仍在文件中，可被复制出来（遮盖无效）。",
}
SUGGEST = {
    "revision": "请在审阅中“接受/拒绝所有修订”并关闭修订后重新生成文件，确认修订内容不含敏感信息。",
    "comment": "请删除全部批注（审阅→删除→删除文档中的所有批注）后重新提交。",
    "hidden": "请删除隐藏文字（或取消隐藏后核对内容），使用“检查文档”清除隐藏内容后重新提交。",
    "metadata": "请在“文件→信息→检查文档”中删除文档属性和个人信息后重新提交。",
    "redaction": "请在原始文件中删除需遮盖的文字后再转换为 PDF，或使用专业工具进行真正的涂黑（删除底层文字）。",
}
KIND_ZH = {
    "inserted": "插入", "deleted": "删除", "moved_from": "移动（原位置）", "moved_to": "移动（新位置）",
    "vanish": "隐藏文字", "white": "白色文字", "tiny": "极小字号文字", "invisible": "不可见文字（渲染模式3）",
    "offpage": "页面外文字", "hidden_sheet": "隐藏工作表", "hidden_row": "隐藏行", "hidden_col": "隐藏列",
    "hidden_slide": "隐藏幻灯片", "html_hidden": "网页隐藏元素", "covered": "被覆盖的文字",
}
FIELD_ZH = {
    "author": "作者", "lastModifiedBy": "最后修改者", "manager": "经理", "company": "单位", "title": "标题",
    "subject": "主题", "comments": "备注", "keywords": "关键词", "category": "类别", "contentStatus": "状态",
    "custom": "自定义属性", "exif_gps": "图片拍摄位置（GPS）", "description": "描述",
}
CATEGORY = {"revision": "hidden.revision", "comment": "hidden.comment", "hidden": "hidden.text",
            "metadata": "hidden.metadata", "redaction": "hidden.redaction"}


def _snippet(text: str, n: int = 24) -> str:
    t = " ".join(text.split())
    return t if len(t) <= n else t[:n] + "…"


class HiddenDetector:
    name = "hidden"
    order = 60          # after the rule detectors: finalize can see their geo findings

    def __init__(self, light: bool = False):
        self.light = light

    # ------------------------------------------------------------------------------------------
    def _visible_text(self, ctx: ScanContext) -> str:
        cache = ctx.options.get("_hidden_visible")
        if cache is None:
            parts = [s.text for s in ctx.document.segments if s.layer in ("body", "table", "header", "footer")]
            cache = "\n".join(parts)[:2_000_000]
            ctx.options["_hidden_visible"] = cache
        return cache

    def _metadata_flagged(self, seg: Segment, ctx: ScanContext) -> bool:
        field = seg.locator.get("field", "")
        if field not in FLAGGED_FIELDS:
            return False
        val = " ".join(seg.text.split())
        if val.lower() in DEFAULT_VALUES or len(val) < 2 and field not in GPS_FIELDS:
            return False
        if field == "custom" and TOOL_CUSTOM.match(seg.locator.get("name", "") or ""):
            return False
        if field in ("title", "subject", "keywords", "description") and ctx.document.media_type.startswith("text/html"):
            return False    # a web page's title and description are shown to every reader
        if field in ("title", "subject", "description") and val in " ".join(self._visible_text(ctx).split()):
            return False    # already visible in the document itself
        if field == "custom" and re.fullmatch(r"[\d\s.:\-TZ{}a-fA-F]+", val):
            return False    # ids, hashes, dates, version numbers
        return True

    def _is_flagged(self, seg: Segment, ctx: ScanContext) -> bool:
        layer = seg.layer
        if layer not in CATEGORY or not seg.text.strip():
            return False
        kind = seg.locator.get("kind", "")
        if layer == "hidden" and kind in QUIET_HIDDEN_KINDS:
            return False
        if layer == "metadata":
            return self._metadata_flagged(seg, ctx)
        if layer == "comment" and kind == "html-comment":
            t = seg.text.strip()
            # boilerplate markup comments (<!-- end nav -->, conditional comments) are not findings
            if t.startswith("[if") or t.startswith("<![endif]") or not re.search(r"[\u4e00-\u9fff\d]", t):
                return False
        return True

    def detect(self, seg: Segment, norm: NormalizedText, ctx: ScanContext) -> list[Finding]:
        if not self._is_flagged(seg, ctx):
            return []
        layer = seg.layer
        text = seg.text
        # span: the whole segment, trimmed of surrounding white space
        i = len(text) - len(text.lstrip())
        j = len(text.rstrip())
        loc = seg.locator
        kind = loc.get("kind", "")
        who = f"，作者：{loc['author']}" if loc.get("author") else ""
        what = KIND_ZH.get(kind, kind or {"revision": "修订", "hidden": "隐藏内容"}.get(layer, ""))
        if layer == "metadata":
            what = FIELD_ZH.get(loc.get("field", ""), loc.get("field", ""))
            if loc.get("field") == "custom" and loc.get("name"):
                what = f"自定义属性“{_snippet(loc['name'], 20)}”"
        explanation = EXPLAIN[layer].format(what=what, who=who.lstrip("，") or "作者未知" if layer == "comment" else who,
                                            snippet=_snippet(text), page=loc.get("page", "?"))
        severity = "medium"
        confidence = 0.9
        evidence = [f"layer:{layer}"] + ([f"kind:{kind}"] if kind else []) + \
                   ([f"field:{loc['field']}"] if loc.get("field") else [])
        f = make_finding(seg, norm, i, j, category=CATEGORY[layer], rule_id=f"{CATEGORY[layer]}.{RULE_VERSION}",
                         severity=severity, confidence=confidence, explanation=explanation,
                         suggestion=SUGGEST[layer], evidence=evidence, normalized_offsets=False)
        out = [f]
        if layer == "metadata" and loc.get("field") == "exif_gps":
            g = make_finding(seg, norm, i, j, category="geo.coordinates", rule_id=f"geo.coordinates.exif.{RULE_VERSION}",
                             severity="medium", confidence=0.95,
                             explanation=f"文档中的图片带有拍摄位置坐标（{_snippet(text)}），可能暴露敏感地点。",
                             suggestion="请清除图片的 EXIF 位置信息（或重新截图/导出图片）后再插入文档。",
                             evidence=["exif_gps"], normalized_offsets=False)
            out.append(g)
        return out

    def finalize(self, findings: list[Finding], ctx: ScanContext) -> list[Finding]:
        """Drop our EXIF geo finding when the pattern detector already reported that segment."""
        geo_other = {f.segment_id for f in findings if f.category.startswith("geo.")
                     and not f.rule_id.startswith("geo.coordinates.exif")}
        if not geo_other:
            return findings
        return [f for f in findings if not (f.rule_id.startswith("geo.coordinates.exif") and f.segment_id in geo_other)]


def create(ruleset=None, light: bool = False):
    return HiddenDetector(light=light)
