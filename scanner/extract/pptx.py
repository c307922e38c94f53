"""PPTX: slide text in presentation order, speaker notes, hidden slides, comments, properties,
and the text of slide masters and layouts.

Text of a hidden slide (p:sld show="0") goes to the `hidden` layer (kind hidden_slide); notes to
`note`; comments (legacy p:cm and modern p188:cm) to `comment` with author when known.

Masters and layouts (`_template_text`): a shape that is not a placeholder shows on every slide that
uses the layout (a layout's shapes) or the layout's master (a master's shapes, unless the layout or
the slide sets showMasterSp="0"): its text goes to `body` with kind slide_layout / slide_master,
`slides` (the visible slides showing it) and `slide` (the first of them). On a layout or master no
visible slide shows, it goes to `hidden` (kind unused_layout / unused_master, `why`: unused,
hidden_slides (only hidden slides use it) or shapes_off (the slides using it set showMasterSp="0")). Text of a master's or layout's placeholders is prompt text ("单击此处编辑母版标题样
式"): a slide shows its own placeholders' text, never theirs; it goes to `hidden` with kind
placeholder_prompt (each distinct text once), scanned by the detectors but not a hidden-content
finding by itself. Notes and
handout masters' shapes go to `hidden` (kind notes_master / handout_master). `paragraph` indexes the
part's `text_paragraphs`, as on slides (the redaction edits the same paragraphs).
"""
from __future__ import annotations

from ..model import Document
from . import errors as E
from .ooxml_props import add_package_layers, part_rels, require_part
from .xmlsafe import local, parse_xml
from .zipsafe import open_zip, read_member

A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
R_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
MAX_SLIDES = 2000


def _shape_state(p, slide_size) -> str | None:
    """'hidden_shape' for a paragraph in a shape marked hidden="1" (selection pane), 'offslide' for
    a top-level shape placed entirely outside the slide, else None."""
    anc = p.getparent()
    top = None
    while anc is not None:
        name = local(anc.tag)
        if name in ("sp", "graphicFrame", "grpSp", "cxnSp", "pic"):
            for nv in anc:
                if local(nv.tag).startswith("nv"):
                    c = next((x for x in nv if local(x.tag) == "cNvPr"), None)
                    if c is not None and (c.get("hidden") or "0") in ("1", "true"):
                        return "hidden_shape"
            parent = anc.getparent()
            if parent is not None and local(parent.tag) == "spTree":
                top = anc
        anc = anc.getparent()
    if top is not None and slide_size:
        xfrm = next((x for x in top.iter(A + "xfrm")), None)
        off = xfrm.find(A + "off") if xfrm is not None else None
        ext = xfrm.find(A + "ext") if xfrm is not None else None
        if off is not None and ext is not None:
            try:
                x, y = int(off.get("x") or 0), int(off.get("y") or 0)
                cx, cy = int(ext.get("cx") or 0), int(ext.get("cy") or 0)
            except ValueError:
                return None
            w, h = slide_size
            if x >= w or y >= h or x + cx <= 0 or y + cy <= 0:
                return "offslide"
    return None


def paragraph_text(p) -> str:
    """A DrawingML paragraph's text as the segments hold it: its a:t texts, a:br as a line break
    (the redaction walks the same nodes: scanner.redact.pptx)."""
    return "".join((n.text or "") if local(n.tag) == "t" else "\n" for n in p.iter(A + "t", A + "br"))


def text_paragraphs(root) -> list:
    """The a:p elements of a part that hold text, in order: a segment's `paragraph` indexes these."""
    return [p for p in root.iter(A + "p") if paragraph_text(p).strip()]


def _paragraphs(root, with_state: bool = False, slide_size=None):
    for p in text_paragraphs(root):
        text = paragraph_text(p)
        yield (text, _shape_state(p, slide_size)) if with_state else text


def _slide_size(zf) -> tuple[int, int] | None:
    pres = parse_xml(read_member(zf, "ppt/presentation.xml"))
    sz = pres.find(P + "sldSz")
    try:
        return (int(sz.get("cx")), int(sz.get("cy"))) if sz is not None else None
    except (TypeError, ValueError):
        return None


def _slide_order(zf, names) -> list[str]:
    pres = parse_xml(read_member(zf, "ppt/presentation.xml"))
    rels = part_rels(zf, names, "ppt/presentation.xml")
    order = []
    for sid in pres.iter(P + "sldId"):
        target = rels.get(sid.get(R_NS + "id") or "")
        if target and target[0] in names:
            order.append(target[0])
    if not order:       # fall back to file names
        def num(n):
            d = "".join(ch for ch in n.rsplit("/", 1)[-1] if ch.isdigit())
            return int(d) if d else 0
        order = sorted((n for n in names if n.startswith("ppt/slides/slide") and n.endswith(".xml")), key=num)
    return order


MAX_TEMPLATE_PARTS = 500
MAX_SLIDES_LISTED = 50
TEMPLATE_DIRS = (("ppt/slideMasters/", "slide_master"), ("ppt/slideLayouts/", "slide_layout"),
                 ("ppt/notesMasters/", "notes_master"), ("ppt/handoutMasters/", "handout_master"))
TEMPLATE_PREFIXES = tuple(prefix for prefix, _kind in TEMPLATE_DIRS)


def _on(el, attr: str) -> bool:
    return (el.get(attr) or "1") not in ("0", "false")


def _placeholder(p) -> bool:
    """The paragraph belongs to a placeholder shape (p:nvSpPr/p:nvPr/p:ph)."""
    anc = p.getparent()
    while anc is not None:
        if anc.tag == P + "sp":
            nv = anc.find(P + "nvSpPr")
            nvpr = nv.find(P + "nvPr") if nv is not None else None
            return nvpr is not None and nvpr.find(P + "ph") is not None
        anc = anc.getparent()
    return False


