"""Reads for outcome measures: what a clinic can ask, what a program is due to ask
now, each patient's scores against their baseline, and the clinic's report."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from clinic.access import clinic_of
from clinic.models import Clinic, Patient
from outcomes import scoring
from outcomes.models import Questionnaire, Response, Schedule

# Answers given this long before a due moment count for it: a paper form filled in at
# the visit, minutes before the program is issued, is its baseline.
ANSWERED_EARLY = datetime.timedelta(days=2)


def questionnaires_for(clinic: Clinic, *, active_only: bool = True) -> QuerySet[Questionnaire]:
    found = Questionnaire.objects.filter(Q(clinic=None) | Q(clinic=clinic))
    if active_only:
        found = found.filter(is_active=True)
    return found.order_by("clinic_id", "title", "-pk")


def get_questionnaire_for(user, pk) -> Questionnaire:
    try:
        return questionnaires_for(clinic_of(user), active_only=False).get(pk=pk)
    except (Questionnaire.DoesNotExist, ValueError) as error:
        raise Http404("No such questionnaire.") from error


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def due_moments(
    schedule: Schedule, prescription, now: datetime.datetime
) -> list[datetime.datetime]:
    """The moments ``schedule`` asks at, up to ``now``, for the program version
    ``prescription`` (the one the patient's page shows)."""
    issued = prescription.issued_at
    if schedule.when == Schedule.When.NOW:
        moments = [schedule.starts_at]
    elif issued is None:
        moments = []
    elif schedule.when == Schedule.When.ISSUE:
        moments = [issued]
    elif schedule.when == Schedule.When.REVIEW:
        moments = [_start_of(prescription.review_date)] if prescription.review_date else []
    else:
        step = datetime.timedelta(weeks=schedule.every_weeks or 1)
        moments, moment = [], issued
        while moment <= now:
            moments.append(moment)
            moment += step
    return [moment for moment in moments if moment <= now]


@dataclass
class Due:
    schedule: Schedule
    since: datetime.datetime

    @property
    def questionnaire(self) -> Questionnaire:
        return self.schedule.questionnaire


def due_for(prescription, *, now: datetime.datetime | None = None) -> list[Due]:
    """The questionnaires the patient is asked for now on this program version: each
    schedule whose latest moment has passed with no answer since (or just before)."""
    now = now or timezone.now()
    schedules = list(
        Schedule.objects.filter(
            prescription=prescription, stopped_at=None, questionnaire__is_active=True
        ).select_related("questionnaire")
    )
    if not schedules:
        return []
    last_answer: dict[int, datetime.datetime] = {}
    for questionnaire_id, answered_at in Response.objects.filter(
        patient_id=prescription.patient_id,
        questionnaire_id__in={s.questionnaire_id for s in schedules},
    ).values_list("questionnaire_id", "answered_at"):
        if answered_at > last_answer.get(questionnaire_id, answered_at - datetime.timedelta(1)):
            last_answer[questionnaire_id] = answered_at
    due: dict[int, Due] = {}
    for schedule in schedules:
        moments = due_moments(schedule, prescription, now)
        if not moments:
            continue
        since = moments[-1]
        answered = last_answer.get(schedule.questionnaire_id)
        # "Now" means from the moment the therapist asked; the others allow an answer
        # given just before their moment (at the visit, before the issue).
        early = datetime.timedelta(0) if schedule.when == Schedule.When.NOW else ANSWERED_EARLY
        if answered is not None and answered >= since - early:
            continue
        # Two schedules for one questionnaire ask once.
        if schedule.questionnaire_id not in due or due[schedule.questionnaire_id].since < since:
            due[schedule.questionnaire_id] = Due(schedule, since)
    return sorted(due.values(), key=lambda d: (d.since, d.schedule.pk))


def previous_activities(patient: Patient, questionnaire: Questionnaire) -> dict[str, list[str]]:
    """The activities the patient named at their first answer, by item, so a later
    answer rates the same ones again."""
    most = {
        i["id"]: i["max_activities"]
        for i in questionnaire.definition["items"]
        if i["type"] == "activities"
    }
    if not most:
        return {}
    first = (
        Response.objects.filter(patient=patient, questionnaire__slug=questionnaire.slug)
        .filter(questionnaire__clinic=questionnaire.clinic)
        .order_by("answered_at", "pk")
        .first()
    )
    if first is None:
        return {}
    # As many as this version takes (an earlier version may have taken more).
    return {
        item: [a["name"] for a in first.answers.get(item) or [] if a.get("name")][:limit]
        for item, limit in most.items()
    }


@dataclass
class Point:
    answered_at: datetime.datetime
    score: Decimal
    source: str


@dataclass
class Measure:
    """One patient's scores on one questionnaire, against their first (the baseline)."""

    questionnaire: Questionnaire
    points: list[Point] = field(default_factory=list)
    unscored: int = 0

    @property
    def definition(self) -> dict:
        return self.questionnaire.definition

    @property
    def is_change_measure(self) -> bool:
        return self.definition["scoring"]["kind"] == "change"

    @property
    def baseline(self) -> Point | None:
        return self.points[0] if self.points else None

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def change(self) -> Decimal | None:
        """Latest minus baseline, in the measure's own units (None with fewer than 2)."""
        if self.is_change_measure or len(self.points) < 2:
            return None
        return self.points[-1].score - self.points[0].score

    @property
    def gain(self) -> Decimal | None:
        """How much better (negative: worse), whichever way the measure counts."""
        if self.is_change_measure:
            return self.latest.score if self.latest else None
        if self.change is None:
            return None
        return scoring.improvement(self.definition, self.points[0].score, self.points[-1].score)

    @property
    def verdict(self) -> str:
        """``better``, ``worse`` (by at least the minimal important change), ``same``,
        or empty when there is nothing to compare yet."""
        gain = self.gain
        return "" if gain is None else scoring.verdict(self.definition, gain)

    @property
    def mic(self) -> Decimal | None:
        return scoring.mic(self.definition)

    @property
    def score_range(self) -> list[int]:
        return self.definition["scoring"]["range"]


def shown(response: Response) -> Decimal | None:
    """The score with the places its definition rounds to (stored with two)."""
    if response.score is None:
        return None
    places = response.questionnaire.definition["scoring"]["decimals"]
    return response.score.quantize(Decimal(1).scaleb(-places))


def measures_for(patient: Patient, *, until: datetime.datetime | None = None) -> list[Measure]:
    """Every measure the patient has answered, oldest answer first within each."""
    responses = Response.objects.filter(patient=patient).select_related("questionnaire")
    if until is not None:
        responses = responses.filter(answered_at__lte=until)
    measures: dict[int, Measure] = {}
    for response in responses.order_by("answered_at", "pk"):
        measure = measures.setdefault(
            response.questionnaire_id, Measure(questionnaire=response.questionnaire)
        )
        if response.score is None:
            measure.unscored += 1
        else:
            score = shown(response)
            assert score is not None
            measure.points.append(Point(response.answered_at, score, response.source))
    return sorted(measures.values(), key=lambda m: (m.questionnaire.title, m.questionnaire.pk))


def worse_by_mic(response: Response) -> bool:
    """Whether this answer leaves the patient worse than their baseline by at least the
    minimal important change (for a rating of change: worse by that much itself)."""
    if response.score is None:
        return False
    measure = next(
        (
            m
            for m in measures_for(response.patient, until=response.answered_at)
            if m.questionnaire.pk == response.questionnaire_id
        ),
        None,
    )
    return measure is not None and measure.verdict == "worse"


@dataclass
class ReportRow:
    questionnaire: Questionnaire
    patients: int = 0  # with a baseline and a follow-up (or, for a change measure, a rating)
    mean_baseline: Decimal | None = None
    mean_latest: Decimal | None = None
    mean_change: Decimal | None = None
    improved: int = 0
    worse: int = 0

    @property
    def improved_share(self) -> int | None:
        return round(100 * self.improved / self.patients) if self.patients else None

    @property
    def worse_share(self) -> int | None:
        return round(100 * self.worse / self.patients) if self.patients else None

    @property
    def is_change_measure(self) -> bool:
        return self.questionnaire.definition["scoring"]["kind"] == "change"


def _mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.1"))


def outcomes_report(*, clinic: Clinic, start: datetime.date, end: datetime.date) -> list[ReportRow]:
    """Outcomes for patients whose latest scored answer fell between ``start`` and
    ``end`` (inclusive): for a status measure, those with an earlier baseline; their
    mean baseline, latest and change, and how many passed the minimal important change
    either way. For a rating of change, the latest rating in the period of each."""
    scored = Response.objects.filter(clinic=clinic, score__isnull=False)
    in_period = scored.filter(
        answered_at__gte=_start_of(start),
        answered_at__lt=_start_of(end + datetime.timedelta(days=1)),
    )
    # Each patient counts for the measures they answered in the period, and only those:
    # their other measures' answers are read with these (one query) but left out.
    pairs = set(in_period.values_list("questionnaire_id", "patient_id").distinct())
    patient_ids = {p for _, p in pairs}
    questionnaire_ids = {q for q, _ in pairs}
    history: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
    for response in scored.filter(
        patient_id__in=patient_ids,
        questionnaire_id__in=questionnaire_ids,
        answered_at__lt=_start_of(end + datetime.timedelta(days=1)),
    ).order_by("answered_at", "pk"):
        key = (response.questionnaire_id, response.patient_id)
        if key in pairs and response.score is not None:
            history[key].append(response.score)
    rows: dict[int, ReportRow] = {}
    collected: dict[int, tuple[list, list, list]] = defaultdict(lambda: ([], [], []))
    questionnaires = {q.pk: q for q in Questionnaire.objects.filter(pk__in=questionnaire_ids)}
    for (questionnaire_id, _patient), scores in history.items():
        questionnaire = questionnaires[questionnaire_id]
        definition = questionnaire.definition
        row = rows.setdefault(questionnaire_id, ReportRow(questionnaire))
        baselines, latests, changes = collected[questionnaire_id]
        if definition["scoring"]["kind"] == "change":
            gain = scores[-1]
        elif len(scores) < 2:
            continue
        else:
            gain = scoring.improvement(definition, scores[0], scores[-1])
            baselines.append(scores[0])
            changes.append(scores[-1] - scores[0])
        latests.append(scores[-1])
        row.patients += 1
        verdict = scoring.verdict(definition, gain)
        row.improved += verdict == "better"
        row.worse += verdict == "worse"
    for questionnaire_id, row in rows.items():
        baselines, latests, changes = collected[questionnaire_id]
        row.mean_baseline, row.mean_latest, row.mean_change = (
            _mean(baselines),
            _mean(latests),
            _mean(changes),
        )
    return sorted(rows.values(), key=lambda r: (r.questionnaire.title, r.questionnaire.pk))
