"""Sessions as a patient would have logged them, on chosen days (the services stamp
"now"; these tests need a known calendar)."""

import datetime
import uuid

from django.utils import timezone

from patientpage.models import SessionExercise, SessionLog
from prescriptions.models import Prescription


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def issue_on(prescription: Prescription, day: datetime.date) -> Prescription:
    """Move an issued prescription's issue back to ``day``."""
    Prescription.objects.filter(pk=prescription.pk).update(issued_at=at(day, 8))
    prescription.refresh_from_db()
    return prescription


def log(
    prescription: Prescription,
    day: datetime.date,
    *,
    done=(),
    difficulty: dict | None = None,
    pain: int | None = None,
    note: str = "",
    hour: int = 9,
) -> SessionLog:
    """A finished session of ``prescription`` on ``day``: ``done`` items ticked, and how
    hard some felt (``{item: "hard"}``)."""
    difficulty = difficulty or {}
    session = SessionLog.objects.create(
        clinic_id=prescription.clinic_id,
        patient_id=prescription.patient_id,
        prescription=prescription,
        client_ref=uuid.uuid4(),
        started_at=at(day, hour),
        finished_at=at(day, hour),
        pain=pain,
        note=note,
    )
    for item in {*done, *difficulty}:
        SessionExercise.objects.create(
            session=session,
            item=item,
            done=item in done,
            difficulty=difficulty.get(item, ""),
        )
    return session
