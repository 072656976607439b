"""Reads for the staff side of the loop: what a patient did with their program, as the
therapist sees it on the prescription page, the patient's record, the patient list and
the dashboard. Each read costs a fixed number of queries, whatever the rows shown."""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Value, When
from django.utils import timezone

from clinic.models import Clinic, Patient
from patientpage.models import Difficulty, FollowUp, SessionExercise, SessionLog
from patientpage.reasons import with_scores
from prescriptions.models import Prescription, PrescriptionItem

# The adherence chart shows the latest weeks only: a long program stays readable.
CHART_WEEKS = 8
PAIN_POINTS = 20
NOTES_SHOWN = 10
# The dashboard lists this many patients to call; the whole list is a page of its own.
CALLS_ON_DASHBOARD = 12
CALLS_PER_PAGE = 25


def per_week(item) -> int:
    """How many times a week an item is to be done: unset "times a day" means once, unset
    "days a week" means every day (how the handout reads to a patient)."""
    return (item.times_per_day or 1) * (item.days_per_week or 7)


def sessions_per_week(items) -> int:
    """Sessions a week the program asks for: the most often done exercise sets the pace
    (a patient does the others within those sessions)."""
    return max((per_week(item) for item in items), default=0)


def _expected(weekly: int, days: int) -> int:
    """Prescribed so far after ``days`` days (today counted whole)."""
    return math.ceil(weekly * days / 7)


@dataclass
class Week:
    number: int
    start: datetime.date
    end: datetime.date
    done: int
    prescribed: int
    current: bool = False

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.prescribed) if self.prescribed else 0


@dataclass
class ExerciseAdherence:
    item: PrescriptionItem
    done: int
    prescribed: int
    last_difficulty: str = ""
    last_difficulty_on: datetime.date | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.prescribed) if self.prescribed else 0

    @property
    def bar_percent(self) -> int:
        return min(self.percent, 100)

    @property
    def last_difficulty_label(self) -> str:
        return Difficulty(self.last_difficulty).label if self.last_difficulty else ""


@dataclass
class PainPoint:
    day: datetime.date
    pain: int


@dataclass
class Note:
    day: datetime.date
    text: str
    pain: int | None
    source: str


@dataclass
class ProgramLoop:
    """A program version's figures: sessions per week, per exercise, pain and notes."""

    prescription: Prescription
    start: datetime.date | None
    end: datetime.date | None
    weeks: list[Week] = field(default_factory=list)
    exercises: list[ExerciseAdherence] = field(default_factory=list)
    pain: list[PainPoint] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    sessions: int = 0
    prescribed: int = 0
    last_activity: datetime.datetime | None = None
    notes_shown: int = NOTES_SHOWN

    @property
    def percent(self) -> int:
        return round(100 * self.sessions / self.prescribed) if self.prescribed else 0

    @property
    def this_week(self) -> Week | None:
        return self.weeks[-1] if self.weeks and self.weeks[-1].current else None


def _period(prescription: Prescription) -> tuple[datetime.date, datetime.date] | None:
    """The days a version was the patient's program: from its issue to today, or to the
    issue of the version that replaced it."""
    if prescription.issued_at is None:
        return None
    start = timezone.localdate(prescription.issued_at)
    end = timezone.localdate()
    if prescription.status == Prescription.Status.SUPERSEDED:
        replaced = (
            Prescription.objects.filter(supersedes=prescription, issued_at__isnull=False)
            .order_by("issued_at")
            .values_list("issued_at", flat=True)
            .first()
        )
        if replaced is not None:
            end = max(start, timezone.localdate(replaced) - datetime.timedelta(days=1))
    return start, max(start, end)


