"""Where a finding is, in words and on the text: the one `location_zh` and the one highlighter,
shared by the report writers (text, html) and the reviewer pages (service/web).

- `location_zh(locator, layer)`: "附件 a.docx，第2页，第3段" from a segment's locator. The pages
  group by layer and call it as is; the text and HTML reports put the layer first (`with_layer`).
- `pieces(text, findings)`: the segment text cut into elementary intervals at every finding's start
  and end. Overlapping findings split the text (never dropped): each piece knows every finding
  that covers it, and the findings that start there.
- `highlight_html(text, findings, mark=..., anchor=...)`: every piece escaped first, then the
  covered ones wrapped (XSS-safe by construction). Class names come from the taxonomy (family
  keys), never from document data.

Findings may be `model.Finding` objects or their dicts (what the service stores); offsets are code
points into the segment's text, exactly as the scanner reports them, and invalid spans are skipped.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..taxonomy import SEVERITY_RANK, TAXONOMY, Taxonomy, layer_zh

_REVISION_KIND_ZH = {"deleted": "删除", "inserted": "插入", "moved_from": "移动（原位置）", "moved_to": "移动（新位置）"}


def _int(x: Any) -> int:
    try:
        return int(x)
    except (TypeError, ValueError):
        return 0


def location_zh(loc: Any, layer: str = "", *, with_layer: bool = False) -> str:
    """A locator in words. Without `with_layer` the layer's name appears only when nothing else
    locates the text (the pages show the layer as a heading)."""
    loc = loc if isinstance(loc, dict) else {}
    parts: list[str] = [layer_zh(layer)] if with_layer and layer else []
    if "member" in loc and loc.get("member") != loc.get("image"):
        parts.append(f"附件 {loc['member']}")
    if "page" in loc:
        parts.append(f"第{_int(loc['page'])}页")
    if "slide" in loc:
        parts.append(f"第{_int(loc['slide'])}张幻灯片")
    if "sheet" in loc:
        parts.append(f"工作表 {loc['sheet']}")
    if "cell" in loc:
        parts.append(f"单元格 {loc['cell']}")
    if "table" in loc:
        parts.append(f"表{_int(loc['table']) + 1} 第{_int(loc.get('row', 0)) + 1}行第{_int(loc.get('col', 0)) + 1}列")
    elif "line" in loc:
        parts.append(f"第{_int(loc['line'])}行")
    elif "paragraph" in loc:
        parts.append(f"第{_int(loc['paragraph']) + 1}段")
    if "field" in loc:
        parts.append(f"属性 {loc['field']}")
    if layer == "revision" and loc.get("kind"):
        parts.append(_REVISION_KIND_ZH.get(str(loc["kind"]), str(loc["kind"])))
    if loc.get("author") and layer in ("revision", "comment"):
        parts.append(f"作者 {loc['author']}")
    if layer == "ocr":
        if loc.get("image"):
            parts.append(f"图片 {str(loc['image']).rsplit('/', 1)[-1]}")
        conf = loc.get("confidence")
        parts.append("图片文字识别" + (f"（置信度 {conf:.0%}）" if isinstance(conf, (int, float)) else ""))
    return "，".join(str(x) for x in parts) or layer_zh(layer)


# -- spans ------------------------------------------------------------------------------------------

def _get(f: Any, key: str, default: Any = None) -> Any:
    return f.get(key, default) if isinstance(f, dict) else getattr(f, key, default)


def valid_span(f: Any, n: int) -> bool:
    """0 <= start < end <= n, both ints (a stored finding may carry anything)."""
    s, e = _get(f, "start"), _get(f, "end")
    return isinstance(s, int) and isinstance(e, int) and not isinstance(s, bool) and 0 <= s < e <= n


@dataclass(frozen=True)
class Piece:
    start: int
    end: int
    cover: tuple = ()      # findings covering [start, end), in input order
    starts: tuple = ()     # findings starting at `start`, longest first


def pieces(text: str, findings: Iterable[Any]) -> list[Piece]:
    spans = [f for f in findings if valid_span(f, len(text))]
    if not spans:
        return [Piece(0, len(text))] if text else []
    points = sorted({0, len(text)} | {_get(f, "start") for f in spans} | {_get(f, "end") for f in spans})
    starts: dict[int, list] = {}
    for f in sorted(spans, key=lambda f: (_get(f, "start"), -_get(f, "end"))):
        starts.setdefault(_get(f, "start"), []).append(f)
    out = []
    for a, b in zip(points, points[1:]):
        cover = tuple(f for f in spans if _get(f, "start") <= a and _get(f, "end") >= b)
        out.append(Piece(a, b, cover, tuple(starts.get(a, ()))))
    return out


def top_finding(cover: Sequence[Any], taxonomy: Taxonomy | None = None) -> Any:
    """The finding that colours a piece: the most severe, then the family listed first."""
    order = {name: i for i, name in enumerate((taxonomy or TAXONOMY).family_names)}
    return max(cover, key=lambda f: (SEVERITY_RANK.get(_get(f, "severity"), 0),
                                     -order.get((taxonomy or TAXONOMY).family_key(_get(f, "category", "")), 99)))


def highlight_html(text: str, findings: Iterable[Any], *, mark: Callable[[Piece, str], str] | None = None,
                   anchor: Callable[[Any], str] | None = None, taxonomy: Taxonomy | None = None) -> str:
    """HTML for one segment: escaped text, covered pieces wrapped by `mark(piece, escaped_text)`
    (default: <mark class="c-<family>[ multi]" title="<labels>">), `anchor(finding)` emitted where
    each finding starts."""
    tax = taxonomy or TAXONOMY

    def default_mark(p: Piece, piece: str) -> str:
        top = top_finding(p.cover, tax)
        multi = " multi" if len(p.cover) > 1 else ""
        title = "；".join(dict.fromkeys(f"{tax.category_zh(_get(f, 'category', ''))}：{_get(f, 'explanation', '')}"
                                        for f in p.cover))
        return (f'<mark class="c-{tax.family_key(_get(top, "category", ""))}{multi}" '
                f'title="{html.escape(title)}">{piece}</mark>')

    mark = mark or default_mark
    out: list[str] = []
    for p in pieces(text, findings):
        if anchor is not None:
            out.extend(anchor(f) for f in p.starts)
        piece = html.escape(text[p.start:p.end])
        out.append(mark(p, piece) if p.cover else piece)
    return "".join(out)


def snippet(text: str, start: int, end: int, context: int = 18) -> tuple[str, str, str]:
    """(before, match, after) with `context` characters each side and … where the text goes on."""
    a, b = max(0, start - context), min(len(text), end + context)
    return (("…" if a else "") + text[a:start], text[start:end], text[end:b] + ("…" if b < len(text) else ""))
