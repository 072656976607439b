"""Writes from the patient's page (and from staff entering a paper log).

The patient acts without an account: their audit entries name the page
(``patient_actor``) and carry the address the request came from. Entries hold ids and
fixed words, never what the patient wrote.
"""

import datetime
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.access import client_ip
from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from outcomes.models import Questionnaire, Response, Schedule
from outcomes.services import response_record
from patientpage.followups import followups_for_response, followups_for_session
from patientpage.models import Difficulty, SessionExercise, SessionLog
from prescriptions.models import Prescription, ProgramLink

Action = AuditEntry.Action
PATIENT = "patient (own page)"
# A phone's clock may be off, and a session may be sent days later from offline:
# accepted when it began within this long before now, and not in the future.
OLDEST_SESSION = datetime.timedelta(days=62)
CLOCK_SLACK = datetime.timedelta(minutes=10)


def patient_actor(request) -> Actor:
    return Actor(user=None, ip=client_ip(request), name=PATIENT)


def page_opened(*, link: ProgramLink, actor: Actor) -> None:
    """The patient opened their page: the trail records it as the patient's read."""
    now = timezone.now()
    ProgramLink.objects.filter(pk=link.pk).update(last_opened_at=now)
    audit_record(
        actor=actor,
        action=Action.VIEW,
        patient=link.patient,
        target=f"program link {link.pk}",
        detail="Patient page opened",
    )


@dataclass
class SessionReport:
    """A session as the page sends it: the whole state so far, sent again after each
    tick, so the last one to arrive is the truth and a repeat changes nothing."""

    client_ref: uuid.UUID
    started_at: datetime.datetime
    done: set[int] = field(default_factory=set)
    difficulty: dict[int, str] = field(default_factory=dict)
    finished: bool = False
    pain: int | None = None
    note: str = ""


def _check(report: SessionReport, prescription: Prescription) -> set[int]:
    now = timezone.now()
    if report.started_at > now + CLOCK_SLACK or report.started_at < now - OLDEST_SESSION:
        raise ValidationError("That session's date is not one we can store.")
    if report.pain is not None and not 0 <= report.pain <= 10:
        raise ValidationError("Pain is a number from 0 to 10.")
    if len(report.note) > 1000:
        raise ValidationError("Keep the note to 1,000 characters.")
    if any(value not in Difficulty.values for value in report.difficulty.values()):
        raise ValidationError("Difficulty is too easy, about right or too hard.")
    item_ids = set(prescription.items.values_list("pk", flat=True))
    if not (report.done | set(report.difficulty)) <= item_ids:
        raise ValidationError("That exercise is not in this program.")
    return item_ids


@transaction.atomic
def session_record(*, link: ProgramLink, report: SessionReport, actor: Actor) -> SessionLog:
    """Store a session from the patient's page, or bring a stored one up to date.

    The session belongs to the version the page showed when it began; a session sent
    for a link that has since moved to a new version stays with the old version (its
    exercises are that version's). Finishing a session opens the dashboard follow-ups
    it calls for (``patientpage.followups``). A finished session is not reopened."""
    session = (
        SessionLog.objects.select_for_update()
        .select_related("prescription")
        .filter(client_ref=report.client_ref)
        .first()
    )
    if session is not None and session.link_id != link.pk:
        raise ValidationError("That session belongs to another program.")
    prescription = session.prescription if session else link.prescription
    if prescription is None:
        raise ValidationError("This program has not been issued yet.")
    _check(report, prescription)
    created = session is None
    if session is None:
        session = SessionLog.objects.create(
            clinic_id=link.clinic_id,
            patient_id=link.patient_id,
            prescription=prescription,
            link=link,
            client_ref=report.client_ref,
            started_at=report.started_at,
        )
    elif session.is_finished:
        return session  # Sent again (offline replay): already stored.
    existing = {row.item_id: row for row in session.exercises.all()}
    for item_id in report.done | set(report.difficulty):
        row = existing.get(item_id) or SessionExercise(session=session, item_id=item_id)
        row.done = item_id in report.done
        row.difficulty = report.difficulty.get(item_id, row.difficulty)
        row.save()
    for item_id, row in existing.items():
        if item_id not in report.done and row.done:
            row.done = False
            row.save(update_fields=["done"])
    if report.finished:
        session.finished_at = timezone.now()
        session.pain = report.pain
        session.note = report.note.strip()
        session.save(update_fields=["finished_at", "pain", "note", "updated_at"])
    else:
        session.save(update_fields=["updated_at"])
    audit_record(
        actor=actor,
        action=Action.CREATE if created else Action.CHANGE,
        patient=link.patient,
        target=f"session {session.pk}",
        detail="Session finished" if report.finished else "Exercises ticked",
    )
    if report.finished:
        session.patient = link.patient
        followups_for_session(session)
    return session


@transaction.atomic
def session_enter_from_paper(
    *,
    prescription: Prescription,
    day: datetime.date,
    done: set[int],
    pain: int | None,
    actor: Actor,
) -> SessionLog:
    """A session the patient ticked on their paper log, typed in by staff."""
    if day > timezone.localdate():
        raise ValidationError("That day has not come yet.")
    client_ref = uuid.uuid4()
    # The same checks as a page's session (pain, the program's own exercises).
    _check(SessionReport(client_ref, timezone.now(), done=done, pain=pain), prescription)
    started = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    session = SessionLog.objects.create(
        clinic_id=prescription.clinic_id,
        patient_id=prescription.patient_id,
        prescription=prescription,
        client_ref=client_ref,
        source=SessionLog.Source.PAPER,
        entered_by=actor.user,
        started_at=started,
        finished_at=started,
        pain=pain,
    )
    SessionExercise.objects.bulk_create(
        SessionExercise(session=session, item_id=item_id, done=True) for item_id in sorted(done)
    )
    audit_record(
        actor=actor,
        action=Action.CREATE,
        patient=prescription.patient,
        target=f"session {session.pk}",
        detail="Entered from a paper log",
    )
    followups_for_session(session)
    return session


@transaction.atomic
def questionnaire_answer(
    *, link: ProgramLink, schedule: Schedule, answers: dict, actor: Actor
) -> Response:
    """Store the patient's answers to a questionnaire their program asked for, and open
    a follow-up if the score got worse by an important change. ``ValidationError``
    (one message per question) when the answers cannot be stored; nothing is."""
    prescription = link.prescription
    if prescription is None or schedule.prescription_id != prescription.pk:
        raise ValidationError("That questionnaire is not one this program asks for.")
    response = response_record(
        patient=link.patient,
        questionnaire=schedule.questionnaire,
        answers=answers,
        source=Response.Source.PAGE,
        actor=actor,
        prescription=prescription,
        schedule=schedule,
    )
    followups_for_response(response, prescription=prescription)
    return response


@transaction.atomic
def questionnaire_enter_from_paper(
    *,
    patient,
    questionnaire: Questionnaire,
    answers: dict,
    answered_on: datetime.date,
    actor: Actor,
    prescription: Prescription | None = None,
) -> Response:
    """Store a questionnaire the patient filled in on paper, dated as written on it;
    scored and followed up like one answered on the page."""
    if prescription is not None and prescription.patient_id != patient.pk:
        raise ValidationError("That program is not this patient's.")
    response = response_record(
        patient=patient,
        questionnaire=questionnaire,
        answers=answers,
        source=Response.Source.PAPER,
        actor=actor,
        prescription=prescription,
        answered_on=answered_on,
    )
    followups_for_response(response, prescription=prescription)
    return response
