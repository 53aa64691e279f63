"""Charts as PNG bytes: matplotlib's object-oriented Figure API on the Agg canvas.

Never pyplot: no global figure registry, nothing shared between threads. Every function takes
one explicit `ChartStyle`, draws bars from zero, labels its units and uses constrained layout
so nothing is clipped. Sized for Slack's inline preview (8 x 4.5 in at 110 dpi).
"""

from __future__ import annotations

import bisect
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    MaxNLocator,
    NullLocator,
    PercentFormatter,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ChartStyle:
    """Sizes, fonts and colours shared by every chart."""

    width_in: float = 8.0
    height_in: float = 4.5
    dpi: int = 110
    font_size: float = 10.0
    title_size: float = 13.0
    primary: str = "#2563eb"  # unweighted / won / attainment bars
    secondary: str = "#93c5fd"  # weighted / lighter companion
    accent: str = "#ea580c"  # the attainment line
    good: str = "#16a34a"
    bad: str = "#dc2626"
    reference: str = "#374151"  # 100 % line, SLA line
    grid: str = "#e5e7eb"
    row_height_in: float = 0.28  # per bar in horizontal bar charts


DEFAULT_STYLE = ChartStyle()


def _money_label(value: float, _position: object = None) -> str:
    amount = abs(value)
    sign = "-" if value < 0 else ""
    if amount >= 1e9:
        return f"{sign}${amount / 1e9:.1f}B"
    if amount >= 1e6:
        return f"{sign}${amount / 1e6:.1f}M"
    if amount >= 1e3:
        return f"{sign}${amount / 1e3:.0f}k"
    return f"{sign}${amount:.0f}"


def _figure(style: ChartStyle, height_in: float | None = None) -> tuple[Figure, Axes]:
    figure = Figure(
        figsize=(style.width_in, height_in or style.height_in),
        dpi=style.dpi,
        layout="constrained",
    )
    FigureCanvasAgg(figure)
    figure.get_layout_engine().set(w_pad=0.12, h_pad=0.12)  # inches of margin around it all
    axes = figure.add_subplot()
    axes.tick_params(labelsize=style.font_size)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def _png(figure: Figure, style: ChartStyle) -> bytes:
    buffer = io.BytesIO()
    # Constrained layout already fits every label inside the figure; bbox_inches="tight" would
    # cost a second full draw for nothing.
    figure.savefig(buffer, format="png", dpi=style.dpi)
    return buffer.getvalue()


def _no_data(axes: Axes, style: ChartStyle, message: str) -> None:
    axes.text(
        0.5, 0.5, message, ha="center", va="center", fontsize=style.font_size + 2,
        transform=axes.transAxes, color=style.reference,
    )  # fmt: skip
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)


def kpi_trend(
    labels: Sequence[str],
    won: Sequence[float | None],
    attainment: Sequence[float | None],
    *,
    title: str,
    style: ChartStyle = DEFAULT_STYLE,
) -> bytes:
    """Won amount per period (bars, $) with quota attainment (line, %, right axis)."""
    figure, axes = _figure(style)
    positions = list(range(len(labels)))
    axes.bar(positions, [w or 0.0 for w in won], color=style.primary, width=0.6, label="Won ($)")
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(FuncFormatter(_money_label))
    axes.set_ylabel("Won amount (USD)", fontsize=style.font_size)
    axes.set_xticks(positions, labels)
    axes.grid(axis="y", color=style.grid)
    points = [a * 100 for a in attainment if a is not None]
    handles = axes.get_legend_handles_labels()[0]
    if points:
        right = axes.twinx()
        right.spines["top"].set_visible(False)
        right.set_ylim(0, max([100.0, *points]) * 1.15)
        right.yaxis.set_major_formatter(PercentFormatter())
        right.set_ylabel("Quota attainment", fontsize=style.font_size, color=style.accent)
        right.tick_params(labelsize=style.font_size, colors=style.accent)
        right.axhline(100, color=style.reference, linestyle=":", linewidth=1, label="100% of quota")
        # NaN breaks the line where a period has no quota, instead of bridging the gap.
        line = [math.nan if a is None else a * 100 for a in attainment]
        right.plot(
            positions, line, color=style.accent, marker="o", linewidth=2, label="Attainment (%)"
        )
        handles += right.get_legend_handles_labels()[0]
    else:
        axes.set_xlabel(
            "No quota lies inside these periods, so attainment is not shown",
            fontsize=style.font_size - 1,
        )
    figure.legend(
        handles=handles, loc="outside lower center", ncols=len(handles),
        fontsize=style.font_size - 1, frameon=False,
    )  # fmt: skip
    axes.set_title(title, fontsize=style.title_size, loc="left")
    return _png(figure, style)


