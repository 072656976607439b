"""Reasons to call a patient: raised from what they log, listed on the dashboard until
a member of staff marks them handled."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from outcomes.models import Response
from outcomes.selectors import worse_by_mic
from patientpage.models import Difficulty, FollowUp, SessionLog
from prescriptions import links
from prescriptions.models import ProgramLink

PAIN_HIGH = 7
PAIN_RISE = 2
INACTIVE_DAYS = 7

Reason = FollowUp.Reason


def _raise(
    *, reason: str, session: SessionLog | None, patient, prescription, response=None
) -> bool:
    """Open a follow-up unless one for the same reason is still open. True if opened."""
    if FollowUp.objects.filter(patient=patient, reason=reason, handled_at__isnull=True).exists():
        return False
    try:
        with transaction.atomic():
            FollowUp.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                prescription=prescription,
                session=session,
                response=response,
                reason=reason,
            )
    except IntegrityError:  # Opened by a request that got there first.
        return False
    return True


def reasons_for_session(session: SessionLog) -> list[str]:
    """What a finished session gives cause to call about (``FollowUp.Reason`` values)."""
    reasons: list[str] = []
    if session.pain is not None:
        if session.pain >= PAIN_HIGH:
            reasons.append(Reason.PAIN_HIGH)
        first = (
            SessionLog.objects.filter(patient_id=session.patient_id, pain__isnull=False)
            .exclude(pk=session.pk)
            .order_by("started_at", "pk")
            .values_list("pain", flat=True)
            .first()
        )
        if first is not None and session.pain - first >= PAIN_RISE:
            reasons.append(Reason.PAIN_UP)
    if session.exercises.filter(difficulty=Difficulty.HARD).exists():
        reasons.append(Reason.TOO_HARD)
    if session.note.strip():
        reasons.append(Reason.NOTE)
    return reasons


def followups_for_session(session: SessionLog) -> list[str]:
    """Open the follow-ups a finished session calls for (within the caller's
    transaction); returns the reasons newly opened."""
    return [
        reason
        for reason in reasons_for_session(session)
        if _raise(
            reason=reason,
            session=session,
            patient=session.patient,
            prescription=session.prescription,
        )
    ]


def followups_for_response(response: Response, *, prescription) -> list[str]:
    """Open a follow-up when an answered questionnaire leaves the patient worse than
    their baseline by at least its minimal important change (within the caller's
    transaction); returns the reasons newly opened."""
    if prescription is None or not worse_by_mic(response):
        return []
    opened = _raise(
        reason=Reason.WORSE,
        session=None,
        patient=response.patient,
        prescription=prescription,
        response=response,
    )
    return [Reason.WORSE] if opened else []


def followups_inactive(*, now: datetime.datetime | None = None) -> int:
    """Open "no activity for 7 days" for each patient with an open program page who has
    logged nothing (on the page or on paper) for that long, counted from the program's
    issue when they never logged. Run daily by the scheduler; returns how many opened."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=INACTIVE_DAYS)
    opened = 0
    candidates = (
        ProgramLink.objects.filter(
            ended_at__isnull=True,
            prescription__isnull=False,
            prescription__issued_at__lte=since,
            patient__archived=False,
        )
        .exclude(
            # Logged something lately (one subquery, not one query per link).
            patient__in=SessionLog.objects.filter(started_at__gte=since).values("patient_id")
        )
        .select_related("patient", "prescription", "clinic")
    )
    for link in candidates.iterator():
        if not links.is_open(link, today=timezone.localdate(now)):
            continue
        opened += _raise(
            reason=Reason.INACTIVE,
            session=None,
            patient=link.patient,
            prescription=link.prescription,
        )
    return opened


@transaction.atomic
def followup_handle(*, follow_up: FollowUp, actor: Actor) -> None:
    """Mark a follow-up handled (called, or nothing to do): it leaves the dashboard."""
    locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if locked.handled_at is not None:
        return
    locked.handled_at = timezone.now()
    locked.handled_by = actor.user
    locked.save(update_fields=["handled_at", "handled_by"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CHANGE,
        patient=locked.patient,
        target=f"follow-up {locked.pk}",
        detail=f"Handled: {locked.reason}",
    )
