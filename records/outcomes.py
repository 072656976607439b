"""Outcome measures on the patient's record: a panel per measure (chart, first and
latest score, the change against the minimal important change, each response) and one
response's answers as written. Two queries for the panel, however many answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.shortcuts import get_object_or_404

from clinic.models import Patient
from outcomes.charts import ScoreChart, score_chart
from outcomes.models import Response
from outcomes.selectors import Measure, measures_for

VERDICTS = {
    "better": "Better by the minimal important change",
    "worse": "Worse by the minimal important change",
    "same": "No important change yet",
}


@dataclass
class MeasurePanel:
    measure: Measure
    chart: ScoreChart | None
    responses: list[Response] = field(default_factory=list)

    @property
    def verdict_text(self) -> str:
        return VERDICTS.get(self.measure.verdict, "")


def outcome_panels(patient: Patient) -> list[MeasurePanel]:
    responses: dict[int, list[Response]] = {}
    for response in (
        Response.objects.filter(patient=patient)
        .select_related("entered_by")
        .order_by("-answered_at", "-pk")
    ):
        responses.setdefault(response.questionnaire_id, []).append(response)
    return [
        MeasurePanel(
            measure=measure,
            chart=score_chart(measure, key=f"outcome-{measure.questionnaire.pk}"),
            responses=responses.get(measure.questionnaire.pk, []),
        )
        for measure in measures_for(patient)
    ]


def get_response_for(patient: Patient, pk) -> Response:
    """One of this patient's responses (the patient came through the clinic's selector)."""
    return get_object_or_404(
        Response.objects.filter(patient=patient).select_related("questionnaire", "entered_by"),
        pk=pk,
    )


@dataclass
class AnswerRow:
    number: int
    text: str
    answer: str = ""
    activities: list[dict] = field(default_factory=list)


def answer_rows(response: Response) -> list[AnswerRow]:
    """Each question with the answer as the patient gave it (a choice by its words)."""
    rows = []
    for number, item in enumerate(response.questionnaire.definition["items"], start=1):
        value = response.answers.get(item["id"])
        row = AnswerRow(number, item["text"])
        if item["type"] == "activities":
            row.activities = list(value or [])
        elif value in (None, ""):
            row.answer = ""
        elif item["type"] == "choice":
            labels = {o["value"]: o["label"] for o in item["options"]}
            row.answer = f"{labels.get(value, value)} ({value})"
        else:
            row.answer = str(value)
        rows.append(row)
    return rows