def _template_text(zf, names, doc: Document, slides: list[tuple[int, str, bool, bool]], size) -> None:
    """Masters' and layouts' text (see the module docstring). slides: (number, part, hidden,
    showMasterSp) in presentation order."""
    shown: dict[str, list[int]] = {}       # layout/master part -> visible slides showing its shapes
    used: set[str] = set()                 # used by some slide, hidden ones too
    used_visible: set[str] = set()         # used by a visible slide (which may hide master shapes)
    roots: dict[str, object] = {}

    def root_of(part):
        if part not in roots:
            roots[part] = parse_xml(read_member(zf, part))
        return roots[part]

    for no, part, hidden, show_master in slides:
        layout = next((t for t, rtype in part_rels(zf, names, part).values()
                       if rtype == "slideLayout" and t in names), None)
        if layout is None:
            continue
        master = next((t for t, rtype in part_rels(zf, names, layout).values()
                       if rtype == "slideMaster" and t in names), None)
        used.add(layout)
        through = show_master and master is not None and _on(root_of(layout), "showMasterSp")
        if master is not None:
            used.add(master)
        if hidden:
            continue
        used_visible.update(x for x in (layout, master) if x is not None)
        if not show_master:
            continue            # the slide hides its layout's and master's shapes ("hide background graphics")
        shown.setdefault(layout, []).append(no)
        if through:
            shown.setdefault(master, []).append(no)
    parts = sorted((n, kind) for n in names for prefix, kind in TEMPLATE_DIRS
                   if n.startswith(prefix) and n.endswith(".xml") and "/" not in n[len(prefix):])
    if len(parts) > MAX_TEMPLATE_PARTS:
        doc.errors.append(E.truncated(f"more than {MAX_TEMPLATE_PARTS} masters and layouts"))
    prompts: set[str] = set()
    for part, kind in parts[:MAX_TEMPLATE_PARTS]:
        root = root_of(part)
        on_slides = shown.get(part, [])
        for i, p in enumerate(text_paragraphs(root)):
            text = paragraph_text(p)
            if _placeholder(p):
                key = " ".join(text.split())
                if key not in prompts:          # every layout repeats its master's prompts: read once
                    prompts.add(key)
                    doc.add("hidden", text, part=part, paragraph=i, kind="placeholder_prompt", template=kind)
                continue
            state = _shape_state(p, size)
            if kind in ("notes_master", "handout_master"):
                doc.add("hidden", text, part=part, paragraph=i, kind=kind)
            elif not on_slides:
                why = "shapes_off" if part in used_visible else "hidden_slides" if part in used else "unused"
                doc.add("hidden", text, part=part, paragraph=i, kind=f"unused_{kind[6:]}", why=why)
            elif state:
                doc.add("hidden", text, part=part, paragraph=i, kind=state, template=kind,
                        slide=on_slides[0], slides=on_slides[:MAX_SLIDES_LISTED])
            else:
                doc.add("body", text, part=part, paragraph=i, kind=kind, slide=on_slides[0],
                        slides=on_slides[:MAX_SLIDES_LISTED])


def extract_pptx(data: bytes, doc: Document) -> None:
    zf = open_zip(data)
    with zf:
        names = set(zf.namelist())
        require_part(names, "ppt/presentation.xml")
        authors = {}
        if "ppt/commentAuthors.xml" in names:
            for a in parse_xml(read_member(zf, "ppt/commentAuthors.xml")).iter(P + "cmAuthor"):
                authors[a.get("id")] = a.get("name") or ""
        order = _slide_order(zf, names)
        size = _slide_size(zf)
        slides = []
        for no, part in enumerate(order[:MAX_SLIDES], start=1):
            root = parse_xml(read_member(zf, part))
            hidden = (root.get("show") or "1") in ("0", "false")
            slides.append((no, part, hidden, _on(root, "showMasterSp")))
            for i, (text, state) in enumerate(_paragraphs(root, with_state=True, slide_size=size)):
                if hidden or state:
                    doc.add("hidden", text, slide=no, paragraph=i, part=part,
                            kind="hidden_slide" if hidden else state)
                else:
                    doc.add("body", text, slide=no, paragraph=i, part=part)
            for target, rtype in part_rels(zf, names, part).values():
                if target not in names:
                    continue
                if rtype == "notesSlide":
                    nroot = parse_xml(read_member(zf, target))
                    for i, text in enumerate(_paragraphs(nroot)):
                        doc.add("note", text, slide=no, paragraph=i, kind="speaker_notes", part=target)
                elif rtype in ("comments", "comment") or "omment" in rtype:
                    croot = parse_xml(read_member(zf, target))
                    for cm in croot.iter():
                        if local(cm.tag) != "cm":
                            continue
                        text = "\n".join(t for t in ("".join(x.itertext()) for x in cm.iter()
                                                     if local(x.tag) in ("text", "t")) if t.strip())
                        if text.strip():
                            doc.add("comment", text, slide=no, kind="comment", part=target,
                                    author=authors.get(cm.get("authorId"), "")[:200])
        if len(order) > MAX_SLIDES:
            doc.errors.append(E.truncated(f"more than {MAX_SLIDES} slides"))
        _template_text(zf, names, doc, slides, size)
        add_package_layers(zf, names, doc, "ppt/")
        # nothing read from the slides themselves (masters' and layouts' text aside): check they are blank
        if not any(s.layer != "metadata" and not str(s.locator.get("part", "")).startswith(TEMPLATE_PREFIXES)
                   for s in doc.segments):
            from .blank import pptx_blank
            how = pptx_blank(zf, names, order[:MAX_SLIDES])
            if how:
                doc.meta["textless"] = {"kind": "blank", "detail": how}
