"""Stable extraction error codes with Chinese messages for people."""
from __future__ import annotations

from ..errors import ExtractionFailed  # noqa: F401  (raised by the extractors; one home in scanner.errors)
from ..model import ScanError
from .formats import listing


def empty() -> ScanError:
    return ScanError("extract.empty", "文件为空，无法审查。请确认上传的是完整文件。")


def unsupported(media_type: str) -> ScanError:
    return ScanError("extract.unsupported", f"不支持的文件格式，无法自动审查，请转为 {listing(documents_only=True)} "
                     "后重新提交，或交由人工审查。", media_type)


def unreadable(detail: str = "") -> ScanError:
    return ScanError("extract.unreadable", "无法读取该文件，请检查文件是否存在以及访问权限。", detail)


def corrupt(detail: str = "") -> ScanError:
    return ScanError("extract.corrupt", "文件已损坏或格式不正确，无法完整读取，需人工审查。", detail)


def encrypted() -> ScanError:
    return ScanError("extract.encrypted", "文件已加密或设有打开密码，无法读取内容，请解除加密后重新提交。")


def no_text(media_type: str = "") -> ScanError:
    return ScanError("extract.no_text", "未能从文件中提取到文字（可能是扫描件或图片），需人工审查。", media_type)


def too_large(size: int, limit: int) -> ScanError:
    return ScanError("extract.too_large", "文件超过大小上限，未予审查，请拆分后重新提交。", f"{size} > {limit}")


def resource_limit(detail: str = "") -> ScanError:
    return ScanError("extract.resource_limit", "文件解析超出内存或资源限制，已中止，需人工审查。", detail)


def timeout(detail: str = "") -> ScanError:
    return ScanError("extract.timeout", "文件解析超时，已中止，需人工审查。", detail)


def truncated(detail: str = "") -> ScanError:
    return ScanError("extract.truncated", "文件内容超过审查上限，仅审查了前一部分，其余内容需人工审查。", detail)


def garbled(detail: str = "") -> ScanError:
    return ScanError("extract.garbled_text", "PDF 文字层疑似乱码（字体缺少编码映射），提取结果不可信，需人工审查。", detail)


def encoding_unknown(detail: str = "") -> ScanError:
    return ScanError("extract.encoding", "无法可靠识别文本编码，需人工审查。", detail)


# --- container and XML safety (deep inspection) -------------------------------------------------
def dtd_forbidden(detail: str = "") -> ScanError:
    return ScanError("extract.dtd_forbidden", "文件内部含有不允许的 XML 文档类型定义（DOCTYPE/实体），可能是恶意构造的文件，已拒绝解析，需人工审查。",
                     detail)


def xml_too_deep(detail: str = "") -> ScanError:
    return ScanError("extract.xml_too_deep", "文件内部结构嵌套过深，可能是恶意构造的文件，已拒绝解析，需人工审查。", detail)


def archive_bomb(detail: str = "") -> ScanError:
    return ScanError("extract.archive_bomb", "压缩包或文档解压后体积过大（疑似压缩炸弹），未予解压，需人工审查。", detail)


def archive_duplicate(detail: str = "") -> ScanError:
    return ScanError("extract.archive_duplicate_member", "文件内部含有重名或重叠的成员，不同软件可能读取到不同内容，已拒绝解析，需人工审查。",
                     detail)


def archive_unsafe_name(detail: str = "") -> ScanError:
    return ScanError("extract.archive_unsafe_member", "压缩包内含有不安全的路径或符号链接成员，已拒绝解析，需人工审查。", detail)


def archive_too_many(detail: str = "") -> ScanError:
    return ScanError("extract.archive_too_many_members", "压缩包成员数量超过上限，未予审查，需人工审查。", detail)


def archive_too_deep(detail: str = "") -> ScanError:
    return ScanError("extract.archive_too_deep", "压缩包嵌套层数超过上限，内层内容未审查，需人工审查。", detail)


def parser_crash(detail: str = "") -> ScanError:
    return ScanError("extract.parser_crash", "解析程序异常退出（文件可能损坏或为恶意构造），未能完成审查，需人工审查。", detail)


def partial(detail: str = "") -> ScanError:
    return ScanError("extract.partial", "文件中有部分内容（如嵌入对象）无法读取，未予审查，需人工审查。", detail)


