"""Plain text: encoding detected (BOM, strict UTF-8, then charset-normalizer), one segment per line."""
from __future__ import annotations

import codecs

from ..model import Document
from . import errors as E

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
]
_CANDIDATES = ["gb18030", "big5", "utf-16-le", "utf-16-be"]


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). Raises ExtractionFailed when no encoding is plausible."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace"), enc + "-bom"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # mostly UTF-8 with a few broken sequences: keep UTF-8, replace the broken bytes (U+FFFD)
    replaced = data.decode("utf-8", errors="replace")
    bad = replaced.count("\ufffd")
    sample = data[: 1 << 16]
    ascii_share = sum(1 for b in sample if b < 0x80) / max(1, len(sample))
    if bad <= max(8, len(replaced) // 50) and _utf8_multibyte_share(data) > 0 or \
            (ascii_share > 0.7 and bad <= max(16, len(replaced) // 5)):
        return replaced, "utf-8 (replaced)"
    from charset_normalizer import from_bytes
    best = from_bytes(data[: 1 << 20], cp_isolation=_CANDIDATES).best()
    if best is not None:
        enc = best.encoding
        if enc in ("gb2312", "gbk", "hz"):
            enc = "gb18030"
        return data.decode(enc, errors="replace"), enc
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise E.ExtractionFailed(E.encoding_unknown(str(exc.reason)))


def _utf8_multibyte_share(data: bytes) -> float:
    sample = data[: 1 << 16]
    return sum(1 for b in sample if b >= 0xC2 and b <= 0xF4) / max(1, len(sample))


MAX_TEXT_BYTES = 16 << 20     # 5 M CJK characters in UTF-8 fit; more is never scanned anyway


def head_bytes(data: bytes, doc: Document) -> bytes:
    """Decode only what can be scanned: a huge text is cut (at a character boundary for UTF-8 and
    UTF-16) and flagged truncated, instead of decoding and splitting all of it in memory."""
    if len(data) <= MAX_TEXT_BYTES:
        return data
    cut = MAX_TEXT_BYTES
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        cut -= cut % 2
    else:
        while cut > 0 and 0x80 <= data[cut] <= 0xBF:      # do not split a UTF-8 sequence
            cut -= 1
    doc.errors.append(E.truncated(f"text larger than {MAX_TEXT_BYTES} bytes"))
    doc.meta["truncated"] = True
    return data[:cut]


def extract_txt(data: bytes, doc: Document) -> None:
    text, encoding = decode_text(head_bytes(data, doc))
    if "\x00" in text:
        text = text.replace("\x00", "")
        doc.meta["nul_removed"] = True
    doc.meta["encoding"] = encoding
    if "\ufffd" in text and text.count("\ufffd") > max(16, len(text) // 100):
        doc.errors.append(E.encoding_unknown("many replacement characters"))
    add_lines(doc, text, "body")


def add_lines(doc: Document, text: str, layer: str, **locator) -> None:
    for lineno, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if line.strip():
            doc.add(layer, line, line=lineno + 1, paragraph=lineno, **locator)
