"""OFD pages drawn as vector paths, rendered to a bitmap with Pillow so OCR can read them.

An OFD page whose text is drawn as outlines (PathObjects, no TextObject: what some converters and
e-seal tools write) shows text that no text layer holds. This module draws what such a page draws —
PathObjects on the page, in its PageBlocks, in the CompositeGraphicUnits its CompositeObjects use,
and on its template pages — onto a white page at `dpi`, for scanner.extract.ocr.

Geometry (GB/T 33190-2016 §9): a PathObject's AbbreviatedData (S/M move, L line, Q quadratic and B
cubic Bézier, A elliptical arc as in SVG, C close) is in the object's own space; its CTM
(a b c d e f: x' = a·x + c·y + e, y' = b·x + d·y + f) maps that into the Boundary's box, whose
x y are page millimetres, y down. A CompositeObject applies its CTM and Boundary to its unit's
objects. Fill (default off) and Stroke (default on) with FillColor/StrokeColor (Value in RGB, grey
or CMYK; black when absent) and LineWidth (default 0.353 mm). Fills use the even-odd rule (the
non-zero rule gives the same result on glyph outlines, whose nested contours alternate in
direction). Clips, patterns, shadings and DrawParams are not applied: OCR needs the shapes, not
their exact paint.

What cannot be drawn faithfully raises RenderError (malformed AbbreviatedData, a CompositeObject
whose unit is missing, units nested too deep, more than MAX_OBJECTS objects): the caller records
the page as unread (fail closed). Text and pictures are not drawn (the text layer and OCR of the
pictures read those).
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .xmlsafe import local

DEFAULT_LINE_WIDTH = 0.353     # mm (GB/T 33190: 0.353 mm, 1/72 inch)
MAX_OBJECTS = 50_000           # path objects drawn per page
MAX_DEPTH = 8                  # CompositeObject / PageBlock nesting
MAX_PIXELS = 12_000_000
CURVE_STEPS = 12               # line segments per Bézier or arc quarter
MAX_LINE_PX = 200              # a stroke wider than this (a hostile CTM) is drawn this wide

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


class RenderError(Exception):
    """The page cannot be drawn faithfully: the caller fails closed."""


def _floats(text: str | None, n: int | None = None) -> list[float]:
    try:
        vals = [float(v) for v in (text or "").replace(",", " ").split()]
    except ValueError:
        raise RenderError("bad number") from None
    if n is not None and len(vals) != n:
        raise RenderError(f"expected {n} numbers")
    return vals


def _compose(outer: Matrix, inner: Matrix) -> Matrix:
    """inner first, then outer."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (A * a + C * b, B * a + D * b, A * c + C * d, B * c + D * d, A * e + C * f + E, B * e + D * f + F)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def object_matrix(el) -> Matrix:
    """A graphic object's own space -> its parent's space: CTM, then the Boundary's origin."""
    bx, by, _w, _h = (_floats(el.get("Boundary"), 4) if el.get("Boundary") else [0.0, 0.0, 0.0, 0.0])
    ctm = tuple(_floats(el.get("CTM"), 6)) if el.get("CTM") else IDENTITY
    return _compose((1.0, 0.0, 0.0, 1.0, bx, by), ctm)  # type: ignore[arg-type]