def pipeline_by_stage(
    stages: Sequence[str],
    unweighted: Sequence[float],
    weighted: Sequence[float],
    *,
    title: str,
    style: ChartStyle = DEFAULT_STYLE,
) -> bytes:
    """Open pipeline per stage: unweighted and weighted amounts side by side ($)."""
    figure, axes = _figure(style)
    if not stages:
        _no_data(axes, style, "No open deals")
    else:
        positions = list(range(len(stages)))
        width = 0.38
        axes.bar(
            [p - width / 2 for p in positions], unweighted, width, color=style.primary,
            label="Unweighted",
        )  # fmt: skip
        axes.bar(
            [p + width / 2 for p in positions], weighted, width, color=style.secondary,
            label="Weighted (x probability)",
        )  # fmt: skip
        axes.set_ylim(bottom=0)
        axes.yaxis.set_major_formatter(FuncFormatter(_money_label))
        axes.set_ylabel("Open pipeline (USD)", fontsize=style.font_size)
        rotate = sum(len(s) for s in stages) > 60
        axes.set_xticks(
            positions, stages, rotation=25 if rotate else 0, ha="right" if rotate else "center"
        )
        axes.grid(axis="y", color=style.grid)
        axes.legend(fontsize=style.font_size - 1, frameon=False)
    axes.set_title(title, fontsize=style.title_size, loc="left")
    return _png(figure, style)


def response_distribution(
    minutes: Sequence[float],
    *,
    sla_minutes: float | None,
    unanswered: int,
    title: str,
    met: Sequence[bool | None] | None = None,
    style: ChartStyle = DEFAULT_STYLE,
) -> bytes:
    """Histogram of raw first-response times; bins them and calls `response_histogram`.

    `met` (one flag per lead) says whether each lead was answered within its own SLA deadline
    (which can differ from the wall-clock target when business hours apply); without it a
    lead counts as within SLA when its minutes are at most `sla_minutes`.
    """
    values = [max(m, 0.1) for m in minutes if m is not None and math.isfinite(m)]
    high = max([*values, sla_minutes or 1.0, 1.0]) * 1.2
    edges = log_edges(min([0.25, *values]), high, sla_minutes)
    inside = [0] * (len(edges) - 1)
    late = [0] * (len(edges) - 1)
    for index, value in enumerate(values):
        flag = met[index] if met is not None else sla_minutes is None or value <= sla_minutes
        slot = min(max(bisect.bisect_right(edges, value) - 1, 0), len(inside) - 1)
        (inside if flag else late)[slot] += 1
    return response_histogram(
        edges, inside, late, sla_minutes=sla_minutes, unanswered=unanswered, title=title,
        style=style,
    )  # fmt: skip


