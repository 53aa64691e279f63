"""Charts as PNG bytes: matplotlib's object-oriented Figure API on the Agg canvas.

Never pyplot: no global figure registry, nothing shared between threads. Every function takes
one explicit `ChartStyle`, draws bars from zero on one y axis, labels values as the text writes
them (`kpi.format`) and uses constrained layout so nothing is clipped. A slash command's chart
is one panel of the digest's composite chart on its own figure, sized for Slack's inline
preview (8 in wide at 110 dpi); the digest's chart is 10 in wide and as tall as its panels need.
"""

from __future__ import annotations

import io
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import Container
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.gridspec import SubplotSpec
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator
from matplotlib.transforms import Bbox

from salesops_core.digest.facts import ChartFacts, StageBar
from salesops_core.kpi.format import axis_tick, fmt, format_kpi, plural
from salesops_core.kpi.registry import Unit

P = ParamSpec("P")

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
    muted: str = "#cbd5e1"  # the previous period beside the current one
    text: str = "#1f2937"  # value labels
    digest_width_in: float = 10.0  # the digest's composite chart
    digest_row_in: float = 0.24  # per rep in the digest's attainment panel


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
    _plain(axes, style)
    return figure, axes


def _plain(axes: Axes, style: ChartStyle) -> None:
    """The house look of an axes: readable ticks, grid behind the data, no top or right frame."""
    axes.tick_params(labelsize=style.font_size)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # Constrained layout already fits every label inside the figure; bbox_inches="tight" would
    # cost a second full draw for nothing. Saved at the dpi the figure was made with (its style's).
    figure.savefig(buffer, format="png", dpi=figure.dpi)
    return buffer.getvalue()


def _png_of(draw: Callable[P, Figure]) -> Callable[P, bytes]:
    """`draw` with its own arguments, returning its chart as PNG bytes; named as `draw` without
    "_figure" (callers use that name, and the chart pool pickles the function by it)."""

    def png(*args: P.args, **kwargs: P.kwargs) -> bytes:
        return _png(draw(*args, **kwargs))

    png.__name__ = png.__qualname__ = draw.__name__.removesuffix("_figure")
    png.__doc__ = f"`{draw.__name__}` as PNG bytes."
    return png


def _no_data(axes: Axes, style: ChartStyle, message: str) -> None:
    axes.text(
        0.5, 0.5, message, ha="center", va="center", fontsize=style.font_size + 2,
        transform=axes.transAxes, color=style.reference,
    )  # fmt: skip
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)


# The slash commands' charts: each is one panel of the digest chart (below) on a figure of its
# own, so /kpi, /team, /pipeline and /leads draw, label and lay out exactly as the digest does.


def _one_panel(panel: _Panel, title: str, style: ChartStyle, height_in: float) -> Figure:
    """A slash command's chart: one panel, `style.width_in` wide, under `title`."""
    figure = Figure(figsize=(style.width_in, height_in), dpi=style.dpi)
    figure.set_layout_engine("none")  # laid out once, below: the labels are fitted to that
    renderer = FigureCanvasAgg(figure).get_renderer()
    axes, handles = _draw_panel(figure, figure.add_gridspec(1, 1)[0], panel, title, style, renderer)
    ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.12).execute(figure)
    panel.label(axes, renderer)
    _legend(axes, style, handles)
    return figure


def _empty(title: str, message: str, style: ChartStyle) -> Figure:
    """A chart with nothing to draw: the title and what is missing."""
    figure, axes = _figure(style)
    _no_data(axes, style, message)
    axes.set_title(title, fontsize=style.font_size + 1, fontweight="bold", loc="left")
    return figure


def kpi_trend_figure(
    labels: Sequence[str],
    won: Sequence[float],
    attainment: Sequence[float | None],
    *,
    quota: Sequence[float | None] | None = None,
    running: bool = False,
    title: str,
    style: ChartStyle = DEFAULT_STYLE,
) -> Figure:
    """Won per period as labelled bars, each period's quota a marker on the same dollar axis
    (its attainment in the bar's label); a `running` last period is hatched, "to date"."""
    panel = _WonTrend(
        style, list(labels), list(won), None, running, list(quota) if quota else None,
        list(attainment),
    )  # fmt: skip
    return _one_panel(panel, title, style, style.height_in)


kpi_trend = _png_of(kpi_trend_figure)


def pipeline_by_stage_figure(
    stages: Sequence[str],
    unweighted: Sequence[float],
    weighted: Sequence[float],
    *,
    deals: Sequence[int],
    title: str,
    style: ChartStyle = DEFAULT_STYLE,
) -> Figure:
    """Open pipeline per stage (first stage on top): the amount and the weighted amount, each
    labelled, and the stage's deal count beside its name."""
    if not stages:
        return _empty(title, "No open deals", style)
    bars = [
        StageBar(stage, amount, weight, count)
        for stage, amount, weight, count in zip(stages, unweighted, weighted, deals, strict=True)
    ]
    panel = _Pipeline(style, bars)
    return _one_panel(panel, title, style, max(style.height_in, panel.height_in + 0.6))


