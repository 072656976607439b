"""Reads for the questionnaires on the patient's page: what is waiting to be answered,
the one a link asks for, and each score told back to the patient in plain words."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format

from outcomes.charts import ScoreChart, score_chart
from outcomes.models import Response, Schedule
from outcomes.selectors import Due, Measure, due_for, measures_for
from prescriptions.models import ProgramLink


def waiting(link: ProgramLink, *, now: datetime.datetime | None = None) -> list[Due]:
    """The questionnaires this link's program asks the patient for now."""
    if link.prescription is None:
        return []
    return due_for(link.prescription, now=now)


def schedule_of(link: ProgramLink, pk: int) -> Schedule | None:
    """A schedule of the program the link shows (stopped or not), or ``None`` for any
    other id: one of another program is as unknown as one that never existed."""
    if link.prescription is None:
        return None
    return (
        Schedule.objects.select_related("questionnaire")
        .filter(pk=pk, prescription=link.prescription)
        .first()
    )


def is_due(link: ProgramLink, schedule: Schedule) -> bool:
    """Whether the patient is asked for this schedule's questionnaire now (two
    schedules asking for one questionnaire are answered once)."""
    if schedule.stopped_at is not None or not schedule.questionnaire.is_active:
        return False
    return any(d.questionnaire.pk == schedule.questionnaire_id for d in waiting(link))


def answered_before(link: ProgramLink, schedule: Schedule) -> bool:
    return Response.objects.filter(
        patient_id=link.patient_id, questionnaire_id=schedule.questionnaire_id
    ).exists()


def number(value: Decimal, decimals: int) -> str:
    """A score as the measure counts it: ``7.7``, not ``7.70``."""
    return str(value.quantize(Decimal(1).scaleb(-decimals)))


def _day(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "j M")


def option_label(definition: dict, value: Decimal) -> str:
    """The words of the choice a score stands for (a rating of change has one item)."""
    for item in definition["items"]:
        for option in item.get("options") or []:
            if option["value"] == value:
                return option["label"]
    return ""


def sentence(measure: Measure) -> str:
    """The measure told back to the patient: where they started, where they are, and
    "better" only when the change is big enough to count (``Measure.verdict``)."""
    name = measure.questionnaire.short_title
    latest, baseline = measure.latest, measure.baseline
    assert latest is not None and baseline is not None
    decimals = measure.definition["scoring"]["decimals"]
    if measure.is_change_measure:
        label = option_label(measure.definition, latest.score) or number(latest.score, decimals)
        return f"{name}: “{label}” on {_day(latest.answered_at)}"
    now = number(latest.score, decimals)
    if len(measure.points) < 2:
        return f"{name}: {now} on {_day(latest.answered_at)}, your first answer"
    start = number(baseline.score, decimals)
    gain = measure.gain
    assert gain is not None
    if measure.verdict == "better":
        how = f"better by {number(gain, decimals)}"
    elif measure.verdict == "worse":
        how = f"worse by {number(-gain, decimals)}"
    else:
        how = "about the same"
    return f"{name}: {start} at the start, {now} now — {how}"


@dataclass
class Progress:
    measure: Measure
    chart: ScoreChart | None
    sentence: str

    @property
    def direction(self) -> str:
        """Which way is good, for the patient reading the chart."""
        if self.measure.is_change_measure:
            return "Above 0 is better, below 0 is worse."
        if self.measure.definition["scoring"]["higher_is_better"]:
            return "Higher is better."
        return "Lower is better."


def progress(link: ProgramLink) -> list[Progress]:
    """Each measure the patient has a score on, with its chart (one query)."""
    return [
        Progress(
            measure=measure,
            chart=score_chart(measure, key=f"progress-{measure.questionnaire.pk}"),
            sentence=sentence(measure),
        )
        for measure in measures_for(link.patient)
        if measure.points
    ]