_TOKEN = re.compile(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_ARGS = {"S": 2, "M": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}


def parse_path(data: str) -> list[tuple[list[tuple[float, float]], bool]]:
    """AbbreviatedData -> subpaths as (points, closed), curves flattened, in the object's space."""
    if _TOKEN.sub("", data or "").strip(" \t\r\n,"):
        raise RenderError("unreadable path data")
    toks = _TOKEN.findall(data or "")
    subs: list[tuple[list[tuple[float, float]], bool]] = []
    cur: list[tuple[float, float]] = []
    pos = (0.0, 0.0)
    start = pos
    i = 0

    def flush(closed: bool) -> None:
        nonlocal cur
        if len(cur) >= 2:
            subs.append((cur, closed))
        cur = []

    while i < len(toks):
        op = toks[i]
        if op not in _ARGS:
            raise RenderError(f"unknown path operator {op[:8]!r}")
        n = _ARGS[op]
        try:
            args = [float(t) for t in toks[i + 1:i + 1 + n]]
        except ValueError:
            raise RenderError("path operator without its numbers") from None
        if len(args) != n:
            raise RenderError("path operator without its numbers")
        i += 1 + n
        if op in ("S", "M"):
            flush(False)
            pos = start = (args[0], args[1])
            cur = [pos]
            continue
        if not cur:
            cur = [pos]
        if op == "L":
            pos = (args[0], args[1])
            cur.append(pos)
        elif op == "Q":
            (x1, y1, x2, y2), (x0, y0) = args, pos
            for k in range(1, CURVE_STEPS + 1):
                t = k / CURVE_STEPS
                u = 1 - t
                cur.append((u * u * x0 + 2 * u * t * x1 + t * t * x2, u * u * y0 + 2 * u * t * y1 + t * t * y2))
            pos = (x2, y2)
        elif op == "B":
            (x1, y1, x2, y2, x3, y3), (x0, y0) = args, pos
            for k in range(1, CURVE_STEPS + 1):
                t = k / CURVE_STEPS
                u = 1 - t
                cur.append((u ** 3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t ** 3 * x3,
                            u ** 3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t ** 3 * y3))
            pos = (x3, y3)
        elif op == "A":
            rx, ry, angle, large, sweep, x, y = args
            cur.extend(_arc(pos, (x, y), rx, ry, angle, bool(large), bool(sweep)))
            pos = (x, y)
        elif op == "C":
            cur.append(start)
            flush(True)
            pos = start
    flush(False)
    return subs


def _arc(p0, p1, rx, ry, angle_deg, large, sweep) -> list[tuple[float, float]]:
    """An SVG elliptical arc from p0 to p1, flattened (endpoint to centre parametrisation)."""
    (x0, y0), (x1, y1) = p0, p1
    if (x0, y0) == (x1, y1):
        return []
    rx, ry = abs(rx), abs(ry)
    if rx == 0 or ry == 0:
        return [p1]
    phi = math.radians(angle_deg)
    cos, sin = math.cos(phi), math.sin(phi)
    dx, dy = (x0 - x1) / 2, (y0 - y1) / 2
    xp, yp = cos * dx + sin * dy, -sin * dx + cos * dy
    lam = (xp * xp) / (rx * rx) + (yp * yp) / (ry * ry)
    if lam > 1:
        s = math.sqrt(lam)
        rx, ry = rx * s, ry * s
    num = rx * rx * ry * ry - rx * rx * yp * yp - ry * ry * xp * xp
    den = rx * rx * yp * yp + ry * ry * xp * xp
    coef = math.sqrt(max(0.0, num / den)) if den else 0.0
    if large == sweep:
        coef = -coef
    cxp, cyp = coef * rx * yp / ry, -coef * ry * xp / rx
    cx, cy = cos * cxp - sin * cyp + (x0 + x1) / 2, sin * cxp + cos * cyp + (y0 + y1) / 2

    def ang(ux, uy, vx, vy):
        a = math.atan2(ux * vy - uy * vx, ux * vx + uy * vy)
        return a
    t1 = ang(1, 0, (xp - cxp) / rx, (yp - cyp) / ry)
    dt = ang((xp - cxp) / rx, (yp - cyp) / ry, (-xp - cxp) / rx, (-yp - cyp) / ry)
    if not sweep and dt > 0:
        dt -= 2 * math.pi
    elif sweep and dt < 0:
        dt += 2 * math.pi
    steps = max(2, int(abs(dt) / (math.pi / 2) * CURVE_STEPS))
    out = []
    for k in range(1, steps + 1):
        t = t1 + dt * k / steps
        ex, ey = rx * math.cos(t), ry * math.sin(t)
        out.append((cos * ex - sin * ey + cx, sin * ex + cos * ey + cy))
    return out


def _colour(el, name: str) -> tuple[int, int, int, int] | None:
    """(r, g, b, alpha) of the FillColor/StrokeColor child; black when the child has no Value; None
    when there is no such child."""
    c = next((x for x in el if local(x.tag) == name), None)
    if c is None:
        return None
    try:
        alpha = max(0, min(255, int(float(c.get("Alpha") or 255))))
    except ValueError:
        alpha = 255
    val = (c.get("Value") or "").strip()
    if val.startswith("#"):
        try:
            return (*(int(val[i:i + 2], 16) for i in (1, 3, 5)), alpha)    # type: ignore[return-value]
        except ValueError:
            return (0, 0, 0, alpha)
    try:
        nums = [float(v) for v in val.split()]
    except ValueError:
        nums = []
    if len(nums) == 1:
        g = int(max(0, min(255, nums[0])))
        return (g, g, g, alpha)
    if len(nums) == 3:
        r, g, b = (int(max(0, min(255, v))) for v in nums)
        return (r, g, b, alpha)
    if len(nums) == 4:
        cc, m, y, k = (max(0.0, min(255.0, v)) / 255 for v in nums)
        return (int(255 * (1 - cc) * (1 - k)), int(255 * (1 - m) * (1 - k)), int(255 * (1 - y) * (1 - k)), alpha)
    return (0, 0, 0, alpha)


def _on(el, attr: str, default: bool) -> bool:
    v = el.get(attr)
    return default if v is None else v.strip().lower() in ("true", "1")


@dataclass
class PathDraw:
    """One path object in page millimetres."""
    subpaths: list[tuple[list[tuple[float, float]], bool]]
    fill: tuple[int, int, int, int] | None
    stroke: tuple[int, int, int, int] | None
    width_mm: float


@dataclass
class Resources:
    """CompositeGraphicUnits by ID (their Content element), from the document's resource files."""
    units: dict[str, object] = field(default_factory=dict)


def paths(objects, resources: Resources, matrix: Matrix = IDENTITY, depth: int = 0,
          count: list[int] | None = None) -> Iterator[PathDraw]:
    """The path objects under `objects` (a Layer, PageBlock or unit Content), in drawing order,
    mapped to page millimetres."""
    count = count if count is not None else [0]
    if depth > MAX_DEPTH:
        raise RenderError("graphic units nested too deep")
    for el in objects:
        if not isinstance(el.tag, str):
            continue
        name = local(el.tag)
        if name == "PathObject":
            count[0] += 1
            if count[0] > MAX_OBJECTS:
                raise RenderError(f"more than {MAX_OBJECTS} path objects")
            if _on(el, "Visible", True) is False:
                continue
            m = _compose(matrix, object_matrix(el))
            data = next((x.text or "" for x in el if local(x.tag) == "AbbreviatedData"), "")
            subs = [([_apply(m, x, y) for x, y in pts], closed) for pts, closed in parse_path(data)]
            fill = (_colour(el, "FillColor") or (0, 0, 0, 255)) if _on(el, "Fill", False) else None
            stroke = (_colour(el, "StrokeColor") or (0, 0, 0, 255)) if _on(el, "Stroke", True) else None
            try:
                lw = float(el.get("LineWidth") or DEFAULT_LINE_WIDTH)
            except ValueError:
                lw = DEFAULT_LINE_WIDTH
            scale = math.sqrt(abs(m[0] * m[3] - m[1] * m[2])) or 1.0
            yield PathDraw(subs, fill, stroke, lw * scale)
        elif name in ("Layer", "PageBlock", "Content"):
            yield from paths(el, resources, matrix, depth + 1, count)
        elif name == "CompositeObject":
            unit = resources.units.get((el.get("ResourceID") or "").strip())
            if unit is None:
                raise RenderError("CompositeObject without its graphic unit")
            yield from paths(unit, resources, _compose(matrix, object_matrix(el)), depth + 1, count)


def has_paths(objects, resources: Resources) -> bool:
    """Whether anything under `objects` draws a path (cheap: no geometry)."""
    for el in objects.iter():
        if not isinstance(el.tag, str):
            continue
        name = local(el.tag)
        if name == "PathObject":
            return True
        if name == "CompositeObject":
            unit = resources.units.get((el.get("ResourceID") or "").strip())
            if unit is None or any(isinstance(x.tag, str) and local(x.tag) == "PathObject" for x in unit.iter()):
                return True
    return False


def render(layers: list, size_mm: tuple[float, float], resources: Resources, dpi: int = 200,
           origin_mm: tuple[float, float] = (0.0, 0.0)):
    """Draw the path objects of `layers` (Layer/Content elements: templates first, then the page)
    on a white page of `size_mm`; returns (PIL RGB image, pixels per mm)."""
    from PIL import Image, ImageChops, ImageDraw
    w_mm, h_mm = size_mm
    if not (w_mm > 0 and h_mm > 0):
        raise RenderError("page without size")
    scale = dpi / 25.4
    if w_mm * h_mm * scale * scale > MAX_PIXELS:
        scale = math.sqrt(MAX_PIXELS / (w_mm * h_mm))
    W, H = max(1, round(w_mm * scale)), max(1, round(h_mm * scale))
    page = Image.new("RGB", (W, H), "white")
    draw = ImageDraw.Draw(page, "RGBA")
    ox, oy = origin_mm

    def px(p: tuple[float, float]) -> tuple[float, float]:
        return ((p[0] - ox) * scale, (p[1] - oy) * scale)

    count = [0]
    for layer in layers:
        for pd in paths(layer, resources, count=count):
            dev = [([px(p) for p in pts], closed) for pts, closed in pd.subpaths]
            if pd.fill is not None:
                _fill(page, dev, pd.fill, Image, ImageChops, ImageDraw)
            if pd.stroke is not None:
                width = max(1, min(MAX_LINE_PX, round(pd.width_mm * scale)))
                for pts, _closed in dev:
                    draw.line(pts, fill=pd.stroke, width=width, joint="curve")
    return page, scale


def _fill(page, dev, colour, Image, ImageChops, ImageDraw) -> None:
    polys = [pts for pts, _closed in dev if len(pts) >= 3]
    if not polys:
        return
    xs = [x for pts in polys for x, _y in pts]
    ys = [y for pts in polys for _x, y in pts]
    x0, y0 = max(0, int(math.floor(min(xs)))), max(0, int(math.floor(min(ys))))
    x1, y1 = min(page.width, int(math.ceil(max(xs))) + 1), min(page.height, int(math.ceil(max(ys))) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    size = (x1 - x0, y1 - y0)
    if len(polys) == 1:
        mask = Image.new("1", size, 0)
        ImageDraw.Draw(mask).polygon([(x - x0, y - y0) for x, y in polys[0]], fill=1)
    else:
        mask = Image.new("1", size, 0)
        for pts in polys:      # even-odd: each contour flips what it covers, within its own box only
            sx0 = max(x0, int(math.floor(min(x for x, _y in pts))))
            sy0 = max(y0, int(math.floor(min(y for _x, y in pts))))
            sx1 = min(x1, int(math.ceil(max(x for x, _y in pts))) + 1)
            sy1 = min(y1, int(math.ceil(max(y for _x, y in pts))) + 1)
            if sx1 <= sx0 or sy1 <= sy0:
                continue
            box = (sx0 - x0, sy0 - y0, sx1 - x0, sy1 - y0)
            one = Image.new("1", (sx1 - sx0, sy1 - sy0), 0)
            ImageDraw.Draw(one).polygon([(x - sx0, y - sy0) for x, y in pts], fill=1)
            mask.paste(ImageChops.logical_xor(mask.crop(box), one), box[:2])
    r, g, b, a = colour
    paint = Image.new("RGB", size, (r, g, b))
    if a < 255:
        alpha = Image.new("L", size, 0)
        alpha.paste(a, mask=mask)
        page.paste(paint, (x0, y0), alpha)
    else:
        page.paste(paint, (x0, y0), mask)

