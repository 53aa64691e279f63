"""Charts are drawn when first read, once, so a text answer never waits for matplotlib."""

from commands.kit.reply import Chart


def test_a_chart_is_drawn_on_first_read_and_only_once() -> None:
    drawn: list[int] = []

    def render() -> bytes:
        drawn.append(1)
        return b"\x89PNG"

    chart = Chart("c.png", "A chart", render)
    assert drawn == []
    assert chart.png == chart.png == b"\x89PNG"
    assert drawn == [1]
