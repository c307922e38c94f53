"""Title and links of an HTML page (the standard library's tolerant parser; the page's text is
scanned by the scanner's own HTML reader, in a sandbox, not here)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# element -> attributes that name another resource worth inspecting
LINK_ATTRS = {"a": ("href",), "area": ("href",), "img": ("src",), "iframe": ("src",), "frame": ("src",),
              "embed": ("src",), "object": ("data",), "source": ("src",)}
MAX_LINKS = 5000


@dataclass
class Page:
    title: str = ""
    base: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)    # (url as written, link text)
    nofollow: bool = False


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._in_title = False
        self._title: list[str] = []
        self._open: list[int] = []          # indexes of links whose text is being collected
        self._text: dict[int, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag == "base" and a.get("href") and self.page.base is None:
            self.page.base = a["href"]
        elif tag == "meta" and a.get("name", "").lower() == "robots" and "nofollow" in a.get("content", "").lower():
            self.page.nofollow = True
        for attr in LINK_ATTRS.get(tag, ()):
            if a.get(attr) and len(self.page.links) < MAX_LINKS:
                self.page.links.append((a[attr], a.get("alt", "") or a.get("title", "")))
                if tag == "a":
                    self._open.append(len(self.page.links) - 1)
                    self._text[len(self.page.links) - 1] = []

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "a" and self._open:
            i = self._open.pop()
            text = "".join(self._text.pop(i, [])).strip()
            if text:
                self.page.links[i] = (self.page.links[i][0], text[:200])

    def handle_data(self, data):
        if self._in_title and len(self._title) < 100:
            self._title.append(data)
        for i in self._open:
            if len(self._text[i]) < 50:
                self._text[i].append(data)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)


def decode(body: bytes, content_type_charset: str | None = None) -> str:
    """The page's text: the header's charset, else a <meta charset>, else UTF-8, else detected.
    GB2312/GBK pages are read as GB18030 (their superset)."""
    m = _META_CHARSET.search(body[:4096])
    meta = m.group(1).decode("ascii").lower() if m else None
    for enc in (content_type_charset, meta, "utf-8"):
        if enc in ("gb2312", "gbk", "x-gbk"):
            enc = "gb18030"
        if enc:
            try:
                return body.decode(enc)
            except (LookupError, UnicodeDecodeError):
                pass
    from charset_normalizer import from_bytes
    best = from_bytes(body[:200_000]).best()
    return str(best) if best is not None else body.decode("utf-8", "replace")


def parse(body: bytes, charset: str | None = None) -> Page:
    p = _Parser()
    try:
        p.feed(decode(body, charset))
        p.close()
    except Exception:        # a tolerant parser; what it got so far is kept
        pass
    p.page.title = " ".join("".join(p._title).split())[:200]
    return p.page
