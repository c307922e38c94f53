"""RTF without LibreOffice: a linear tokenizer with an explicit group stack (no recursion).

Layers: visible text -> body (one segment per paragraph); \\v hidden text -> hidden (kind vanish);
\\deleted / \\revised runs -> revision (kind deleted / inserted); annotations (\\*\\annotation with
\\*\\atnauthor) -> comment; \\info fields (author, operator, title, subject, doccomm, company,
manager, keywords) -> metadata. Bytes (\\'hh) are decoded with the document's code page
(\\ansicpg, or GBK when a font declares \\fcharset134 and no code page is given).
"""
from __future__ import annotations

import re

from ..model import Document
from . import errors as E

MAX_GROUP_DEPTH = 1000
_TOKEN = re.compile(rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([^\\{}\r\n]+)|[\r\n]+",
                    re.S)
# destinations whose text is not document text
_SKIP = {b"fonttbl", b"colortbl", b"stylesheet", b"listtable", b"listoverridetable", b"pict", b"objdata",
         b"themedata", b"colorschememapping", b"datastore", b"xmlnstbl", b"latentstyles", b"rsidtbl",
         b"generator", b"filetbl", b"revtbl", b"pgdsctbl", b"bkmkstart", b"bkmkend", b"fldinst", b"mmathPr",
         b"wgrffmtfilter", b"pnseclvl", b"listtext", b"panose", b"falt", b"fname", b"nonshppict", b"blipuid",
         b"annotation_author_skip", b"atnid", b"atnicn", b"atndate", b"atnref", b"protusertbl", b"passwordhash",
         b"docvar", b"userprops", b"template", b"header_skip"}
_INFO = {b"author": "author", b"operator": "lastModifiedBy", b"title": "title", b"subject": "subject",
         b"doccomm": "comments", b"company": "company", b"manager": "manager", b"keywords": "keywords",
         b"category": "category"}
_HEADERS = {b"header": "header", b"headerl": "header", b"headerr": "header", b"headerf": "header",
            b"footer": "footer", b"footerl": "footer", b"footerr": "footer", b"footerf": "footer",
            b"footnote": "note"}


class _State:
    __slots__ = ("dest", "hidden", "deleted", "inserted", "uc", "skip", "charset")

    def __init__(self):
        self.dest = "body"          # body | header | footer | note | comment | author | info:<field> | skip
        self.hidden = self.deleted = self.inserted = False
        self.uc = 1
        self.skip = 0               # fallback characters still to skip after a \\uN
        self.charset = None

    def copy(self):
        s = _State()
        s.dest, s.hidden, s.deleted, s.inserted, s.uc, s.skip, s.charset = \
            self.dest, self.hidden, self.deleted, self.inserted, self.uc, 0, self.charset
        return s


