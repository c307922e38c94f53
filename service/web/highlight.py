"""Server-side highlighting, XSS-safe by construction: every piece of draft text is escaped,
then the escaped pieces are wrapped in <mark>. Offsets are code points into the segment's text
(Python str indices), exactly as the scanner reports them. Overlapping findings split the text
into elementary intervals; each interval is one <mark> carrying every finding that covers it.

Class names and ids come only from fixed tables and integers, never from document data."""
from __future__ import annotations

from markupsafe import Markup, escape

from .common import CAT_ORDER, LAYER_ORDER, LAYER_ZH, cat_key, cat_label, layer_key

SEV_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
MAX_SEGMENTS = 4000          # beyond this many segments or characters, only segments with findings
MAX_CHARS = 1_500_000        # (plus neighbours) are shown


def _valid(f: dict, n: int) -> bool:
    s, e = f.get("start"), f.get("end")
    return isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= n


def highlight(text: str, findings: list[dict]) -> Markup:
    """-> HTML for one segment. findings: dicts with id, start, end, category, severity."""
    spans = [f for f in findings if _valid(f, len(text))]
    if not spans:
        return Markup(escape(text))
    points = sorted({0, len(text)} | {f["start"] for f in spans} | {f["end"] for f in spans})
    starts: dict[int, list[dict]] = {}
    for f in sorted(spans, key=lambda f: (f["start"], -f["end"])):
        starts.setdefault(f["start"], []).append(f)
    out: list[str] = []
    for a, b in zip(points, points[1:]):
        for f in starts.get(a, ()):
            out.append(f'<span class="anc t-{cat_key(f["category"])}" id="hl-{int(f["id"])}" '
                       f'data-fid="{int(f["id"])}" aria-hidden="true"></span>')
        piece = str(escape(text[a:b]))
        cover = [f for f in spans if f["start"] <= a and f["end"] >= b]
        if not cover:
            out.append(piece)
            continue
        top = max(cover, key=lambda f: (SEV_RANK.get(f.get("severity"), 0), -CAT_ORDER.index(cat_key(f["category"]))
                                        if cat_key(f["category"]) in CAT_ORDER else -99))
        fids = " ".join(str(int(f["id"])) for f in cover)
        multi = " multi" if len(cover) > 1 else ""
        label = "、".join(dict.fromkeys(cat_label(f["category"]) for f in cover))   # fixed labels only
        out.append(f'<mark class="hl c-{cat_key(top["category"])}{multi}" data-fids="{fids}" '
                   f'title="{escape(label)}">{piece}</mark>')
    return Markup("".join(out))


def locator_zh(loc: dict, layer: str) -> str:
    parts = []
    if not isinstance(loc, dict):
        loc = {}
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
        parts.append({"deleted": "删除", "inserted": "插入"}.get(str(loc["kind"]), str(loc["kind"])))
    if loc.get("author") and layer in ("revision", "comment"):
        parts.append(f"作者 {loc['author']}")
    if "member" in loc and loc.get("member") != loc.get("image"):
        parts.append(f"附件 {loc['member']}")
    if layer == "ocr":
        if loc.get("image"):
            parts.append(f"图片 {str(loc['image']).rsplit('/', 1)[-1]}")
        conf = loc.get("confidence")
        parts.append("图片文字识别" + (f"（置信度 {conf:.0%}）" if isinstance(conf, (int, float)) else ""))
    return "，".join(str(x) for x in parts) or LAYER_ZH.get(layer, layer)


def _int(x) -> int:
    try:
        return int(x)
    except (TypeError, ValueError):
        return 0


def document_view(report: dict, only_findings: bool = False) -> dict:
    """Build the document view model from a report with segments and findings (with ids).

    -> {"layers": [{key, label, count, blocks: [{page_heading?, seg_id, loc, html, has}]}],
        "findings": [finding dicts in document order with n, loc, snippet],
        "unplaced": [...], "truncated": bool}"""
    segs = report.get("segments") or []
    findings = report.get("findings") or []
    seg_by_id = {s["id"]: s for s in segs}
    seg_pos = {s["id"]: i for i, s in enumerate(segs)}
    by_seg: dict[int, list[dict]] = {}
    for f in findings:
        by_seg.setdefault(f.get("segment_id"), []).append(f)
    # the list follows what the page shows: layers in LAYER_ORDER, then segment order, then offset
    rank = {k: i for i, k in enumerate(LAYER_ORDER)}

    def where(f: dict) -> tuple:
        seg = seg_by_id.get(f.get("segment_id")) or {}
        return (rank.get(layer_key(seg.get("layer") or f.get("layer", "")), 99),
                seg_pos.get(f.get("segment_id"), 10**9), f.get("start", 0), f.get("end", 0))
    ordered = sorted(findings, key=where)
    flist, unplaced = [], []
    for n, f in enumerate(ordered, 1):
        seg = seg_by_id.get(f.get("segment_id"))
        g = dict(f)
        g["n"] = n
        g["cat"] = cat_key(f.get("category", ""))
        g["loc"] = locator_zh((seg or {}).get("locator") or f.get("location") or {}, f.get("layer", ""))
        g["placed"] = bool(seg) and _valid(f, len(seg["text"]))
        if g["placed"]:
            t = seg["text"]
            a, b = max(0, f["start"] - 20), min(len(t), f["end"] + 20)
            g["before"] = ("…" if a else "") + t[a:f["start"]]
            g["match"] = t[f["start"]:f["end"]]
            g["after"] = t[f["end"]:b] + ("…" if b < len(t) else "")
        else:
            unplaced.append(g)
        flist.append(g)

    truncated = len(segs) > MAX_SEGMENTS or sum(len(s.get("text", "")) for s in segs) > MAX_CHARS
    keep: set[int] | None = None
    if truncated or only_findings:
        keep = set()
        for i, s in enumerate(segs):
            if s["id"] in by_seg:
                keep.update(x["id"] for x in segs[max(0, i - 1): i + 2] if not only_findings or x["id"] == s["id"])
    layers: dict[str, dict] = {}
    last_page: dict[str, object] = {}
    for s in segs:
        if keep is not None and s["id"] not in keep:
            continue
        lk = layer_key(s.get("layer", ""))
        L = layers.setdefault(lk, {"key": lk, "label": LAYER_ZH.get(lk, "其他"), "count": 0, "blocks": []})
        fs = by_seg.get(s["id"], [])
        L["count"] += len(fs)
        loc = s.get("locator") or {}
        page = loc.get("page") if isinstance(loc, dict) else None
        block = {"seg_id": int(s["id"]), "loc": locator_zh(loc, s.get("layer", "")),
                 "html": highlight(s.get("text", ""), fs), "has": bool(fs)}
        if page is not None and last_page.get(lk) != page:
            block["page_heading"] = f"第 {_int(page)} 页"
            last_page[lk] = page
        L["blocks"].append(block)
    order = {k: i for i, k in enumerate(LAYER_ORDER)}
    return {"layers": sorted(layers.values(), key=lambda L: order.get(L["key"], 99)),
            "findings": flist, "unplaced": unplaced, "truncated": truncated}
