"""The document view of a submission page: segments grouped by layer, highlighted, and the list
of findings in document order. Cutting the text at the findings, escaping it and locating it in
words is scanner.report.locate's (the same as the CLI's HTML report); this module only adds the
page's marks (ids that link a highlight to its list entry) and the layout.

Class names and ids come only from the taxonomy's family keys and integers, never from document data."""
from __future__ import annotations

import html

from markupsafe import Markup

from scanner.report.locate import Piece, highlight_html, location_zh, snippet, top_finding, valid_span
from scanner.taxonomy import LAYER_ORDER, LAYER_ZH, TAXONOMY, Taxonomy

from .common import layer_key

MAX_SEGMENTS = 4000          # beyond this many segments or characters, only segments with findings
MAX_CHARS = 1_500_000        # (plus neighbours) are shown


def highlight(text: str, findings: list[dict], taxonomy: Taxonomy | None = None) -> Markup:
    """-> HTML for one segment. findings: dicts with id, start, end, category, severity. Each
    elementary interval is one <mark> carrying the ids of every finding that covers it; an
    anchor marks where each finding starts (the list links to it)."""
    tax = taxonomy or TAXONOMY

    def anchor(f: dict) -> str:
        fid = int(f["id"])
        return (f'<span class="anc t-{tax.family_key(f["category"])}" id="hl-{fid}" '
                f'data-fid="{fid}" aria-hidden="true"></span>')

    def mark(p: Piece, piece: str) -> str:
        top = top_finding(p.cover, tax)
        fids = " ".join(str(int(f["id"])) for f in p.cover)
        multi = " multi" if len(p.cover) > 1 else ""
        label = "、".join(dict.fromkeys(tax.category_zh(f["category"]) for f in p.cover))   # fixed labels only
        return (f'<mark class="hl c-{tax.family_key(top["category"])}{multi}" data-fids="{fids}" '
                f'title="{html.escape(label)}">{piece}</mark>')
    return Markup(highlight_html(text, findings, mark=mark, anchor=anchor, taxonomy=tax))


def _int(x) -> int:
    try:
        return int(x)
    except (TypeError, ValueError):
        return 0


def document_view(report: dict, only_findings: bool = False, taxonomy: Taxonomy | None = None) -> dict:
    """Build the document view model from a report with segments and findings (with ids).

    -> {"layers": [{key, label, count, blocks: [{page_heading?, seg_id, loc, html, has}]}],
        "findings": [finding dicts in document order with n, loc, snippet],
        "unplaced": [...], "truncated": bool}"""
    tax = taxonomy or TAXONOMY
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
        g["cat"] = tax.family_key(f.get("category", ""))
        g["loc"] = location_zh((seg or {}).get("locator") or f.get("location") or {}, f.get("layer", ""))
        g["placed"] = bool(seg) and valid_span(f, len(seg["text"]))
        if g["placed"]:
            g["before"], g["match"], g["after"] = snippet(seg["text"], f["start"], f["end"], context=20)
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
        block = {"seg_id": int(s["id"]), "loc": location_zh(loc, s.get("layer", "")),
                 "html": highlight(s.get("text", ""), fs, tax), "has": bool(fs)}
        if page is not None and last_page.get(lk) != page:
            block["page_heading"] = f"第 {_int(page)} 页"
            last_page[lk] = page
        L["blocks"].append(block)
    order = {k: i for i, k in enumerate(LAYER_ORDER)}
    return {"layers": sorted(layers.values(), key=lambda L: order.get(L["key"], 99)),
            "findings": flist, "unplaced": unplaced, "truncated": truncated}
