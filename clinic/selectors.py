from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from clinic.access import clinic_of
from clinic.models import AuditEntry, Clinic, Invitation, Membership, Patient


def patient_list(*, user, query: str = "", archived: bool = False) -> QuerySet[Patient]:
    patients = Patient.objects.filter(clinic=clinic_of(user), archived=archived)
    for word in query.split():
        patients = patients.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(preferred_name__icontains=word)
            | Q(email__icontains=word)
            | Q(phone__icontains=word)
        )
    # Read in name order from the clinic's name index (Patient.Meta.indexes).
    return patients.order_by("last_name", "first_name", "pk")


def with_prescription_counts(patients) -> list[Patient]:
    """The patients of one page, each with ``prescription_count``: counted for these rows
    only (one grouped query), never for every patient the search matched."""
    rows = list(patients)
    counts = dict(
        Patient.objects.filter(pk__in=[p.pk for p in rows])
        .annotate(count=Count("prescriptions"))
        .values_list("pk", "count")
    )
    for patient in rows:
        patient.prescription_count = counts.get(patient.pk, 0)
    return rows


def get_patient_for(user, pk) -> Patient:
    return get_object_or_404(Patient, pk=pk, clinic=clinic_of(user))


def clinic_staff(*, clinic: Clinic) -> tuple[QuerySet[Membership], QuerySet[Invitation]]:
    """The clinic's members (active first) and its invitations still waiting for an answer."""
    members = (
        Membership.objects.filter(clinic=clinic)
        .select_related("user")
        .order_by("-user__is_active", "user__first_name", "user__email")
    )
    invitations = clinic.invitations.filter(accepted_at=None, cancelled_at=None).select_related(
        "invited_by"
    )
    return members, invitations


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_entries(
    *,
    clinic: Clinic,
    patient: int | None = None,
    actor=None,
    action: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEntry]:
    """The clinic's audit trail, newest first, filtered; dates are whole local days."""
    entries = AuditEntry.objects.filter(clinic=clinic).select_related("patient")
    if patient:
        entries = entries.filter(patient_ref=patient)
    if actor:
        entries = entries.filter(actor=actor)
    if action:
        entries = entries.filter(action=action)
    if since:
        entries = entries.filter(at__gte=_start_of(since))
    if until:
        entries = entries.filter(at__lt=_start_of(until + timedelta(days=1)))
    return entries


def users_with_two_factor(*, clinic: Clinic) -> set[int]:
    """Ids of the clinic's staff who sign in with an authenticator code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return set(
        TOTPDevice.objects.filter(user__membership__clinic=clinic, confirmed=True).values_list(
            "user_id", flat=True
        )
    )