def program_loop(prescription: Prescription) -> ProgramLoop:
    """Adherence, difficulty, pain and notes for one issued version: three queries (four
    for a replaced version), whatever the number of sessions. ``prescription.items``
    is read as loaded (``get_prescription_for`` prefetches them)."""
    period = _period(prescription)
    if period is None:
        return ProgramLoop(prescription=prescription, start=None, end=None)
    start, end = period
    items = list(prescription.items.all())
    weekly = sessions_per_week(items)

    # A session counts when at least one exercise was ticked in it.
    sessions = list(
        SessionLog.objects.filter(prescription=prescription)
        .annotate(ticked=Count("exercises", filter=Q(exercises__done=True)))
        .filter(ticked__gt=0)
        .order_by("started_at", "pk")
        .values_list("started_at", flat=True)
    )
    days_total = (end - start).days + 1
    week_count = (days_total + 6) // 7
    done_by_week: dict[int, int] = defaultdict(int)
    for started in sessions:
        index = max(0, (timezone.localdate(started) - start).days // 7)
        done_by_week[min(index, week_count - 1)] += 1
    today = timezone.localdate()
    weeks = []
    for index in range(max(0, week_count - CHART_WEEKS), week_count):
        week_start = start + datetime.timedelta(days=7 * index)
        weeks.append(
            Week(
                number=index + 1,
                start=week_start,
                end=week_start + datetime.timedelta(days=6),
                done=done_by_week[index],
                prescribed=weekly,
                current=week_start <= today <= week_start + datetime.timedelta(days=6),
            )
        )

    rows = (
        SessionExercise.objects.filter(session__prescription=prescription)
        .order_by("session__started_at", "session_id")
        .values_list("item_id", "done", "difficulty", "session__started_at")
    )
    done: dict[int, int] = defaultdict(int)
    last: dict[int, tuple[str, datetime.datetime]] = {}
    for item_id, was_done, difficulty, started in rows:
        done[item_id] += was_done
        if difficulty:
            last[item_id] = (difficulty, started)
    exercises = []
    for item in items:
        difficulty, when = last.get(item.pk, ("", None))
        exercises.append(
            ExerciseAdherence(
                item=item,
                done=done[item.pk],
                prescribed=_expected(per_week(item), days_total),
                last_difficulty=difficulty,
                last_difficulty_on=timezone.localdate(when) if when else None,
            )
        )

    pain, notes, last_activity = _pain_and_notes(prescription.patient_id)
    return ProgramLoop(
        prescription=prescription,
        start=start,
        end=end,
        weeks=weeks,
        exercises=exercises,
        pain=pain,
        notes=notes,
        sessions=len(sessions),
        prescribed=_expected(weekly, days_total),
        last_activity=last_activity,
    )


def _pain_and_notes(
    patient_id: int,
) -> tuple[list[PainPoint], list[Note], datetime.datetime | None]:
    """The patient's latest pain scores (oldest first) and notes (newest first), across
    the versions of their programs: pain is followed over the whole course of care. Three
    queries."""
    sessions = SessionLog.objects.filter(patient_id=patient_id).order_by("-started_at", "-pk")
    scores = sessions.filter(pain__isnull=False).values_list("started_at", "pain")
    pain = [
        PainPoint(day=timezone.localdate(started), pain=score)
        for started, score in scores[:PAIN_POINTS]
        if score is not None
    ]
    pain.reverse()
    notes = [
        Note(day=timezone.localdate(started), text=text, pain=score, source=source)
        for started, score, text, source in sessions.exclude(note="").values_list(
            "started_at", "pain", "note", "source"
        )[:NOTES_SHOWN]
    ]
    last = SessionLog.objects.filter(patient_id=patient_id).aggregate(last=Max("started_at"))
    return pain, notes, last["last"]


def last_activity(patients) -> dict[int, datetime.datetime]:
    """When each of these patients last logged a session (page or paper), by patient id:
    one grouped query for the rows of a page."""
    ids = [patient.pk for patient in patients]
    if not ids:
        return {}
    return dict(
        SessionLog.objects.filter(patient_id__in=ids)
        .values("patient_id")
        .annotate(last=Max("started_at"))
        .order_by()
        .values_list("patient_id", "last")
    )


def with_last_activity(patients) -> list[Patient]:
    """The patients of one page, each with ``last_activity`` (``None`` if never)."""
    rows = list(patients)
    latest = last_activity(rows)
    for patient in rows:
        patient.last_activity = latest.get(patient.pk)
    return rows


@dataclass
class PatientFollowUps:
    """One patient's open follow-ups, as one line of "Who needs a call"."""

    patient: Patient
    prescription: Prescription
    follow_ups: list[FollowUp]
    # The program is the signed-in therapist's own (listed first, without a name).
    mine: bool = True

    @property
    def since(self) -> datetime.datetime:
        return min(f.created_at for f in self.follow_ups)

    @property
    def latest(self) -> datetime.datetime:
        return max(f.created_at for f in self.follow_ups)

    @property
    def reasons(self) -> list[str]:
        return [f.get_reason_display() for f in self.follow_ups]

    @property
    def ids(self) -> list[int]:
        return [f.pk for f in self.follow_ups]


def _open(clinic: Clinic):
    # The patient's clinic is named too (it is always the follow-up's): PostgreSQL then
    # checks "not archived" among this clinic's patients, not the installation's.
    return FollowUp.objects.filter(
        clinic=clinic, handled_at__isnull=True, patient__clinic=clinic, patient__archived=False
    )


def open_follow_up_patients(*, clinic: Clinic) -> int:
    """How many patients of the clinic have something open to call about."""
    return _open(clinic).values("patient_id").distinct().count()


def calls_by_patient(*, clinic: Clinic, therapist=None) -> QuerySet:
    """One row per patient with something open (``patient_id``, ``mine``, ``latest``):
    those with an open item on ``therapist``'s own programs first, then the rest (a
    colleague's, on leave perhaps), each part the most recent first. Slice it for a page;
    the clinic's open-follow-up index finds the rows."""
    mine = (
        Max(
            Case(
                When(prescription__therapist=therapist, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        if therapist is not None
        else Value(1)
    )
    return (
        _open(clinic)
        .values("patient_id")
        .annotate(mine=mine, latest=Max("created_at"))
        .order_by("-mine", "-latest", "-patient_id")
    )


def open_follow_ups(
    *, clinic: Clinic, therapist=None, rows: list[dict] | None = None
) -> list[PatientFollowUps]:
    """Lines of "Who needs a call" for ``rows`` of ``calls_by_patient`` (by default the
    dashboard's first few), in that order: two queries, whatever the clinic's size. A
    line opens the program of its newest follow-up."""
    if rows is None:
        rows = list(calls_by_patient(clinic=clinic, therapist=therapist)[:CALLS_ON_DASHBOARD])
    order = {row["patient_id"]: (n, bool(row["mine"])) for n, row in enumerate(rows)}
    follow_ups = (
        with_scores(_open(clinic).filter(patient_id__in=order))
        .select_related("patient", "prescription__therapist")
        .order_by("-created_at", "-pk")
    )
    grouped: dict[int, PatientFollowUps] = {}
    for follow_up in follow_ups:
        line = grouped.get(follow_up.patient_id)
        if line is None:
            grouped[follow_up.patient_id] = PatientFollowUps(
                patient=follow_up.patient,
                prescription=follow_up.prescription,
                follow_ups=[follow_up],
                mine=order[follow_up.patient_id][1],
            )
        else:
            line.follow_ups.append(follow_up)
            if (
                therapist is not None
                and line.mine
                and line.prescription.therapist_id != therapist.pk
                and follow_up.prescription.therapist_id == therapist.pk
            ):
                line.prescription = follow_up.prescription  # Their own program to open.
    return sorted(grouped.values(), key=lambda line: order[line.patient.pk][0])


def patient_open_follow_ups(patient: Patient):
    return with_scores(FollowUp.objects.filter(patient=patient, handled_at__isnull=True)).order_by(
        "created_at", "pk"
    )


@dataclass
class PatientSummary:
    """The record page's glance: last activity, this week, latest pain, open follow-ups."""

    last_activity: datetime.datetime | None
    program: Prescription | None
    this_week: Week | None
    latest_pain: PainPoint | None
    follow_ups: list[FollowUp]


def patient_summary(patient: Patient) -> PatientSummary:
    """What the patient did lately, for the top of their record (a fixed few queries)."""
    program = (
        Prescription.objects.filter(patient=patient, status=Prescription.Status.ISSUED)
        .prefetch_related("items")
        .order_by("-issued_at", "-pk")
        .first()
    )
    loop = program_loop(program) if program is not None else None
    if loop is None:
        pain, _, last = _pain_and_notes(patient.pk)
    else:
        pain, last = loop.pain, loop.last_activity
    return PatientSummary(
        last_activity=last,
        program=program,
        this_week=loop.this_week if loop else None,
        latest_pain=pain[-1] if pain else None,
        follow_ups=list(patient_open_follow_ups(patient)),
    )