pipeline_by_stage = _png_of(pipeline_by_stage_figure)


def response_histogram_figure(
    edges: Sequence[float],
    inside: Sequence[int],
    late: Sequence[int],
    *,
    sla_minutes: float | None,
    business_hours: bool,
    unanswered: int,
    title: str,
    style: ChartStyle = DEFAULT_STYLE,
) -> Figure:
    """Answered leads by clock time to first response (pre-binned, log-spaced `edges`), each
    coloured by its own SLA outcome; the SLA line only when it is clock time too."""
    if not (any(inside) or any(late)):
        figure = _empty(title, "No answered leads in this period", style)
        if unanswered:
            figure.axes[0].set_xlabel(
                f"Not shown: {plural(unanswered, 'unanswered lead')}", fontsize=style.font_size
            )
        return figure
    panel = _Response(
        style, list(edges), list(inside), list(late), sla_minutes, business_hours, unanswered
    )
    return _one_panel(panel, title, style, style.height_in)


response_histogram = _png_of(response_histogram_figure)


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


def team_attainment_figure(
    reps: Sequence[str],
    attainment: Sequence[float],
    *,
    expected: float,
    title: str,
    without_quota: int = 0,
    style: ChartStyle = DEFAULT_STYLE,
) -> Figure:
    """Quota attainment by rep (best on top) with the 100% line and, while the period runs,
    the pace line at `expected` (`kpi.pace.elapsed_share`); reps behind pace in red."""
    if not reps:
        return _empty(title, "No rep has a quota for this period", style)
    rows = sorted(zip(reps, attainment, strict=True), key=lambda row: -row[1])
    panel = _Attainment(style, rows, expected, without_quota)
    return _one_panel(panel, title, style, max(3.0, panel.height_in + 0.6))


team_attainment = _png_of(team_attainment_figure)


# The digest's composite chart. Each panel draws itself before the layout and places its value
# labels after it, when the panel's size in pixels is known: a label then goes where it fits
# (outside a bar's end, inside it, or past a reference line) and never on a line or another label.


class ChartError(Exception):
    """A chart could not be drawn: the caller sends its message without it and says so."""


def digest_chart(facts: ChartFacts, style: ChartStyle | None = None) -> bytes:
    """The digest's one PNG: quota attainment by rep, open pipeline by stage, lead response vs
    the SLA and won vs the previous period, each panel left out when it has nothing to show
    ("no activity this period" when none has). Raises `ChartError` if it cannot be drawn."""
    style = style or DEFAULT_STYLE
    try:
        buffer = io.BytesIO()
        # Light compression: quicker to write than the default, for a slightly larger file.
        _digest_figure(facts, style).savefig(
            buffer, format="png", dpi=style.dpi, pil_kwargs={"compress_level": 1}
        )
        return buffer.getvalue()
    except Exception as error:  # matplotlib fails in many ways; the caller needs to catch one
        raise ChartError(f"the digest chart of {facts.team} could not be drawn: {error}") from error


_TITLE_IN = 0.5  # the figure's title row
_Handle = Artist | Container  # what a legend shows an entry for
_PAD_PT = 3.0  # between a bar's end and its label
_MARKER_PT = 2.5  # a quota marker's line width
_NAME_CHARS = 22  # a rep's name longer than this is shortened with an ellipsis


def _digest_figure(facts: ChartFacts, style: ChartStyle = DEFAULT_STYLE) -> Figure:
    """The digest chart as a Figure, laid out and labelled (what `digest_chart` saves)."""
    title = f"{facts.team} · {facts.period}"
    panels = _digest_panels(facts, style)
    if not panels:
        return _quiet_figure(title, style)
    columns = _columns(panels)
    tallest = max(sum(panel.height_in for panel in column) for column in columns)
    figure = Figure(
        figsize=(style.digest_width_in, tallest + _TITLE_IN),
        dpi=style.dpi,
    )
    figure.set_layout_engine("none")  # laid out once, below: the labels are fitted to that
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.suptitle(title, x=0.012, ha="left", fontsize=style.title_size + 2, fontweight="bold")
    grid = figure.add_gridspec(1, len(columns))
    drawn: list[tuple[_Panel, Axes, list[_Handle]]] = []
    for index, column in enumerate(columns):
        cells = grid[index].subgridspec(len(column), 1, height_ratios=[p.height_in for p in column])
        for row, panel in enumerate(column):
            # A gridspec of its own per panel: its margins fit its own labels, not its column's.
            cell = cells[row].subgridspec(1, 1)[0]
            axes, handles = _draw_panel(figure, cell, panel, panel.title, style, renderer)
            drawn.append((panel, axes, handles))
    ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.1, wspace=0.08, hspace=0.06).execute(figure)
    for panel, axes, handles in drawn:
        panel.label(axes, renderer)
        _legend(axes, style, handles)
    return figure


