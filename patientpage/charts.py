"""Chart geometry for the staff pages: numbers only. The SVG itself is drawn by templates
(``templates/loop/``), so every word on a chart goes through the template's escaping,
and no script or library is needed to read it. Each chart's template also writes its
figures as a table, for screen readers and for anyone who would rather read numbers."""

from dataclasses import dataclass

from patientpage.loop import PainPoint, Week

# Plot area inside the SVG's viewBox (user units; the SVG scales to its container).
BAR_SLOT = 56
BAR_WIDTH = 30
PLOT_HEIGHT = 120
TOP = 22
LEFT = 34
BOTTOM = 36
PAIN_WIDTH = 300
# Where the dashboard starts asking for a call (``patientpage.followups.PAIN_HIGH``).
PAIN_ALERT = 7


@dataclass
class Bar:
    week: Week
    x: float
    width: float
    prescribed_y: float
    prescribed_height: float
    done_y: float
    done_height: float
    label_x: float


@dataclass
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[int, float]]
    left: int
    plot_right: int
    baseline: float


def adherence_chart(weeks: list[Week]) -> BarChart | None:
    """Sessions done (a filled bar) inside sessions prescribed (an outlined bar) per week:
    done and prescribed differ by shape as well as colour."""
    if not weeks:
        return None
    top = max(max(w.prescribed for w in weeks), max(w.done for w in weeks), 1)
    scale = PLOT_HEIGHT / top
    baseline = TOP + PLOT_HEIGHT
    bars = []
    for n, week in enumerate(weeks):
        x = LEFT + 10 + n * BAR_SLOT
        bars.append(
            Bar(
                week=week,
                x=x,
                width=BAR_WIDTH,
                prescribed_y=baseline - week.prescribed * scale,
                prescribed_height=week.prescribed * scale,
                done_y=baseline - week.done * scale,
                done_height=week.done * scale,
                label_x=x + BAR_WIDTH / 2,
            )
        )
    ticks = sorted({(value, baseline - value * scale) for value in (0, top // 2, top)})
    width = LEFT + 10 + len(weeks) * BAR_SLOT
    return BarChart(
        width=width,
        height=TOP + PLOT_HEIGHT + BOTTOM,
        bars=bars,
        ticks=ticks,
        left=LEFT,
        plot_right=width - 4,
        baseline=baseline,
    )


@dataclass
class Point:
    x: float
    y: float
    point: PainPoint

    @property
    def when(self):
        return self.point.day

    @property
    def value(self) -> int:
        return self.point.pain

    @property
    def shown(self) -> str:
        return f"pain {self.point.pain}"


@dataclass
class LineChart:
    width: int
    height: int
    points: list[Point]
    path: str
    ticks: list[tuple[int, float]]
    left: int
    right: int
    baseline: float
    alert_y: float
    ref_label: str = f"{PAIN_ALERT}: call"

    @property
    def axis(self) -> float:
        return self.baseline

    @property
    def ref_y(self) -> float:
        return self.alert_y


def pain_chart(points: list[PainPoint]) -> LineChart | None:
    """Pain 0–10 over time: a line through a marked point per session, placed by date."""
    if not points:
        return None
    right = PAIN_WIDTH - 16
    first, last = points[0].day, points[-1].day
    span = (last - first).days
    scale = PLOT_HEIGHT / 10
    baseline = TOP + PLOT_HEIGHT
    placed = []
    for n, point in enumerate(points):
        if span:
            x = LEFT + 12 + (right - LEFT - 12) * (point.day - first).days / span
        elif len(points) > 1:  # All on one day: spread them out in order.
            x = LEFT + 12 + (right - LEFT - 12) * n / (len(points) - 1)
        else:
            x = (LEFT + 12 + right) / 2
        placed.append(Point(x=round(x, 1), y=round(baseline - point.pain * scale, 1), point=point))
    path = " ".join(f"{p.x},{p.y}" for p in placed)
    return LineChart(
        width=PAIN_WIDTH,
        height=TOP + PLOT_HEIGHT + BOTTOM,
        points=placed,
        path=path,
        ticks=[(value, baseline - value * scale) for value in (0, 5, 10)],
        left=LEFT,
        right=right,
        baseline=baseline,
        alert_y=baseline - PAIN_ALERT * scale,
    )
