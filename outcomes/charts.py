"""Chart geometry for a measure's scores over time: numbers only. The SVG is drawn by
``templates/outcomes/partials/score_chart.html``, so every word goes through the
template's escaping, and the same figures are written out as a table beside it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from outcomes.selectors import Measure, Point
from outcomes.templatetags.outcome_tags import score

WIDTH = 300
TOP = 22
LEFT = 34
BOTTOM = 36
PLOT_HEIGHT = 120


@dataclass
class Placed:
    x: float
    y: float
    point: Point

    @property
    def when(self):
        return self.point.answered_at

    @property
    def value(self) -> str:
        return score(self.point.score)

    @property
    def shown(self) -> str:
        return self.value


@dataclass
class ScoreChart:
    key: str
    title: str
    measure: Measure
    width: int
    height: int
    points: list[Placed]
    path: str
    ticks: list[tuple[int, float]]
    left: int
    right: int
    baseline_y: float | None  # The first score's level, drawn across as the baseline.
    axis: float
    ref_label: str = "start"

    @property
    def ref_y(self) -> float | None:
        """The baseline, drawn once there is a later score to compare with it."""
        return self.baseline_y if len(self.points) > 1 else None


def score_chart(measure: Measure, *, key: str = "") -> ScoreChart | None:
    """The measure's scores placed by date between the ends of its scale; the first
    score drawn across as the line to compare with."""
    if not measure.points:
        return None
    low, high = (Decimal(v) for v in measure.score_range)
    span_value = (high - low) or Decimal(1)
    right = WIDTH - 16
    axis = TOP + PLOT_HEIGHT
    first, last = measure.points[0].answered_at, measure.points[-1].answered_at
    span = (last - first).total_seconds()

    def y_of(value: Decimal) -> float:
        return round(axis - float((value - low) / span_value) * PLOT_HEIGHT, 1)

    placed = []
    count = len(measure.points)
    for n, point in enumerate(measure.points):
        if span:
            share = (point.answered_at - first).total_seconds() / span
        else:  # All on one day: spread them out in order.
            share = n / (count - 1) if count > 1 else 0.5
        placed.append(
            Placed(round(LEFT + 12 + (right - LEFT - 12) * share, 1), y_of(point.score), point)
        )
    middle = low + (high - low) / 2
    ticks = [(int(v) if v == int(v) else v, y_of(v)) for v in (low, middle, high)]
    return ScoreChart(
        key=key or f"measure-{measure.questionnaire.pk}",
        title=measure.questionnaire.title,
        measure=measure,
        width=WIDTH,
        height=TOP + PLOT_HEIGHT + BOTTOM,
        points=placed,
        path=" ".join(f"{p.x},{p.y}" for p in placed),
        ticks=ticks,  # type: ignore[arg-type]
        left=LEFT,
        right=right,
        baseline_y=None if measure.is_change_measure else placed[0].y,
        axis=axis,
    )
