"""The dashboard's charts: inline SVG geometry, computed here from the figures.

No script draws them (the Content-Security-Policy forbids inline scripts, and a chart library
would be one more thing to vendor and keep); the template renders these shapes, with a table
beside each chart as its text alternative.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

# Colour-blind-safe series colours (Okabe–Ito), one per channel in the order of the legend.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 3, 4, 5, 6, 8 × 10^k at or above ``value`` (at least 1): the axis
    top, close enough above the highest bar that the bars fill the chart."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 3, 4, 5, 6, 8, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    bars: list[dict[str, Any]]
    ticks: list[dict[str, Any]]
    legend: list[dict[str, Any]]
    summary: str
    table_channels: list[str]
    table_rows: list[dict[str, Any]]


def _volume_bars(
    days: list[dt.date],
    order: list[int],
    cells: dict[tuple[dt.date, int], int],
    totals: dict[dt.date, int],
    channels: dict[int, str],
    colours: dict[int, str],
    *,
    left: int,
    top: int,
    plot: tuple[int, int],
    scale: float,
) -> list[dict[str, Any]]:
    """One bar per day: a segment per channel in ``order``, stacked from the bottom, and the
    day's label on every n-th bar so that at most 12 show."""
    plot_w, plot_h = plot
    slot = plot_w / max(1, len(days))
    bar_w = max(2.0, slot * 0.7)
    label_every = max(1, math.ceil(len(days) / 12))
    bars = []
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar_w) / 2
        y: float = top + plot_h
        segments = []
        for pk in order:
            n = cells.get((day, pk), 0)
            if not n:
                continue
            h = n * scale
            y -= h
            segments.append(
                {
                    "y": round(y, 1),
                    "height": round(h, 1),
                    "fill": colours[pk],
                    "title": f"{channels[pk]}: {n}",
                }
            )
        bars.append(
            {
                "x": round(x, 1),
                "width": round(bar_w, 1),
                "center": round(x + bar_w / 2, 1),
                "segments": segments,
                "total": totals[day],
                "total_y": round(y - 4, 1),
                "label": formats.date_format(day, "j M") if i % label_every == 0 else "",
                "day": day,
            }
        )
    return bars


def _volume_summary(days: list[dt.date], totals: dict[dt.date, int], peak: int) -> str:
    """The chart in words, for screen readers: the total and the busiest day."""
    busiest = max(days, key=lambda d: (totals[d], -d.toordinal())) if days else None
    summary = _("%(total)s new tickets over %(days)s days.") % {
        "total": sum(totals.values()),
        "days": len(days),
    }
    if busiest is not None and peak:
        summary += " " + _("Busiest day: %(day)s with %(n)s.") % {
            "day": formats.date_format(busiest, "j M"),
            "n": peak,
        }
    return summary


def volume_chart(rows: list[dict[str, Any]], days: list[dt.date]) -> Chart:
    """A stacked bar per day, one colour per channel, the day's total above each bar."""
    width, height = 760, 260
    left, right, top, bottom = 44, 8, 18, 40
    plot_w, plot_h = width - left - right, height - top - bottom

    channels: dict[int, str] = {}
    cells: dict[tuple[dt.date, int], int] = {}
    for row in rows:
        channels.setdefault(row["channel_id"], row["channel"])
        cells[(row["day"], row["channel_id"])] = row["tickets"]
    order = sorted(channels, key=lambda pk: (channels[pk].lower(), pk))
    # Each channel's kind, for its icon in the legend (one small query per chart).
    from channels.models import Channel

    kinds = dict(Channel.objects.filter(pk__in=order).values_list("pk", "kind"))
    colours = {pk: PALETTE[i % len(PALETTE)] for i, pk in enumerate(order)}
    totals = {day: sum(cells.get((day, pk), 0) for pk in order) for day in days}
    peak = max(totals.values(), default=0)
    axis_top = _nice_ceiling(peak)
    scale = plot_h / axis_top

    bars = _volume_bars(
        days,
        order,
        cells,
        totals,
        channels,
        colours,
        left=left,
        top=top,
        plot=(plot_w, plot_h),
        scale=scale,
    )
    # Gridlines at round numbers only: halfway when the top is even (0, 5, 10), else the ends.
    values = (0, axis_top // 2, axis_top) if axis_top % 2 == 0 else (0, axis_top)
    ticks = [{"value": v, "y": round(top + plot_h - v * scale, 1)} for v in values]
    return Chart(
        width=width,
        height=height,
        plot_left=left,
        plot_bottom=top + plot_h,
        bars=bars,
        ticks=ticks,
        legend=[
            {"name": channels[pk], "fill": colours[pk], "kind": kinds.get(pk, "")} for pk in order
        ],
        summary=_volume_summary(days, totals, peak),
        table_channels=[channels[pk] for pk in order],
        table_rows=[
            {
                "day": day,
                "counts": [cells.get((day, pk), 0) for pk in order],
                "total": totals[day],
            }
            for day in days
        ],
    )


def sla_bar(sla: dict[str, Any]) -> list[dict[str, Any]]:
    """One horizontal bar split into met / breached / pending, as percentages of the width."""
    parts = [
        ("met", _("met"), "#009e73"),
        ("breached", _("breached"), "#d55e00"),
        ("pending", _("pending"), "#94a3b8"),
    ]
    total = sum(sla[key] for key, _label, _fill in parts)
    out, x = [], 0.0
    for key, label, fill in parts:
        share = sla[key] / total * 100 if total else 0.0
        if share:
            out.append(
                {"key": key, "label": label, "n": sla[key], "x": round(x, 2), "w": round(share, 2)}
                | {"fill": fill}
            )
        x += share
    return out