def extract_rtf(data: bytes, doc: Document) -> None:
    if not data.lstrip().startswith(b"{\\rtf"):
        raise E.ExtractionFailed(E.corrupt("not RTF"))
    m = re.search(rb"\\ansicpg(\d+)", data[:4096])
    codepage = f"cp{m.group(1).decode()}" if m else ("gbk" if b"\\fcharset134" in data[:65536] else "cp1252")
    if codepage in ("cp936", "cp20936"):
        codepage = "gbk"
    try:
        "".encode(codepage)
    except LookupError:
        codepage = "cp1252"

    out: dict[tuple, list[str]] = {}       # (layer, kind, extra) -> current run of text
    para = {"n": 0}
    comment_author = {"name": ""}
    pending_bytes = bytearray()
    st = _State()
    stack: list[_State] = []
    expect_dest = False                    # just after "{\\*"

    def layer_of(s: _State) -> tuple[str, str] | None:
        if s.dest == "skip" or s.dest.startswith("info:") or s.dest == "author":
            return None
        if s.dest == "comment":
            return ("comment", "comment")
        if s.deleted:
            return ("revision", "deleted")
        if s.hidden:
            return ("hidden", "vanish")
        if s.inserted:
            return ("revision", "inserted")
        return (s.dest, "")

    def emit(text: str) -> None:
        if not text:
            return
        if st.dest.startswith("info:"):
            out.setdefault(("metadata", st.dest[5:], ""), []).append(text)
            return
        if st.dest == "author":
            comment_author["name"] += text
            return
        key = layer_of(st)
        if key is None:
            return
        out.setdefault((key[0], key[1], para["n"]), []).append(text)
        if key == ("revision", "inserted"):
            # the as-published view holds insertions too (as for docx)
            out.setdefault((st.dest, "", para["n"]), []).append(text)

    def flush_bytes() -> None:
        if pending_bytes:
            emit(bytes(pending_bytes).decode(codepage, errors="replace"))
            pending_bytes.clear()

    def end_paragraph() -> None:
        flush_bytes()
        if st.dest in ("body", "header", "footer", "note") or st.deleted or st.hidden or st.inserted:
            _flush(out, doc, para["n"], comment_author)
            para["n"] += 1

    pos, end = 0, len(data)
    while pos < end:
        m = _TOKEN.match(data, pos)
        if m is None:
            pos += 1
            continue
        pos = m.end()
        word, arg, hexbyte, sym, brace, text = m.groups()
        if hexbyte is not None:
            if st.skip:
                st.skip -= 1
                continue
            pending_bytes.append(int(hexbyte, 16))
            continue
        if text is not None:
            if st.skip:
                drop = min(st.skip, len(text))
                st.skip -= drop
                text = text[drop:]
            if text:
                flush_bytes()
                emit(text.decode(codepage, errors="replace"))
            continue
        if brace is not None:
            flush_bytes()
            if brace == b"{":
                if len(stack) >= MAX_GROUP_DEPTH:
                    raise E.ExtractionFailed(E.xml_too_deep("RTF groups nested too deep"))
                stack.append(st)
                st = st.copy()
            else:
                if st.dest == "comment":
                    _flush(out, doc, para["n"], comment_author, only_comment=True)
                st = stack.pop() if stack else st
            expect_dest = False
            continue
        if sym is not None:
            if sym == b"*":
                expect_dest = True
                continue
            flush_bytes()
            emit({b"~": "\u00a0", b"_": "-", b"-": "", b"\\": "\\", b"{": "{", b"}": "}", b"\n": "\n",
                  b"\r": "\n", b"\t": "\t"}.get(sym, ""))
            continue
        if m.group(0)[:1] in (b"\r", b"\n"):
            continue
        # control word
        n = int(arg) if arg is not None else None
        if word == b"u" and n is not None:
            flush_bytes()
            emit(chr(n + 65536 if n < 0 else n) if 0 <= (n + 65536 if n < 0 else n) < 0x110000 else "")
            st.skip = st.uc
            continue
        if word == b"bin" and n:
            pos += max(0, n)          # raw binary data: never read as text
            continue
        if word == b"uc" and n is not None:
            st.uc = max(0, min(n, 10))
            continue
        was_dest, expect_dest = expect_dest, False
        if word in (b"par", b"sect", b"page", b"row"):
            end_paragraph()
        elif word in (b"line", b"cell", b"tab"):
            flush_bytes()
            emit("\n" if word == b"line" else "\t")
        elif word == b"v":
            flush_bytes()
            st.hidden = n != 0
        elif word == b"deleted":
            flush_bytes()
            st.deleted = n != 0
        elif word == b"revised":
            flush_bytes()
            st.inserted = n != 0
        elif word == b"plain":
            flush_bytes()
            st.hidden = st.deleted = st.inserted = False
        elif word == b"annotation":
            st.dest = "comment"
        elif word == b"atnauthor":
            st.dest = "author"
            comment_author["name"] = ""
        elif word in _INFO and stack and stack[-1].dest == "info":
            st.dest = "info:" + _INFO[word]
        elif word == b"info":
            st.dest = "info"
        elif word in _HEADERS:
            st.dest = _HEADERS[word]
        elif word in _SKIP or (was_dest and word not in (b"annotation", b"atnauthor")):
            st.dest = "skip"
    flush_bytes()
    _flush(out, doc, para["n"], comment_author)
    for (layer, field, _x), parts in list(out.items()):
        if layer == "metadata":
            val = " ".join("".join(parts).split())
            if val:
                doc.add("metadata", val[:4000], field=field, part="info")


def _flush(out: dict, doc: Document, n: int, comment_author: dict, only_comment: bool = False) -> None:
    """Write the finished paragraph's runs (body first, then its hidden layers) as segments."""
    keys = [k for k in out if k[0] != "metadata" and k[2] == n and (not only_comment or k[0] == "comment")]
    order = {"body": 0, "header": 0, "footer": 0, "note": 0, "revision": 1, "hidden": 2, "comment": 3}
    for key in sorted(keys, key=lambda k: order.get(k[0], 9)):
        layer, kind, _ = key
        text = "".join(out.pop(key)).strip("\n")
        if not text.strip():
            continue
        loc = {"paragraph": n}
        if kind:
            loc["kind"] = kind
        if layer == "comment" and comment_author["name"].strip():
            loc["author"] = comment_author["name"].strip()[:200]
        doc.add(layer, text, **loc)
