"""Small inline SVG charts rendered on the server (no script, no external assets). Every label is
escaped; numbers are formatted by us. Colours match the highlight legend; each series also has
a text label, so nothing is told by colour alone. The caller gives the colours (the category
families' come from the taxonomy, as the highlights' do)."""
from __future__ import annotations

from markupsafe import Markup, escape

DEFAULT_COLOUR = "#1e66c8"


def _e(x) -> str:
    return str(escape(str(x)))


def stacked_bars(title: str, labels: list[str], series: dict[str, list[int]], names: dict[str, str],
                 colours: dict[str, str] | None = None, width: int = 640, height: int = 220) -> Markup:
    """Vertical stacked bars per label (e.g. day), one colour + legend text per series."""
    colours = colours or {}
    pad_l, pad_b, pad_t = 36, 40, 24
    n = max(len(labels), 1)
    totals = [sum(series[k][i] for k in series) for i in range(len(labels))]
    top = max(totals + [1])
    bw = (width - pad_l - 10) / n
    ph = height - pad_b - pad_t
    out = [f'<svg class="chart" viewBox="0 0 {width} {height + 20 * ((len(series) + 3) // 4)}" role="img" '
           f'aria-label="{_e(title)}"><title>{_e(title)}</title>']
    for frac in (0, 0.5, 1):
        y = pad_t + ph * (1 - frac)
        out.append(f'<line x1="{pad_l}" x2="{width - 5}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{pad_l - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{round(top * frac)}</text>')
    for i, lab in enumerate(labels):
        x = pad_l + i * bw + bw * 0.15
        y = pad_t + ph
        for k, vals in series.items():
            v = vals[i]
            if not v:
                continue
            h = ph * v / top
            y -= h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw * 0.7:.1f}" height="{h:.1f}" '
                       f'fill="{colours.get(k, DEFAULT_COLOUR)}"><title>{_e(lab)} {_e(names.get(k, k))}：{v}</title></rect>')
        if totals[i]:
            out.append(f'<text x="{x + bw * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="10">{totals[i]}</text>')
        if n <= 16 or i % max(1, n // 8) == 0:
            out.append(f'<text x="{x + bw * 0.35:.1f}" y="{pad_t + ph + 14}" text-anchor="middle" font-size="10">{_e(lab)}</text>')
    ly = height + 4
    for j, k in enumerate(series):
        lx = pad_l + (j % 4) * 150
        yy = ly + 20 * (j // 4) - 14
        out.append(f'<rect x="{lx}" y="{yy}" width="12" height="12" fill="{colours.get(k, DEFAULT_COLOUR)}"/>'
                   f'<text x="{lx + 16}" y="{yy + 11}" font-size="12">{_e(names.get(k, k))}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def hbars(title: str, rows: list[tuple[str, float, str]], width: int = 640, max_value: float | None = None,
          colour: str = DEFAULT_COLOUR) -> Markup:
    """Horizontal bars: rows of (label, value, value text)."""
    if not rows:
        return Markup(f'<p class="muted">{_e(title)}：暂无数据。</p>')
    row_h, pad_l = 24, 230
    top = max_value or max([r[1] for r in rows] + [1e-9])
    h = row_h * len(rows) + 10
    out = [f'<svg class="chart" viewBox="0 0 {width} {h}" role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>']
    for i, (lab, v, txt) in enumerate(rows):
        y = 5 + i * row_h
        w = (width - pad_l - 80) * (v / top if top else 0)
        out.append(f'<text x="{pad_l - 6}" y="{y + 15}" text-anchor="end" font-size="12">{_e(lab[:34])}</text>'
                   f'<rect x="{pad_l}" y="{y + 3}" width="{max(w, 1):.1f}" height="16" fill="{colour}"/>'
                   f'<text x="{pad_l + w + 6:.1f}" y="{y + 15}" font-size="12">{_e(txt)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