def _draw_panel(
    figure: Figure,
    cell: SubplotSpec,
    panel: _Panel,
    title: str,
    style: ChartStyle,
    renderer: RendererBase,
) -> tuple[Axes, list[_Handle]]:
    """The panel drawn into a new axes at `cell` under `title`, before the layout."""
    axes = figure.add_subplot(cell)
    _plain(axes, style)
    handles = panel.draw(axes, renderer)
    _title(axes, style, title, legend=bool(handles))
    for axis in (axes.xaxis, axes.yaxis):
        if not axis.label.get_text():  # then its ticks need not be measured to place it
            axis.set_label_coords(0.5, 0.5)
    return axes, handles


def _digest_panels(facts: ChartFacts, style: ChartStyle) -> list[_Panel]:
    """The panels that have something to show, in reading order."""
    bins = len(facts.response_within)
    if len(facts.response_late) != bins or (bins and len(facts.response_edges) != bins + 1):
        raise ValueError("response bins: need one more edge than counts, and as many late counts")
    if facts.won_previous and len(facts.won_previous) != len(facts.won_trend):
        raise ValueError("won_previous must have one value for each period of won_trend")
    panels: list[_Panel] = []
    quota = sorted(((n, a) for n, a in facts.attainment if a is not None), key=lambda r: -r[1])
    if quota:
        without = len(facts.attainment) - len(quota)
        panels.append(
            _Attainment(style, quota, facts.expected_attainment, without, facts.line_unit)
        )
    stages = [stage for stage in facts.stages if stage.deals or stage.amount]
    if stages:
        panels.append(_Pipeline(style, stages))
    if any(facts.response_within) or any(facts.response_late):
        panels.append(
            _Response(
                style, facts.response_edges, facts.response_within, facts.response_late,
                facts.sla_minutes, facts.sla_business_hours, facts.unanswered,
            )
        )  # fmt: skip
    won = [amount for _, amount in facts.won_trend]
    previous = [amount for _, amount in facts.won_previous] or None
    if any(won) or any(previous or []):
        labels = [label for label, _ in facts.won_trend]
        panels.append(_WonTrend(style, labels, won, previous, facts.trend_running))
    return panels


def _columns(panels: list[_Panel]) -> list[list[_Panel]]:
    """Two columns of panels (one for a single panel), each panel into the shorter one."""
    if len(panels) == 1:
        return [panels]
    columns: list[list[_Panel]] = [[], []]
    for panel in panels:
        min(columns, key=lambda column: sum(p.height_in for p in column)).append(panel)
    return columns


def _quiet_figure(title: str, style: ChartStyle) -> Figure:
    """What the digest chart shows for a period without anything to draw."""
    figure = Figure(
        figsize=(style.digest_width_in, 2.0), dpi=style.dpi,
        layout=ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.12),
    )  # fmt: skip
    FigureCanvasAgg(figure)
    figure.suptitle(title, x=0.012, ha="left", fontsize=style.title_size + 2, fontweight="bold")
    axes = figure.add_subplot()
    _no_data(axes, style, "No activity this period")
    axes.text(
        0.5, 0.2, "No quota attainment, open pipeline, answered leads or won deals to chart.",
        ha="center", va="center", fontsize=style.font_size, color=style.reference,
        transform=axes.transAxes,
    )  # fmt: skip
    return figure


class _Panel(ABC):
    """One panel of the digest chart: drawn before the layout, labelled after it."""

    title: str

    @property
    @abstractmethod
    def height_in(self) -> float:
        """The height the panel needs, title and axis included."""

    @abstractmethod
    def draw(self, axes: Axes, renderer: RendererBase) -> list[_Handle]:
        """Draw the data and the reference lines (before the layout: `renderer` measures
        text, not the axes); return the legend's handles."""

    @abstractmethod
    def label(self, axes: Axes, renderer: RendererBase) -> None:
        """Set the limits and place the value labels, now that the axes have their size."""


def _title(axes: Axes, style: ChartStyle, title: str, legend: bool) -> None:
    """The panel's title, with room under it for a legend (see `_legend`)."""
    axes.set_title(
        title, loc="left", fontsize=style.font_size + 1, fontweight="bold",
        pad=(style.font_size - 1) * 2.4 if legend else 6,
        y=1.0,  # a fixed place (nothing is drawn above the axes), not measured at every draw
    )  # fmt: skip


def _legend(axes: Axes, style: ChartStyle, handles: Sequence[_Handle]) -> None:
    """The panel's legend in one row between its title and the plot, where it never covers the
    data; the title's pad made its room, so the legend is added after the layout."""
    if handles:
        axes.legend(
            handles=handles, loc="lower left", bbox_to_anchor=(0, 1), ncols=len(handles),
            frameon=False, fontsize=style.font_size - 1, borderaxespad=0.2, borderpad=0.2,
            handlelength=1.4, handletextpad=0.5, columnspacing=1.2,
        )  # fmt: skip


def _px(axes: Axes, points: float) -> float:
    return points * axes.figure.dpi / 72


def _extent(text: Text, renderer: RendererBase) -> tuple[float, float]:
    """Width and height of a text in pixels."""
    box = text.get_window_extent(renderer)
    return box.width, box.height


