from django.db import transaction
from django.utils import timezone

from clinic.access import client_ip
from clinic.models import AuditEntry, Clinic, Patient


def _record_consent(patient: Patient, *, by, was_consenting: bool) -> None:
    if patient.email_consent and not was_consenting:
        patient.email_consent_at = timezone.now()
        patient.email_consent_by = by
    elif not patient.email_consent:
        patient.email_consent_at = None
        patient.email_consent_by = None


@transaction.atomic
def patient_create(*, clinic, by, form) -> Patient:
    """Create a patient in the clinic from a valid ``PatientForm``."""
    patient = form.save(commit=False)
    patient.clinic = clinic
    patient.created_by = by
    _record_consent(patient, by=by, was_consenting=False)
    patient.save()
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, by, form) -> Patient:
    """Save a valid ``PatientForm``; consent changes record who and when."""
    was_consenting = Patient.objects.values_list("email_consent", flat=True).get(pk=patient.pk)
    patient = form.save(commit=False)
    _record_consent(patient, by=by, was_consenting=was_consenting)
    patient.save()
    return patient


@transaction.atomic
def clinic_update(*, clinic: Clinic, by, form) -> Clinic:
    """Save a valid ``ClinicForm`` (branding and contact details printed on handouts).

    Handouts already issued keep their stored PDF, so they do not change.
    """
    return form.save()


@transaction.atomic
def patient_record_consent(*, patient: Patient, by) -> Patient:
    """The patient told ``by`` they agree to receive handouts by email."""
    if not patient.email_consent:
        patient.email_consent = True
        patient.email_consent_at = timezone.now()
        patient.email_consent_by = by
        patient.save(
            update_fields=["email_consent", "email_consent_at", "email_consent_by", "updated_at"]
        )
    return patient


def patient_set_archived(*, patient: Patient, archived: bool, by) -> Patient:
    """Archived patients leave the list (their records stay); restoring brings them back."""
    if patient.archived != archived:
        patient.archived = archived
        patient.save(update_fields=["archived", "updated_at"])
    return patient


def audit_record(
    *,
    request,
    action: str,
    patient: Patient | None = None,
    clinic: Clinic | None = None,
    target: str = "",
    detail: str = "",
) -> AuditEntry:
    """Write down that ``request.user`` did ``action`` to ``patient``'s record.

    ``target`` and ``detail`` are fixed words and ids chosen by the code, never
    text a user typed about a patient: the entry must hold no personal data once
    the patient is erased. Without a patient, the entry is about ``clinic`` itself
    (its staff and settings).
    """
    user = request.user
    return AuditEntry.objects.create(
        clinic_id=patient.clinic_id if patient else clinic.pk,
        actor=user,
        actor_email=user.email,
        action=action,
        patient=patient,
        patient_ref=patient.pk if patient else None,
        target=target[:60],
        detail=detail[:200],
        ip_address=client_ip(request),
    )
