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


def _plausible(text: str) -> float:
    """Share of characters that ordinary Chinese/English text is made of (CJK ideographs and
    punctuation, ASCII printable, whitespace, full-width forms)."""
    if not text:
        return 0.0
    ok = sum(1 for ch in text if ch in "\t\n\r" or " " <= ch <= "~" or "\u4e00" <= ch <= "\u9fff"
             or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef" or "\u2000" <= ch <= "\u206f"
             or "\u2460" <= ch <= "\u27bf" or "\u3400" <= ch <= "\u4dbf" or "\u00a0" <= ch <= "\u00ff")
    return ok / len(text)


WIDE_PLAUSIBLE = 0.97


def bomless_wide(data: bytes) -> str | None:
    """UTF-32 or UTF-16 (LE/BE) without a byte order mark: the decoding whose text is plausible
    (_plausible >= 0.97 on the first 64 KiB, strictly decodable) and clearly better than GB18030's."""
    sample = data[: 1 << 16]
    candidates = []
    for enc, unit in (("utf-32-le", 4), ("utf-32-be", 4), ("utf-16-le", 2), ("utf-16-be", 2)):
        cut = sample[: len(sample) - len(sample) % unit]
        if len(cut) < 2 * unit:
            continue
        try:
            text = cut.decode(enc)
        except UnicodeDecodeError:
            if len(sample) == len(data):
                continue
            try:                          # the sample may end inside a surrogate pair
                text = cut[:-unit].decode(enc)
            except UnicodeDecodeError:
                continue
        text = text.replace("\x00", "")
        score = _plausible(text)
        if score >= WIDE_PLAUSIBLE and len(text) >= 2:
            candidates.append((score, unit, enc))      # UTF-32 read as UTF-16 looks the same once NULs go
    if not candidates:
        return None
    score, _u, enc = max(candidates)
    try:
        narrow = _plausible(sample.decode("gb18030"))
    except UnicodeDecodeError:
        narrow = 0.0
    return enc if score > narrow + 0.02 or b"\x00" in sample else None


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). Raises ExtractionFailed when no encoding is plausible."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace"), enc + "-bom"
    head = data[: 1 << 16]
    if head.count(0) * 10 >= len(head) or not _strict_utf8(head):
        # NUL bytes (ASCII in UTF-16/32) or not UTF-8: a BOM-less UTF-16/UTF-32 text?
        wide = bomless_wide(data)
        if wide is not None:
            unit = 4 if "32" in wide else 2
            return data[: len(data) - len(data) % unit].decode(wide, errors="replace"), wide
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


def _strict_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4        # cut inside a character at the end of the sample


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