def _fits(span: tuple[float, float], room: float, lines: Sequence[float], gap: float) -> bool:
    """True when the span (pixels from the axes' left) lies inside [0, room] and clear of every
    vertical line, by `gap` pixels."""
    left, right = span
    return (
        gap <= left and right <= room - gap and not any(left - gap < x < right + gap for x in lines)
    )


def _shorten(name: str) -> str:
    return name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1].rstrip() + "…"


def _frozen_ticks(axes: Axes, top: float, integer: bool = False) -> None:
    """Fix the y ticks the layout is computed with, so later limits cannot add wider ones."""
    locator = MaxNLocator(nbins=4, integer=integer)
    ticks = [tick for tick in locator.tick_values(0, top) if 0 <= tick <= top]
    axes.yaxis.set_major_locator(FixedLocator(ticks))


@dataclass
class _Attainment(_Panel):
    """Quota attainment QTD by rep: bars best first, the 100% line and the pace line."""

    title = "Quota attainment, quarter to date"
    style: ChartStyle
    reps: list[tuple[str, float]]  # best first
    expected: float
    without_quota: int
    unit: str = "rep"  # what a bar is (a rep, or a team)

    @property
    def height_in(self) -> float:
        return (len(self.reps) + 1) * self.style.digest_row_in + 1.3

    @property
    def pace(self) -> float | None:
        """Where the pace line goes: none once the quarter is over (pace is then 100%)."""
        return self.expected if 0 < self.expected < 1 else None

    def _colour(self, value: float) -> str:
        if value >= 1:
            return self.style.good
        return self.style.bad if value < self.expected else self.style.primary

    def draw(self, axes: Axes, renderer: RendererBase) -> list[_Handle]:
        style, count = self.style, len(self.reps)
        values = [value for _, value in self.reps]
        rows = [count - 1 - i for i in range(count)]  # the best rep on top
        axes.barh(rows, values, height=0.68, color=[self._colour(v) for v in values])
        axes.set_yticks(rows, [_shorten(name) for name, _ in self.reps])
        axes.tick_params(axis="y", left=False)
        axes.set_ylim(-0.6, count + 0.5)  # a row above the best rep for the lines' labels
        rough = max(1.0, *values) * 1.3
        axes.set_xlim(0, rough)
        step = 0.25 if rough <= 1.5 else 0.5 if rough <= 3 else 1.0
        axes.xaxis.set_major_locator(FixedLocator([i * step for i in range(int(rough / step) + 1)]))
        axes.xaxis.set_major_formatter(_ticks(Unit.PERCENT))
        axes.grid(axis="x", color=style.grid)
        axes.axvline(1.0, color=style.reference, linestyle="--", linewidth=1.3, gid="quota-line")
        if self.pace is not None:
            axes.axvline(self.pace, color=style.accent, linestyle=":", linewidth=2, gid="pace-line")
        kinds = [
            (style.bad, "Behind pace" if self.pace is not None else "Below quota"),
            (style.primary, "On pace"),
            (style.good, "At quota"),
        ]
        if self.without_quota:
            axes.set_xlabel(
                f"Not shown: {plural(self.without_quota, self.unit)} without a quota",
                fontsize=style.font_size - 1, color=style.reference,
            )  # fmt: skip
        used = {self._colour(v) for v in values}
        return [Patch(color=c, label=text) for c, text in kinds if c in used]

    def label(self, axes: Axes, renderer: RendererBase) -> None:
        style, count = self.style, len(self.reps)
        size, pad = style.font_size - 1, _px(axes, _PAD_PT)
        values = [value for _, value in self.reps]
        texts = [
            axes.text(0, count - 1 - i, value_label("quota_attainment", v), va="center",
                      fontsize=size, color=style.text, gid="value-label")
            for i, v in enumerate(values)
        ]  # fmt: skip
        quota = axes.text(
            0, count, f"{fmt(1.0, Unit.PERCENT)} of quota", va="center", fontsize=size,
            color=style.reference,
        )  # fmt: skip
        widths = [_extent(text, renderer)[0] for text in texts]
        room = axes.bbox.width
        # The view must hold each label past its bar, any label past the 100% line (where one
        # goes when nothing else fits) and the 100% line's own label.
        needs = [*zip(values, widths, strict=True), (1.0, max(widths))]
        needs.append((1.0, _extent(quota, renderer)[0]))
        pace_text = None
        if self.pace is not None:
            pace_text = axes.text(
                0, count, f"{value_label('quota_attainment', self.pace)} expected by now",
                va="center", fontsize=size, color=style.accent, gid="pace-label",
            )  # fmt: skip
            needs.append((self.pace, _extent(pace_text, renderer)[0]))
        right = max(max(1.0, *values) * 1.04, *(v * room / (room - 3 * pad - w) for v, w in needs))
        axes.set_xlim(0, right)
        scale = room / right
        lines = [1.0 * scale] + ([self.pace * scale] if self.pace is not None else [])
        for text, value, width in zip(texts, values, widths, strict=True):
            end = value * scale
            spans = [(end + pad, end + pad + width), (end - pad - width, end - pad)]
            spans += [(x + pad, x + pad + width) for x in sorted(lines) if x > end]
            left = next((s for s in spans if _fits(s, room, lines, pad)), spans[-1])[0]
            text.set_x(left / scale)
            if left < end:
                text.set_color("white")
        quota.set_x((scale + pad) / scale)
        if pace_text is not None:
            self._place_pace(axes, pace_text, renderer, scale, pad)

    def _place_pace(
        self, axes: Axes, text: Text, renderer: RendererBase, scale: float, pad: float
    ) -> None:
        """Beside the pace line in the labels' row, left of it if there is room, else right of
        it short of the 100% line; else right of it a row higher, over a shortened 100% line."""
        assert self.pace is not None
        count, room, width = len(self.reps), axes.bbox.width, _extent(text, renderer)[0]
        x = self.pace * scale
        left, right = (x - pad - width, x - pad), (x + pad, x + pad + width)
        if _fits(left, room, [scale], pad):
            text.set_x(left[0] / scale)
        elif _fits(right, room, [scale], pad):
            text.set_x(right[0] / scale)
        else:
            text.set_position((right[0] / scale, count + 1))
            low, high = -0.6, count + 1.5
            axes.set_ylim(low, high)
            for line in axes.get_lines():
                if line.get_gid() == "quota-line":
                    line.set_ydata([0, (count + 0.5 - low) / (high - low)])


