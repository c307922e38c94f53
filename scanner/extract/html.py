"""HTML: visible text by block; comments, script/style and hidden elements kept as hidden layers."""
from __future__ import annotations

import re

from ..model import Document
from .txt import decode_text

_BLOCK = {"p", "div", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "br", "section",
          "article", "header", "footer", "title", "pre", "blockquote", "dt", "dd", "caption", "option"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])", re.I)


def extract_html(data: bytes, doc: Document) -> None:
    import lxml.etree as ET
    import lxml.html

    text, encoding = decode_text(data)
    doc.meta["encoding"] = encoding
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    parser = lxml.html.HTMLParser(remove_comments=False, no_network=True, huge_tree=False)
    root = lxml.html.document_fromstring(text or "<html></html>", parser=parser)
    buf: list[str] = []
    counter = {"p": 0}

    def flush(layer="body"):
        s = "".join(buf).strip()
        buf.clear()
        if s:
            doc.add(layer, s, paragraph=counter["p"])
            counter["p"] += 1

    def walk(el, hidden: bool):
        tag = el.tag if isinstance(el.tag, str) else None
        if el.tag is ET.Comment:
            c = (el.text or "").strip()
            if c:
                doc.add("comment", c, kind="html-comment")
            if el.tail and not hidden:
                buf.append(el.tail)
            return
        if tag is None:  # processing instruction etc.
            return
        tag = tag.lower()
        if tag in ("script", "style", "noscript", "template"):
            if (el.text or "").strip():
                doc.add("script", el.text.strip(), element=tag)
            if el.tail and not hidden:
                buf.append(el.tail)
            return
        if tag == "meta":
            content = el.get("content")
            name = el.get("name") or el.get("property") or el.get("http-equiv")
            if content and name:
                doc.add("metadata", content, field=name)
            return
        is_hidden = hidden or el.get("hidden") is not None or el.get("aria-hidden") == "true" \
            or bool(_HIDDEN_STYLE.search(el.get("style") or "")) or (tag == "input" and el.get("type") == "hidden")
        if is_hidden and not hidden:
            flush()
            inner = el.text_content().strip() if tag != "input" else (el.get("value") or "")
            if inner:
                doc.add("hidden", inner, element=tag)
            if el.tail:
                buf.append(el.tail)
            return
        if tag in _BLOCK:
            flush()
        if el.text:
            buf.append(el.text)
        for child in el:
            walk(child, is_hidden)
        if tag in _BLOCK:
            flush()
        if el.tail:
            buf.append(el.tail)

    walk(root, False)
    flush()
