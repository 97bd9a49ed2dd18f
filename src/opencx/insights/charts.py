"""Chart specifications for static/insights/charts.js: plain dicts rendered with json_script.

Every chart also has its data as a table on the page, so nothing depends on JavaScript.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .exports import Table
from .facade import TrendPoint


def _round(value):
    return None if value is None else round(value, 1)


def band_chart(
    *,
    label: str,
    points: Sequence[TrendPoint],
    kind: str,
    href: Callable[[TrendPoint], str] | None = None,
    x_label: Callable[[TrendPoint], str] = lambda point: point.month.strftime("%b %Y"),
) -> dict:
    """A line with its 95% interval as a band; n in the tooltip, thin points marked."""
    return {
        "type": "band",
        "label": label,
        "min": None,  # the axis fits the band: small moves stay readable, the band shows noise
        "max": None,
        "unit": "" if kind == "nps" else "%",
        "points": [
            {
                "x": x_label(point),
                "y": _round(point.score.value),
                "low": _round(point.score.ci_low),
                "high": _round(point.score.ci_high),
                "n": point.score.n,
                "thin": point.is_thin,
                "href": href(point) if href else "",
            }
            for point in points
        ],
    }


def bar_chart(
    *,
    label: str,
    bars: Sequence[dict],
    unit: str = "",
    horizontal: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> dict:
    """Bars with an interval whisker each: bars are dicts with x, y, low, high, n, href."""
    return {
        "type": "bar",
        "label": label,
        "unit": unit,
        "horizontal": horizontal,
        "min": minimum,
        "max": maximum,
        "points": [
            {
                "x": bar["x"],
                "y": _round(bar.get("y")),
                "low": _round(bar.get("low")),
                "high": _round(bar.get("high")),
                "n": bar.get("n"),
                "thin": bool(bar.get("thin")),
                "href": bar.get("href", ""),
            }
            for bar in bars
        ],
    }


@dataclass(frozen=True)
class ChartBlock:
    """A chart with its data table (the same rows the export holds) and drill-down links."""

    id: str
    title: str
    spec: dict
    table: Table
    note: str = ""
    tall: bool = False
    wide: bool = False

    @property
    def rows(self) -> list[tuple[str, list]]:
        """(href, display cells) per table row; None shows as a dash, booleans as yes/no."""
        points = self.spec.get("points", [])
        result = []
        for index, row in enumerate(self.table.rows):
            href = points[index].get("href", "") if index < len(points) else ""
            result.append((href, [_display(cell) for cell in row]))
        return result


def _display(cell):
    if cell is None:
        return "—"
    if isinstance(cell, bool):
        return "yes" if cell else ""
    return cell