@dataclass
class _Pipeline(_Panel):
    """Open pipeline by stage: the amount as a light bar, the weighted amount inside it."""

    title = "Open pipeline by stage"
    style: ChartStyle
    stages: list[StageBar]  # in pipeline order

    @property
    def height_in(self) -> float:
        return 0.42 * len(self.stages) + 1.2

    def draw(self, axes: Axes, renderer: RendererBase) -> list[_Handle]:
        style, count = self.style, len(self.stages)
        rows = [count - 1 - i for i in range(count)]  # the first stage on top
        amounts = [stage.amount for stage in self.stages]
        axes.barh(rows, amounts, height=0.74, color=style.secondary, label="Open amount")
        axes.barh(
            rows, [stage.weighted for stage in self.stages], height=0.4, color=style.primary,
            label="Weighted",
        )  # fmt: skip
        names = [f"{stage.stage}\n{plural(stage.deals, 'deal')}" for stage in self.stages]
        axes.set_yticks(rows, names)
        axes.tick_params(axis="y", left=False)
        axes.set_ylim(-0.6, count - 0.4)
        axes.set_xlim(0, max(amounts) * 1.4 or 1.0)
        axes.xaxis.set_visible(False)  # every bar carries its value
        axes.spines["bottom"].set_visible(False)
        return list(axes.get_legend_handles_labels()[0])

    def label(self, axes: Axes, renderer: RendererBase) -> None:
        style, size, pad = self.style, self.style.font_size - 1, _px(axes, _PAD_PT)
        count, room = len(self.stages), axes.bbox.width
        labels = []  # (amount label, its width, weighted label, its width) per stage
        for i, stage in enumerate(self.stages):
            amount, weighted = (
                axes.text(0, count - 1 - i, value_label(key, value), va="center", fontsize=size,
                          color=colour, gid="value-label")
                for key, value, colour in (
                    ("open_pipeline_value", stage.amount, style.text),
                    ("weighted_pipeline_value", stage.weighted, style.primary),
                )
            )  # fmt: skip
            labels.append(
                (amount, _extent(amount, renderer)[0], weighted, _extent(weighted, renderer)[0])
            )
        # The weighted amount goes inside its bar, else on the light bar past it, else after the
        # amount's label; widen the view until every label put after the amount's fits.
        after: set[int] = set()
        while True:
            right = 1.0  # dollars: the view when every stage is at $0
            for i, (stage, (_, width, _, own)) in enumerate(zip(self.stages, labels, strict=True)):
                reserved = 3 * pad + width + (own + 2 * pad if i in after else 0)
                right = max(right, stage.amount * room / (room - reserved))
            scale = room / right
            places = [
                _weighted_place(stage.amount * scale, stage.weighted * scale, width, own, pad)
                for stage, (_, width, _, own) in zip(self.stages, labels, strict=True)
            ]
            crowded = {i for i, (where, _) in enumerate(places) if where == "after"}
            if crowded <= after:
                break
            after |= crowded
        axes.set_xlim(0, right)
        for stage, (amount, _, weighted, _), (where, left) in zip(
            self.stages, labels, places, strict=True
        ):
            amount.set_x((stage.amount * scale + pad) / scale)
            weighted.set_x(left / scale)
            if where == "inside":
                weighted.set_color("white")


def _weighted_place(
    outer: float, inner: float, width: float, own: float, pad: float
) -> tuple[str, float]:
    """Where a stage's weighted label goes (pixels from the axes' left): "inside" the weighted
    bar's end, "over" the light bar past it, or "after" the amount's label (`width` wide) past
    the light bar's end (`outer`)."""
    if inner - pad - own >= pad:
        return "inside", inner - pad - own
    if inner + pad + own <= outer - pad:
        return "over", inner + pad
    return "after", outer + pad + width + 2 * pad


