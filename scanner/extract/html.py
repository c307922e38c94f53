"""HTML: visible text by block; comments, script/style, hidden elements and meta as their own layers.

Two paths, both linear in the input:
- lxml (no network, no entities) when the document nests at most MAX_TREE_DEPTH levels: blocks,
  hidden elements (display:none, visibility:hidden, opacity:0, font-size:0, hidden attribute,
  hidden inputs, classes/ids hidden by a <style> block), <title> and <meta> as metadata.
- a flat tokenizer for deeper documents (lxml silently drops content below depth 256; html.parser
  and html5lib are super-linear on crafted input): every text node, comment and script is kept,
  without the hidden/visible distinction (meta["html_depth_limited"] = True).
"""
from __future__ import annotations

import html as _html
import re

from ..model import Document
from .txt import decode_text, head_bytes

MAX_TREE_DEPTH = 200
_BLOCK = {"p", "div", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "br", "section",
          "article", "header", "footer", "pre", "blockquote", "dt", "dd", "caption", "option", "table",
          "ul", "ol", "nav", "aside", "main", "figure", "figcaption", "hr", "form", "fieldset", "legend"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
         "track", "wbr", "keygen", "command"}
_RAW = {"script", "style", "noscript", "template", "textarea", "title", "xmp"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])|"
                           r"opacity\s*:\s*0(?![.\d])", re.I)
_TAGNAME = re.compile(r"/?\s*([a-zA-Z][a-zA-Z0-9:_-]{0,40})")


def _max_depth(text: str, limit: int) -> int:
    """Approximate element nesting depth with a linear scan (stops once above `limit`)."""
    depth = best = 0
    i, n = 0, len(text)
    low = None
    while True:
        j = text.find("<", i)
        if j < 0 or j + 1 >= n:
            return best
        if text.startswith("<!--", j):
            k = text.find("-->", j + 4)
            if k < 0:
                return best
            i = k + 3
            continue
        k = text.find(">", j + 1)
        if k < 0:
            return best
        m = _TAGNAME.match(text, j + 1, min(k, j + 48))
        if m:
            name = m.group(1).lower()
            closing = text[j + 1:j + 2] == "/" or text[j + 1:m.start(1)].strip() == "/"
            if closing:
                depth = max(0, depth - 1)
            elif name not in _VOID and text[k - 1] != "/":
                if name in _RAW:
                    low = low if low is not None else text.lower()
                    end = low.find("</" + name, k)
                    if end < 0:
                        return best
                    k = end + 1
                    i = k
                    continue
                depth += 1
                if depth > best:
                    best = depth
                    if best > limit:
                        return best
        i = k + 1


def extract_flat(text: str, doc: Document) -> None:
    """Linear tokenizer: text, comments and raw-text elements; nothing is dropped."""
    doc.meta["html_depth_limited"] = True
    buf: list[str] = []
    counter = {"p": 0}
    low = text.lower()

    def flush():
        s = _html.unescape("".join(buf)).strip()
        buf.clear()
        if s:
            doc.add("body", s, paragraph=counter["p"])
            counter["p"] += 1

    i, n = 0, len(text)
    while i < n:
        j = text.find("<", i)
        if j < 0:
            buf.append(text[i:])
            break
        buf.append(text[i:j])
        if text.startswith("<!--", j):
            k = text.find("-->", j + 4)
            body = text[j + 4:k if k >= 0 else n].strip()
            if body:
                doc.add("comment", body[:100_000], kind="html-comment")
            i = k + 3 if k >= 0 else n
            continue
        k = text.find(">", j + 1)
        if k < 0:
            buf.append(text[j:])
            break
        m = _TAGNAME.match(text, j + 1, min(k, j + 48))
        name = m.group(1).lower() if m else ""
        closing = text[j + 1:j + 2] == "/"
        if name in _RAW and not closing:
            end = low.find("</" + name, k)
            content = text[k + 1:end if end >= 0 else n]
            if content.strip():
                if name == "title":
                    doc.add("metadata", _html.unescape(content.strip())[:4000], field="title")
                elif name == "textarea":
                    buf.append(content)
                else:
                    doc.add("script", content.strip()[:1_000_000], element=name)
            if end < 0:
                i = n
                continue
            k2 = text.find(">", end)
            i = (k2 + 1) if k2 >= 0 else n
            continue
        if name in _BLOCK:
            flush()
        i = k + 1
    flush()