def response_histogram(
    edges: Sequence[float],
    inside: Sequence[int],
    late: Sequence[int],
    *,
    sla_minutes: float | None,
    unanswered: int,
    title: str,
    style: ChartStyle = DEFAULT_STYLE,
) -> bytes:
    """Pre-binned first-response times (minutes, log-spaced `edges`): leads answered within
    their SLA and late ones stacked, with the SLA target as a dashed line."""
    figure, axes = _figure(style)
    used = [i for i in range(len(inside)) if inside[i] or late[i]]
    if not used:
        _no_data(axes, style, "No answered leads in this period")
        if unanswered:
            axes.set_xlabel(f"{unanswered} unanswered lead(s)", fontsize=style.font_size)
    else:
        first, last = used[0], used[-1] + 1
        lefts = list(edges[first:last])
        widths = [edges[i + 1] - edges[i] for i in range(first, last)]
        ins, lts = list(inside[first:last]), list(late[first:last])
        axes.bar(lefts, ins, widths, align="edge", color=style.good, label="Within SLA")
        axes.bar(lefts, lts, widths, bottom=ins, align="edge", color=style.bad, label="Late")
        low = min(edges[first], sla_minutes or edges[first]) / 1.5
        high = max(edges[last], sla_minutes or edges[last]) * 1.5
        axes.set_xscale("log")
        axes.set_xlim(low, high)
        axes.xaxis.set_major_locator(FixedLocator([t for t in _MINUTE_TICKS if low <= t <= high]))
        axes.xaxis.set_minor_locator(NullLocator())
        axes.xaxis.set_major_formatter(FuncFormatter(_minutes_label))
        note = f"\nNot shown: {unanswered} unanswered lead(s)" if unanswered else ""
        axes.set_xlabel(f"Minutes to first response (log scale){note}", fontsize=style.font_size)
        axes.set_ylabel("Leads", fontsize=style.font_size)
        axes.set_ylim(0, max(i + j for i, j in zip(ins, lts, strict=True)) * 1.12)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", color=style.grid)
        if sla_minutes is not None:
            axes.axvline(
                sla_minutes, color=style.reference, linestyle="--", linewidth=1.5,
                label=f"SLA target {_minutes_label(sla_minutes)}",
            )  # fmt: skip
        axes.legend(fontsize=style.font_size - 1, frameon=False, loc="upper right")
    axes.set_title(title, fontsize=style.title_size, loc="left")
    return _png(figure, style)


_MINUTE_TICKS = (0.5, 1, 5, 15, 60, 240, 1440, 10080, 43200)


def log_edges(low: float, high: float, split: float | None, steps: int = 24) -> list[float]:
    """Log-spaced histogram bin edges from `low` to `high`; `split` (the SLA) is an edge, so
    no bar mixes leads answered before and after the SLA target."""
    if split is None or not low < split < high:
        return [low * (high / low) ** (i / steps) for i in range(steps + 1)]
    below = max(1, round(steps * math.log(split / low) / math.log(high / low)))
    above = max(1, steps - below)
    lower = [low * (split / low) ** (i / below) for i in range(below)]
    return [*lower, *(split * (high / split) ** (i / above) for i in range(above + 1))]


def _minutes_label(value: float, _position: object = None) -> str:
    if value < 1:
        return f"{value * 60:.0f}s"
    if value < 60:
        return f"{value:g} min"
    if value < 48 * 60:
        return f"{value / 60:.3g} h"
    return f"{value / 1440:.3g} d"


def team_attainment(
    reps: Sequence[str],
    attainment: Sequence[float],
    *,
    title: str,
    style: ChartStyle = DEFAULT_STYLE,
) -> bytes:
    """Quota attainment by rep: horizontal bars (best on top) with the 100% line."""
    height = max(3.0, style.row_height_in * len(reps) + 1.4)
    figure, axes = _figure(style, height)
    if not reps:
        _no_data(axes, style, "No rep has a quota for this period")
    else:
        order = sorted(range(len(reps)), key=lambda i: attainment[i])
        names = [reps[i] for i in order]
        values = [attainment[i] * 100 for i in order]
        colors = [style.good if v >= 100 else style.primary for v in values]
        axes.barh(range(len(names)), values, color=colors, height=0.7)
        axes.set_yticks(range(len(names)), names)
        axes.set_ylim(-0.6, len(names) - 0.4)
        axes.set_xlim(0, max([110.0, *values]) * 1.12)
        axes.axvline(100, color=style.reference, linestyle="--", linewidth=1.5)
        axes.xaxis.set_major_formatter(PercentFormatter())
        axes.set_xlabel("Quota attainment (won / quota)", fontsize=style.font_size)
        axes.grid(axis="x", color=style.grid)
        for y, value in enumerate(values):
            axes.text(
                value, y, f" {math.floor(value)}%", va="center", fontsize=style.font_size - 1,
            )  # fmt: skip
    axes.set_title(title, fontsize=style.title_size, loc="left")
    return _png(figure, style)