@dataclass
class _Response(_Panel):
    """Answered leads by clock time to first response (log bins), within SLA and late stacked:
    each lead coloured by its own SLA outcome. The SLA target is a line only when it counts
    clock time, as the axis does; an SLA in business minutes is said in words instead."""

    title = "Lead response"
    style: ChartStyle
    edges: list[float]  # minutes, one more than the counts
    within: list[int]  # leads per bin answered within their SLA
    late: list[int]  # leads per bin answered late
    sla_minutes: float | None  # the target, when every policy has the same one
    business_hours: bool  # the target counts business minutes
    unanswered: int  # leads of the period still without a response (not in the bins)

    @property
    def height_in(self) -> float:
        return 2.6 + 0.16 * (len(self._notes()) - 1)

    def _sla_line(self) -> float | None:
        """Where the SLA line goes: only for a clock-time target, in the axis' own units."""
        return None if self.business_hours else self.sla_minutes

    def _notes(self) -> list[str]:
        """The x axis label's lines: the axis, how the colours are decided, what is left out."""
        notes = ["Clock time to first response (log scale)"]
        if self.sla_minutes is None:
            notes.append("SLA targets differ by lead source: colour is each lead's own result")
        elif self.business_hours:
            notes.append(
                f"SLA counts business minutes ({fmt(self.sla_minutes, Unit.MINUTES)}): "
                "colour is each lead's own result"
            )
        if self.unanswered:
            notes.append(f"Not shown: {plural(self.unanswered, 'unanswered lead')}")
        return notes

    def _bins(self) -> tuple[list[float], list[float], list[int], list[int]]:
        """Left and right edges, within SLA and late counts, of the bins from the first
        with a lead to the last."""
        within, late, edges = self.within, self.late, self.edges
        used = [i for i in range(len(within)) if within[i] or late[i]]
        first, last = used[0], used[-1] + 1
        return edges[first:last], edges[first + 1 : last + 1], within[first:last], late[first:last]

    def draw(self, axes: Axes, renderer: RendererBase) -> list[_Handle]:
        style = self.style
        lefts, rights, ins, lts = self._bins()
        edges = [*lefts, rights[-1]]  # the bins are contiguous: one filled outline per series
        tops = [i + j for i, j in zip(ins, lts, strict=True)]
        bars: list[_Handle] = [
            axes.stairs(ins, edges, fill=True, color=style.good,
                        label=f"Within SLA ({fmt(sum(ins), Unit.COUNT)})"),
            axes.stairs(tops, edges, baseline=ins, fill=True, color=style.bad,
                        label=f"Late ({fmt(sum(lts), Unit.COUNT)})"),
        ]  # fmt: skip
        sla = self._sla_line()
        low = min(lefts[0], sla or lefts[0]) / 1.5
        high = max(rights[-1], sla or rights[-1]) * 1.5
        axes.set_xscale("log")
        axes.set_xlim(low, high)
        ticks = [t for t in _MINUTE_TICKS[1:] if low <= t <= high]  # 30 s crowds 1 min
        axes.xaxis.set_major_locator(FixedLocator(ticks))
        axes.xaxis.set_minor_locator(NullLocator())
        axes.xaxis.set_major_formatter(_ticks(Unit.MINUTES))
        top = max(tops) * 1.1
        axes.set_ylim(0, top)
        _frozen_ticks(axes, top, integer=True)
        axes.set_ylabel("Leads", fontsize=style.font_size - 1)
        axes.grid(axis="y", color=style.grid)
        if sla is not None:
            axes.axvline(sla, color=style.reference, linestyle="--", linewidth=1.5, gid="sla-line")
        axes.set_xlabel("\n".join(self._notes()), fontsize=style.font_size - 1)
        return bars

    def label(self, axes: Axes, renderer: RendererBase) -> None:
        """The SLA line's label at its top, beside it (right if there is room), above the bars
        it passes over."""
        sla = self._sla_line()
        if sla is None:
            return
        style, pad = self.style, _px(axes, _PAD_PT)
        low, top = axes.get_ylim()
        text = axes.annotate(
            f"SLA {fmt(sla, Unit.MINUTES)}", (sla, top), xytext=(_PAD_PT, -_PAD_PT),
            textcoords="offset points", va="top", fontsize=style.font_size - 1,
            color=style.reference, gid="sla-label",
        )  # fmt: skip
        width, height = _extent(text, renderer)
        line = _x_px(axes, sla)
        span = (line + pad, line + pad + width)
        if span[1] > axes.bbox.width - pad:  # no room right of the line: left of it
            span = (line - pad - width, line - pad)
            text.set(ha="right", position=(-_PAD_PT, -_PAD_PT))
        lefts, rights, ins, lts = self._bins()
        under = [
            i + j
            for left, right, i, j in zip(lefts, rights, ins, lts, strict=True)
            if _x_px(axes, left) < span[1] and span[0] < _x_px(axes, right)
        ]
        room = axes.bbox.height
        high = max(top, max(under, default=0) * room / (room - height - 3 * pad))
        axes.set_ylim(low, high)
        text.xy = (sla, high)


