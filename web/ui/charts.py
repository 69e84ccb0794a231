"""Small charts drawn on the server as inline SVG: no chart library, no JavaScript, readable when printed.
Colours come from CSS classes (web/static/app.css)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from itertools import count

from markupsafe import Markup, escape

_ids = count(1)


def _css_token(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in str(text))


def bars(items: Sequence[tuple[str, int]], title: str, width: int = 380, label_width: int = 130,
         empty: str = "Nothing in this period", link: Callable[[str], str] | None = None) -> Markup:
    """Horizontal bars, one per (label, value); with `link`, each bar opens link(label)."""
    if not items or not any(v for _, v in items):
        return Markup('<p class="chart-empty">{}</p>').format(empty)
    row, pad = 24, 4
    height = row * len(items) + pad * 2
    top = max(v for _, v in items) or 1
    area = width - label_width - 48
    chart_id = f"chart-{next(_ids)}"
    parts = [f'<svg class="chart chart-bars" id="{chart_id}" role="img" aria-labelledby="{chart_id}-t" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             f'<title id="{chart_id}-t">{escape(title)}</title>']
    for i, (label, value) in enumerate(items):
        y = pad + i * row
        w = 0 if value == 0 else max(2, round(area * value / top))
        row_svg = (f'<g class="bar-row bar-{escape(_css_token(label))}">'
                   f'<text class="label" x="{label_width - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
                   f'<rect class="bar" x="{label_width}" y="{y + 4}" width="{w}" height="{row - 8}" rx="2">'
                   f'<title>{escape(label)}: {value}</title></rect>'
                   f'<text class="value" x="{label_width + w + 6}" y="{y + 16}">{value}</text></g>')
        if link is not None and value:
            row_svg = f'<a class="drill" href="{escape(link(label))}">{row_svg}</a>'
        parts.append(row_svg)
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(items: Sequence[tuple[date | str, int]], title: str, width: int = 560, height: int = 150,
            link: Callable[[str], str] | None = None) -> Markup:
    """Vertical columns over time (one per day), with a few date labels along the bottom; with `link`, each
    column opens link(its day)."""
    if not items:
        return Markup('<p class="chart-empty">No days in this period</p>')
    left, bottom, top_pad = 28, 22, 8
    n = len(items)
    peak = max(v for _, v in items)
    scale_top = max(peak, 1)
    plot_w, plot_h = width - left - 4, height - bottom - top_pad
    step = plot_w / n
    chart_id = f"chart-{next(_ids)}"
    parts = [f'<svg class="chart chart-columns" id="{chart_id}" role="img" aria-labelledby="{chart_id}-t" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             f'<title id="{chart_id}-t">{escape(title)}</title>',
             f'<line class="axis" x1="{left}" y1="{top_pad + plot_h}" x2="{width - 4}" y2="{top_pad + plot_h}"/>',
             f'<text class="tick" x="{left - 4}" y="{top_pad + 8}" text-anchor="end">{peak}</text>',
             f'<text class="tick" x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end">0</text>']
    every = max(1, n // 6)
    for i, (day, value) in enumerate(items):
        h = 0 if value == 0 else max(1.5, plot_h * value / scale_top)
        x = left + i * step
        label = day.isoformat() if isinstance(day, date) else str(day)
        col = (f'<rect class="col" x="{x + step * 0.15:.1f}" y="{top_pad + plot_h - h:.1f}" '
               f'width="{max(1.0, step * 0.7):.1f}" height="{h:.1f}"><title>{escape(label)}: {value}</title>'
               f'</rect>')
        if link is not None and value:
            col = f'<a class="drill" href="{escape(link(label))}" data-day="{escape(label)}">{col}</a>'
        parts.append(col)
        if i % every == 0:
            short = label[5:] if isinstance(day, date) else label
            parts.append(f'<text class="tick" x="{x + step / 2:.1f}" y="{height - 6}" '
                         f'text-anchor="middle">{escape(short)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
