"""The monthly report as CSV, JSON-ready rows and a printable HTML page with inline SVG charts.

One flat list of named figures (``figure_values``) feeds all three, so the CSV, the API and the page say
the same numbers. The page loads nothing from anywhere (no script, no font, no image): it prints as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from html import escape

from core.domain import WorkOrderPriority
from workorders.kpi import ALL_KINDS, BACKLOG_BUCKETS, PM_TARGET, Figures

Value = int | float | None


def figure_values(f: Figures) -> dict[str, Value]:
    """Every figure of ``f`` by name, in report order (ratios as their value, with part and whole)."""
    values: dict[str, Value] = {
        "assets": f.assets, "orders_opened": f.orders_opened, "repairs": f.repairs, "repair_rate": f.repair_rate,
        "mttr_hours": f.mttr_hours, "failures": f.failures, "mtbf_hours": f.mtbf_hours}
    for priority in WorkOrderPriority:
        ratio = f.sla[priority]
        values.update({f"sla_{priority.value}": ratio.value, f"sla_{priority.value}_met": ratio.part,
                       f"sla_{priority.value}_judged": ratio.whole})
    values.update({"pm_compliance": f.pm.value, "pm_on_time": f.pm.part, "pm_due": f.pm.whole,
                   "first_time_fix_rate": f.first_time_fix.value, "first_time_fixes": f.first_time_fix.part,
                   "repeat_failures": f.repeat_failures})
    values.update({f"backlog_{name}": f.backlog.get(name, 0) for name, _ in BACKLOG_BUCKETS})
    values.update({"complaints": f.complaints, "complaints_per_100_orders": f.complaints_per_100_orders,
                   "satisfaction": f.satisfaction, "follow_up_coverage": f.follow_up.value,
                   "followed_up": f.follow_up.part, "closed_with_requester": f.follow_up.whole})
    return values


def _cell(value: Value) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.4f}".rstrip("0").rstrip(".")


def to_csv(figures: Sequence[Figures]) -> str:
    """One row per site and kind: site_id, month, kind, then every figure (empty: not defined)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = list(figure_values(figures[0])) if figures else []
    writer.writerow(["site_id", "month", "kind", *names])
    for f in figures:
        writer.writerow([f.site_id, str(f.month), f.kind, *(_cell(v) for v in figure_values(f).values())])
    return out.getvalue()


def bar_chart(title: str, bars: Sequence[tuple[str, Value]], top: float, unit: str = "",
              target: float | None = None) -> str:
    """A horizontal bar chart as inline SVG; a bar without a value says "n/a"; ``target`` draws a line."""
    label_w, bar_w, row_h = 110, 300, 22
    height = 30 + row_h * len(bars)
    parts = [f'<svg width="{label_w + bar_w + 90}" height="{height}" '
             f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="0" y="16" class="t">{escape(title)}</text>']
    scale = bar_w / top if top > 0 else 0.0
    for i, (label, value) in enumerate(bars):
        y = 26 + i * row_h
        parts.append(f'<text x="0" y="{y + 14}">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{label_w}" y="{y + 14}" class="na">n/a</text>')
            continue
        width = max(min(value, top) * scale, 0.0)
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{width:.1f}" height="{row_h - 6}" class="bar"/>')
        parts.append(f'<text x="{label_w + width + 4:.1f}" y="{y + 14}">{_cell(value)}{escape(unit)}</text>')
    if target is not None:
        x = label_w + target * scale
        parts.append(f'<line x1="{x:.1f}" y1="22" x2="{x:.1f}" y2="{height}" class="target"/>')
    parts.append("</svg>")
    return "".join(parts)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _charts(site: Figures) -> str:
    sla = [(p.value, _percent(site.sla[p].value)) for p in WorkOrderPriority]
    backlog = [(name, site.backlog.get(name, 0)) for name, _ in BACKLOG_BUCKETS]
    rates = [("PM compliance", _percent(site.pm.value)), ("first-time fix", _percent(site.first_time_fix.value)),
             ("follow-up", _percent(site.follow_up.value))]
    return "".join([
        bar_chart("SLA compliance by priority (%)", sla, 100, "%"),
        bar_chart(f"PM, first-time fix, follow-up (%); PM target {PM_TARGET:.0%}", rates, 100, "%",
                  target=PM_TARGET * 100),
        bar_chart("Backlog at month end by age", backlog, max([1, *(count for _, count in backlog)]))])


def _table(rows: Sequence[Figures]) -> str:
    head = "".join(f"<th>{escape(f.kind)}</th>" for f in rows)
    columns = [figure_values(f) for f in rows]
    body = "".join(f"<tr><th>{escape(name)}</th>" + "".join(f"<td>{_cell(c[name])}</td>" for c in columns)
                   + "</tr>" for name in columns[0])
    return f"<table><thead><tr><th>figure</th>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
body { font: 11pt sans-serif; margin: 2em; color: #111; }
h1 { font-size: 16pt; } h2 { font-size: 13pt; margin-top: 1.5em; }
table { border-collapse: collapse; margin: .5em 0; } th, td { border: 1px solid #999; padding: 2px 6px; }
td { text-align: right; } thead th { background: #eee; }
svg { display: block; margin: .5em 0; font: 9pt sans-serif; } svg .t { font-weight: bold; }
svg .bar { fill: #3b6ea5; } svg .na { fill: #888; } svg .target { stroke: #c00; stroke-dasharray: 4 2; }
section { page-break-inside: avoid; }
@media print { body { margin: 0; } section { page-break-after: always; } a { color: inherit; } }
@page { size: A4; margin: 15mm; }
"""


def to_html(figures: Sequence[Figures], month: str) -> str:
    """A printable page: per site, the charts of the whole site and a table of every figure by kind."""
    sections = []
    for site in dict.fromkeys(f.site_id for f in figures):
        rows = [f for f in figures if f.site_id == site]
        whole = next(f for f in rows if f.kind == ALL_KINDS)
        sections.append(f"<section><h2>Site {escape(site)}</h2>{_charts(whole)}{_table(rows)}</section>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Monthly figures {escape(month)}'
            f"</title><style>{STYLE}</style></head><body><h1>Monthly figures {escape(month)}</h1>"
            f"{''.join(sections) or '<p>No site.</p>'}</body></html>\n")