def legacy_office(detail: str = "") -> ScanError:
    return ScanError("extract.unsupported", "该文件为旧版 Office/WPS 格式（.doc/.wps/.xls/.et 等）或已加密的 Office 文件；"
                     "本机未安装 LibreOffice，无法转换审查。请另存为 docx/xlsx/pdf 后重新提交，或交由人工审查。", detail)


def type_mismatch(detail: str = "") -> ScanError:
    return ScanError("extract.type_mismatch", "文件扩展名与实际内容不符（可能被改名或伪装），已按实际内容审查，需人工确认。", detail)


# --- images, scans and OCR (issue 11): visible content that could not be read ------------------
_OCR_OFF_REASON = {
    "light": "轻量模式不做文字识别",
    "off": "文字识别已关闭",
    "engine": "文字识别组件不可用",
    "memory": "超出内存限制",
    "failed": "识别失败",
}


def ocr_unavailable(where: str, reason: str = "off", detail: str = "") -> ScanError:
    why = _OCR_OFF_REASON.get(reason, _OCR_OFF_REASON["failed"])
    return ScanError("extract.ocr_unavailable", f"{where}为图片或扫描内容，未能进行图片文字识别（{why}），"
                     "其中的文字未经审查，需人工审查。", detail or reason)


def ocr_low_confidence(where: str, detail: str = "") -> ScanError:
    return ScanError("extract.ocr_low_confidence", f"{where}的图片文字识别置信度低，部分文字可能未被正确读取，需人工审查。",
                     detail)


def ocr_timeout(where: str, detail: str = "") -> ScanError:
    return ScanError("extract.timeout", f"{where}的图片文字识别超出时间上限，未识别的内容需人工审查。", detail)


def image_unreadable(where: str = "图片", detail: str = "") -> ScanError:
    return ScanError("extract.image_unreadable", f"{where}无法读取（图片损坏、不完整、格式不支持或尺寸超出上限），"
                     "其中的内容未经审查，需人工审查。", detail)


def ocr_unsupported_image(where: str, detail: str = "") -> ScanError:
    return ScanError("extract.ocr_unsupported_image", f"{where}为矢量图元文件（EMF/WMF），未能转换为可识别的图像，"
                     "其中的文字未经审查，需人工审查。", detail)


def converter_failed(detail: str = "") -> ScanError:
    return ScanError("extract.converter_failed", "旧版 Office/WPS 文件转换失败（LibreOffice 未能完成转换），"
                     "无法审查其内容，需人工审查。", detail)


def garbled_replaced(where: str, detail: str = "") -> ScanError:
    return ScanError("extract.garbled_text", f"{where}的 PDF 文字层为乱码（字体缺少编码映射或编码错误），"
                     "已改用图片文字识别的结果审查。", detail)


def garbled_incomplete(where: str, detail: str = "") -> ScanError:
    """A garbled page OCR read text on, but far fewer characters than its text layer draws: part of
    what the page shows (small print) was not read."""
    return ScanError("extract.garbled_incomplete", f"{where}的 PDF 文字层为乱码，按页面图像识别出的文字远少于"
                     "文字层中的字符数（小字号等内容可能未能识别），页面未完整读取，需人工审查。", detail)


# --- notes (info, never decide): how the file was read ---------------------------------------------
def garbled_read_note(where: str, detail: str = "") -> ScanError:
    """Every garbled PDF page was rendered and read by OCR, which found text on each at good
    confidence: what the page shows was read and scanned (the broken layer was not)."""
    return ScanError("extract.garbled_read", f"{where}的 PDF 文字层为乱码（字体缺少编码映射或编码错误），"
                     "已按页面图像进行文字识别并审查识别结果。", detail)


def blank_note(detail: str = "") -> ScanError:
    return ScanError("extract.blank", "文件没有任何可见内容（空白页、未填写的占位符或空文档），已逐页核实，无文字需要审查。",
                     detail)


def no_text_pages(where: str, detail: str = "") -> ScanError:
    """A document from which nothing was read whose pages show ink (drawings): no text layer, and
    OCR of the rendered pages found none. What they show (a chart, a drawing, a signature, a map)
    was not read: review."""
    return ScanError("extract.no_text", f"文件中未读到任何文字：{where}只有图形，没有文字层，图片文字识别也未发现文字；"
                     "其内容（图表、手绘、签名、地图等）未能自动审查，需人工查看。", detail)