def extract_html(data: bytes, doc: Document) -> None:
    text, encoding = decode_text(head_bytes(data, doc))
    doc.meta["encoding"] = encoding
    text = text.replace("\x00", "")
    text = re.sub(r"^\s*<\?xml[^>]{0,200}\?>", "", text)
    if _max_depth(text, MAX_TREE_DEPTH) > MAX_TREE_DEPTH:
        extract_flat(text, doc)
        return
    _extract_tree(text, doc)


_CSS_RULE = re.compile(r"([^{}]{1,2000})\{([^{}]{0,4000})\}")
_SIMPLE_SEL = re.compile(r"^\s*(?:[a-zA-Z0-9]*)([.#])([A-Za-z_][\w-]{0,80})\s*$")


def hidden_selectors(css: str) -> tuple[set[str], set[str]]:
    """Classes and ids that a <style> block hides (simple `.cls` / `#id` / `tag.cls` selectors)."""
    classes, ids = set(), set()
    for sel, body in _CSS_RULE.findall(css[:1_000_000]):
        if not _HIDDEN_STYLE.search(body):
            continue
        for part in sel.split(","):
            m = _SIMPLE_SEL.match(part)
            if m:
                (classes if m.group(1) == "." else ids).add(m.group(2))
    return classes, ids


def _extract_tree(text: str, doc: Document) -> None:
    import lxml.etree as ET
    import lxml.html

    parser = lxml.html.HTMLParser(remove_comments=False, no_network=True, huge_tree=False)
    try:
        root = lxml.html.document_fromstring(text or "<html></html>", parser=parser)
    except (ET.ParserError, ValueError):
        extract_flat(text, doc)
        return
    buf: list[str] = []
    counter = {"p": 0}
    hidden_classes: set[str] = set()
    hidden_ids: set[str] = set()
    for st in root.iter("style"):
        c, i = hidden_selectors(st.text or "")
        hidden_classes |= c
        hidden_ids |= i

    def css_hidden(el) -> bool:
        if not hidden_classes and not hidden_ids:
            return False
        return bool(set((el.get("class") or "").split()) & hidden_classes) or (el.get("id") or "") in hidden_ids

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
            if el.tail and not hidden:
                buf.append(el.tail)
            return
        tag = tag.lower()
        if tag in ("script", "style", "noscript", "template"):
            if (el.text or "").strip():
                doc.add("script", el.text.strip(), element=tag)
            if el.tail and not hidden:
                buf.append(el.tail)
            return
        if tag == "title":
            t = (el.text_content() or "").strip()
            if t:
                doc.add("metadata", t[:4000], field="title")
            if el.tail and not hidden:
                buf.append(el.tail)
            return
        if tag == "meta":
            content = el.get("content")
            name = el.get("name") or el.get("property") or el.get("http-equiv")
            if content and name:
                doc.add("metadata", content, field=name.lower() if name.lower() in ("author", "keywords", "description")
                        else name, element="meta")
            return
        # aria-hidden only hides from screen readers: sighted readers see it, so it is not hidden here
        is_hidden = hidden or el.get("hidden") is not None \
            or bool(_HIDDEN_STYLE.search(el.get("style") or "")) or (tag == "input" and el.get("type") == "hidden") \
            or css_hidden(el)
        if is_hidden and not hidden:
            flush()
            inner = el.text_content().strip() if tag != "input" else (el.get("value") or "")
            if inner:
                doc.add("hidden", inner, element=tag, kind="html_hidden")
            if el.tail:
                buf.append(el.tail)
            return
        if tag in _BLOCK:
            flush()
        if tag in ("img", "area") and (el.get("alt") or "").strip():
            buf.append(" " + el.get("alt").strip() + " ")
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
