"""Stable extraction error codes with Chinese messages for people."""
from __future__ import annotations

from ..model import ScanError


class ExtractionFailed(Exception):
    def __init__(self, error: ScanError):
        super().__init__(error.code)
        self.error = error


def empty() -> ScanError:
    return ScanError("extract.empty", "文件为空，无法审查。请确认上传的是完整文件。")


def unsupported(media_type: str) -> ScanError:
    return ScanError("extract.unsupported", "不支持的文件格式，无法自动审查，请转为 docx、pdf、txt 或 html 后重新提交，或交由人工审查。",
                     media_type)


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