def _x_px(axes: Axes, x: float) -> float:
    """A data x in pixels from the axes' left."""
    return float(axes.transData.transform((x, 0))[0] - axes.bbox.x0)


@dataclass
class _WonTrend(_Panel):
    """Won per period, oldest first, beside the period before each or against each period's
    quota (a marker on the same dollar axis, the attainment in the label); a running period is
    hatched and says "to date"."""

    title = "Won, vs the period before"
    style: ChartStyle
    labels: list[str]
    won: list[float]
    previous: list[float] | None
    running: bool
    quota: list[float | None] | None = None
    attainment: list[float | None] | None = None  # won / quota, as the KPI computes it

    @property
    def height_in(self) -> float:
        return 2.6

    def _positions(self) -> tuple[list[float], float]:
        """Where the current bars stand, and how wide they are."""
        if self.previous is None:
            return [float(i) for i in range(len(self.won))], 0.6
        return [i + 0.2 for i in range(len(self.won))], 0.38

    def _quota_marks(self) -> tuple[list[tuple[float, float]], float]:
        """Each quota marker's centre and height (a period without a quota has none), and how
        far it reaches either side of its centre."""
        positions, width = self._positions()
        quota = self.quota or [None] * len(positions)
        return [(x, q) for x, q in zip(positions, quota, strict=True) if q], width / 2 + 0.08

    def _tick_labels(self, axes: Axes, renderer: RendererBase) -> list[str]:
        """The periods' labels; on two lines ("2026" over "W47") when one line each would
        crowd the axis, judged on the axes' width before the layout (narrower than after)."""
        if any("\n" in label for label in self.labels):  # already laid out on lines
            return list(self.labels)
        font = FontProperties(size=self.style.font_size)
        widest = max(
            renderer.get_text_width_height_descent(label, font, ismath=False)[0]
            for label in self.labels
        )
        spacing = axes.get_position().width * axes.figure.bbox.width / len(self.labels)
        if widest <= spacing - _px(axes, 2 * _PAD_PT):
            return list(self.labels)
        return [label.replace("-", "\n", 1) for label in self.labels]

    def draw(self, axes: Axes, renderer: RendererBase) -> list[_Handle]:
        style = self.style
        positions, width = self._positions()
        handles: list[_Handle] = []
        if self.previous is not None:
            handles.append(axes.bar(
                [i - 0.2 for i in range(len(self.won))], self.previous, width, color=style.muted,
                label="Period before",
            ))  # fmt: skip
        bars = axes.bar(positions, self.won, width, color=style.primary, label="Won")
        handles.insert(0, bars)
        ticks = self._tick_labels(axes, renderer)
        if self.running:
            partial = bars.patches[-1]
            partial.set(
                facecolor=style.secondary,
                edgecolor=style.primary,
                hatch="////",
                gid="running-period",
            )
            ticks[-1] = f"{ticks[-1]}\nto date"
            handles.append(Patch(facecolor=style.secondary, edgecolor=style.primary, hatch="////",
                                 label="To date"))  # fmt: skip
        quotas, reach = self._quota_marks()
        if quotas:
            axes.hlines(
                [q for _, q in quotas], [x - reach for x, _ in quotas],
                [x + reach for x, _ in quotas], color=style.reference, linewidth=_MARKER_PT,
                gid="quota-marker",
            )  # fmt: skip
            handles.append(
                Line2D([], [], color=style.reference, linewidth=_MARKER_PT, label="Quota")
            )
        elif self.quota is not None:
            axes.set_xlabel("No quota lies inside these periods", fontsize=style.font_size - 1)
        axes.set_xticks(range(len(ticks)), ticks)
        axes.set_xlim(-0.55, len(ticks) - 0.45)
        axes.tick_params(axis="x", bottom=False)
        top = max([*self.won, *(self.previous or []), *(q for _, q in quotas)]) * 1.25 or 1.0
        axes.set_ylim(0, top)
        _frozen_ticks(axes, top)
        axes.yaxis.set_major_formatter(_ticks(Unit.MONEY))
        axes.grid(axis="y", color=style.grid)
        return handles

    def label(self, axes: Axes, renderer: RendererBase) -> None:
        """Each period's won amount (and attainment) on its own bar, upright while it fits the
        pair's width: above the bar where that is clear of every bar, quota marker and label
        (past the period before's bar if need be), else inside the bar's top (turned if only
        so it fits), else above all the pair draws. Never just over a quota marker or the
        period before's bar, where it would read as theirs."""
        style, pad = self.style, _px(axes, _PAD_PT)
        count = len(self.won)
        positions = self._positions()[0]
        tops = [
            max(won, before, quota or 0.0)
            for won, before, quota in zip(
                self.won, self.previous or self.won, self.quota or [None] * count, strict=True
            )
        ]
        shares = self.attainment or [None] * count
        texts = [
            axes.text(x, 0, _won_label(won, share), ha="center", va="bottom",
                      fontsize=style.font_size - 1, color=style.text, gid="value-label")
            for x, won, share in zip(positions, self.won, shares, strict=True)
        ]  # fmt: skip
        left, right = axes.get_xlim()
        spacing = axes.bbox.width / (right - left)
        if max(_extent(text, renderer)[0] for text in texts) > spacing - pad:
            for text in texts:
                text.set_rotation(90)
        room = axes.bbox.height
        sizes = [_extent(text, renderer) for text in texts]
        high = max(
            max(tops) * 1.05,
            *(t * room / (room - 3 * pad - h) for t, (_, h) in zip(tops, sizes, strict=True)),
        )
        least = high * (max(sizes[-1]) + 3 * pad) / room  # the least won its label fits in
        if self.previous and self.won[-1] < min(self.previous[-1], least):
            # The last label fits neither over its bar nor in it, only past the period before's
            # bar: widen the view to hold it there.
            share = (sizes[-1][0] + 2 * pad) / axes.bbox.width
            edge = count - 1.2 + self._positions()[1] / 2  # the last period before's bar ends
            axes.set_xlim(left, max(right, (edge - share * left) / (1 - share)))
        for _ in range(8):  # a label stacked over another may need a taller view
            axes.set_ylim(0, high)
            spots = self._spots(axes, renderer, sizes, tops, pad)
            over = max(box.y1 for box, _, _ in spots)
            if over <= axes.bbox.y1 - pad:
                break
            high *= room / (room - (over - axes.bbox.y1) - 2 * pad)
        bars = axes.patches[-count:]  # the won bars, drawn after the periods before
        for text, (box, inside, turned), bar in zip(texts, spots, bars, strict=True):
            x, y = axes.transData.inverted().transform(((box.x0 + box.x1) / 2, box.y0))
            text.set_position((float(x), float(y)))
            if inside and bar.get_hatch() is None:
                text.set_color("white")
            elif inside:  # on a plain patch over the hatching, to stay legible
                text.set_bbox({"facecolor": style.secondary, "edgecolor": "none", "pad": 1})
            if turned:  # to fit inside its bar
                text.set_rotation(90 - text.get_rotation())

    def _spots(
        self,
        axes: Axes,
        renderer: RendererBase,
        sizes: Sequence[tuple[float, float]],
        tops: Sequence[float],
        pad: float,
    ) -> list[tuple[Bbox, bool, bool]]:
        """Each label's box at the axes' current limits (display pixels), whether it is inside
        its bar and whether it is turned a quarter to fit there; see `label`."""
        count = len(self.won)
        quotas, reach = self._quota_marks()
        thick = _px(axes, _MARKER_PT) / 2 + 1
        to_px = axes.transData.transform
        taken = [patch.get_window_extent(renderer) for patch in axes.patches]
        for x, q in quotas:
            (x0, y), (x1, _) = to_px([(x - reach, q), (x + reach, q)])
            taken.append(Bbox.from_extents(x0, y - thick, x1, y + thick))
        first = len(axes.patches) - count  # the won bars, drawn after the periods before
        spots: list[tuple[Bbox, bool, bool]] = []
        for i, (w, h) in enumerate(sizes):
            own = taken[first + i]
            others = [box for k, box in enumerate(taken) if k != first + i]
            centre, above = (own.x0 + own.x1) / 2, own.y1 + pad
            last = axes.bbox.x1 - 1 - w / 2  # the rightmost centre inside the axes
            places = [(_box(min(centre, last), above, w, h), False, False)]
            if self.previous is not None:  # just past the period before's bar
                beside = min(max(centre, taken[i].x1 + pad + w / 2), last)
                places.append((_box(beside, above, w, h), False, False))
            for width, height, turned in ((w, h, False), (h, w, True)):
                if width <= own.width - 2 and own.y1 - pad - height >= own.y0 + pad:
                    inside = _box(centre, own.y1 - pad - height, width, height)
                    places.append((inside, True, turned))
            spot = next((p for p in places if _clear(p[0], axes, others)), None)
            if spot is None:  # above all the pair draws, and over any label in the way
                y = float(to_px((0, tops[i]))[1]) + pad
                while hits := [b for b in others if _box(centre, y, w, h).overlaps(b)]:
                    y = max(b.y1 for b in hits) + pad
                spot = (_box(centre, y, w, h), False, False)
            spots.append(spot)
            taken.append(spot[0])
        return spots


def _box(centre: float, bottom: float, width: float, height: float) -> Bbox:
    """A label's box in display pixels, from its centre's x and its bottom."""
    return Bbox.from_extents(centre - width / 2, bottom, centre + width / 2, bottom + height)


def _clear(box: Bbox, axes: Axes, taken: Sequence[Bbox]) -> bool:
    """True when `box` lies within the axes and touches none of `taken`."""
    inside = axes.bbox.x0 <= box.x0 and box.x1 <= axes.bbox.x1 and box.y1 <= axes.bbox.y1
    return inside and not any(box.overlaps(other) for other in taken)


def _won_label(won: float, attainment: float | None) -> str:
    """A trend bar's label: the won amount, and its share of quota when there is one."""
    text = value_label("won_amount", won)
    if attainment is None:
        return text
    return f"{text}\n{value_label('quota_attainment', attainment)} of quota"
