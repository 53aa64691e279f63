"""Checks on a drawn matplotlib Figure: what the PNG shows, measured with the renderer that
draws it (texts inside the figure, no two texts overlapping, texts over bars, artists found by
gid); a PNG's size from its header."""

from __future__ import annotations

import struct

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from salesops_core.charts import PNG_SIGNATURE


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR is the first chunk)."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def drawn(figure: Figure) -> Figure:
    """The figure drawn as the PNG is: tick labels get their final positions."""
    figure.canvas.draw()
    return figure


def drawn_texts(axes: Axes) -> list[Text]:
    """Every text the axes draw: title, axis labels, tick labels in view, legend, labels."""
    texts = [child for child in axes.get_children() if isinstance(child, Text)]
    for axis in (axes.xaxis, axes.yaxis):
        if not axis.get_visible():
            continue
        low, high = sorted(axis.get_view_interval())
        texts.append(axis.label)
        texts += [
            label
            for location, label in zip(axis.get_majorticklocs(), axis.get_ticklabels(), strict=True)
            if low <= location <= high
        ]
    legend = axes.get_legend()
    if legend is not None:
        texts += legend.get_texts()
    return [text for text in texts if text.get_visible() and text.get_text()]


def all_texts(figure: Figure) -> list[Text]:
    """The texts of every axes and of the figure itself (a suptitle, a figure legend)."""
    texts = [text for axes in figure.axes for text in drawn_texts(axes)]
    texts += [text for text in figure.texts if text.get_text()]
    for legend in figure.legends:
        texts += legend.get_texts()
    return texts


def extents(figure: Figure, texts: list[Text]) -> list[tuple[Text, Bbox]]:
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    return [(text, text.get_window_extent(renderer)) for text in texts]


def outside_figure(figure: Figure) -> list[str]:
    """The texts that stick out of the figure (none, in a chart worth sending)."""
    box = figure.bbox
    return [
        text.get_text()
        for text, extent in extents(figure, all_texts(figure))
        if not (box.x0 <= extent.x0 and extent.x1 <= box.x1)
        or not (box.y0 <= extent.y0 and extent.y1 <= box.y1)
    ]


def overlapping(figure: Figure) -> list[tuple[str, str]]:
    """Pairs of texts whose boxes overlap by more than a pixel."""
    placed = extents(figure, all_texts(figure))
    return [
        (text.get_text(), other.get_text())
        for i, (text, box) in enumerate(placed)
        for other, other_box in placed[i + 1 :]
        if box.padded(-1).overlaps(other_box.padded(-1))
    ]


def bars_under(figure: Figure, axes: Axes, text: Text) -> list[Rectangle]:
    """The bars of `axes` whose boxes a text's box overlaps by more than a pixel."""
    ((_, box),) = extents(figure, [text])
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    return [
        bar
        for bar in axes.patches
        if isinstance(bar, Rectangle)
        and bar.get_window_extent(renderer).padded(-1).overlaps(box.padded(-1))
    ]


def y_axes_with_ticks(figure: Figure) -> int:
    """How many y axes show tick labels (a twinx adds a second one)."""
    return sum(
        1
        for axes in figure.axes
        if axes.yaxis.get_visible() and any(label.get_text() for label in axes.get_yticklabels())
    )


def by_gid(axes: Axes, gid: str) -> list[object]:
    return [artist for artist in axes.get_children() if artist.get_gid() == gid]


def legend_texts(axes: Axes) -> list[str]:
    legend = axes.get_legend()
    return [] if legend is None else [text.get_text() for text in legend.get_texts()]
