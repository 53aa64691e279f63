"""Charts as PNG bytes: matplotlib's object-oriented Figure API on the Agg canvas.

Never pyplot: no global figure registry, nothing shared between threads. Every function takes
one explicit `ChartStyle`, draws bars from zero, labels its units and uses constrained layout
so nothing is clipped. Sized for Slack's inline preview (8 x 4.5 in at 110 dpi).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from salesops_core.kpi.format import axis_tick, fmt, format_kpi
from salesops_core.kpi.registry import Unit

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


def value_label(key: str, value: float | int | None) -> str:
    """The label on a bar or line showing a KPI's value: exactly as the text reads it."""
    return format_kpi(key, value)


def _ticks(unit: Unit) -> FuncFormatter:
    return FuncFormatter(lambda value, _position: axis_tick(value, unit))


def _figure(style: ChartStyle, height_in: float | None = None) -> tuple[Figure, Axes]:
    figure = Figure(
        figsize=(style.width_in, height_in or style.height_in),
        dpi=style.dpi,
        # 0.12 inches of margin around it all
        layout=ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.12),
    )
    FigureCanvasAgg(figure)
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
    """Won amount per period (labelled bars, $) with quota attainment (line, %, right axis)."""
    figure, axes = _figure(style)
    positions = list(range(len(labels)))
    heights = [w or 0.0 for w in won]
    bars = axes.bar(positions, heights, color=style.primary, width=0.6, label="Won ($)")
    axes.bar_label(
        bars, [value_label("won_amount", w) for w in won], padding=2,
        fontsize=style.font_size - 1,
    )  # fmt: skip
    axes.set_ylim(0, max([*heights, 0.0]) * 1.12 or 1.0)  # room for the labels
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(_ticks(Unit.MONEY))
    axes.set_ylabel("Won amount (USD)", fontsize=style.font_size)
    axes.set_xticks(positions, labels)
    axes.grid(axis="y", color=style.grid)
    points = [a for a in attainment if a is not None]
    handles = axes.get_legend_handles_labels()[0]
    if points:
        right = axes.twinx()
        right.spines["top"].set_visible(False)
        right.set_ylim(0, max([1.0, *points]) * 1.15)
        right.yaxis.set_major_formatter(_ticks(Unit.PERCENT))
        right.set_ylabel("Quota attainment", fontsize=style.font_size, color=style.accent)
        right.tick_params(labelsize=style.font_size, colors=style.accent)
        right.axhline(1.0, color=style.reference, linestyle=":", linewidth=1, label="100% of quota")
        # NaN breaks the line where a period has no quota, instead of bridging the gap.
        line = [math.nan if a is None else a for a in attainment]
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
        axes.yaxis.set_major_formatter(_ticks(Unit.MONEY))
        axes.set_ylabel("Open pipeline (USD)", fontsize=style.font_size)
        rotate = sum(len(s) for s in stages) > 60
        axes.set_xticks(
            positions, stages, rotation=25 if rotate else 0, ha="right" if rotate else "center"
        )
        axes.grid(axis="y", color=style.grid)
        axes.legend(fontsize=style.font_size - 1, frameon=False)
    axes.set_title(title, fontsize=style.title_size, loc="left")
    return _png(figure, style)


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
        axes.xaxis.set_major_formatter(_ticks(Unit.MINUTES))
        note = f"\nNot shown: {unanswered} unanswered lead(s)" if unanswered else ""
        axes.set_xlabel(f"Minutes to first response (log scale){note}", fontsize=style.font_size)
        axes.set_ylabel("Leads", fontsize=style.font_size)
        axes.set_ylim(0, max(i + j for i, j in zip(ins, lts, strict=True)) * 1.12)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", color=style.grid)
        if sla_minutes is not None:
            axes.axvline(
                sla_minutes, color=style.reference, linestyle="--", linewidth=1.5,
                label=f"SLA target {fmt(sla_minutes, Unit.MINUTES)}",
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
        values = [attainment[i] for i in order]
        colors = [style.good if v >= 1.0 else style.primary for v in values]
        axes.barh(range(len(names)), values, color=colors, height=0.7)
        axes.set_yticks(range(len(names)), names)
        axes.set_ylim(-0.6, len(names) - 0.4)
        axes.set_xlim(0, max([1.1, *values]) * 1.12)
        axes.axvline(1.0, color=style.reference, linestyle="--", linewidth=1.5)
        axes.xaxis.set_major_formatter(_ticks(Unit.PERCENT))
        axes.set_xlabel("Quota attainment (won / quota)", fontsize=style.font_size)
        axes.grid(axis="x", color=style.grid)
        for y, value in enumerate(values):
            axes.text(
                value, y, f" {value_label('quota_attainment', value)}", va="center",
                fontsize=style.font_size - 1,
            )  # fmt: skip
    axes.set_title(title, fontsize=style.title_size, loc="left")
    return _png(figure, style)
