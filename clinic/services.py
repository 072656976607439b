"""Writes to clinics and patients. Each service that changes data writes its audit
entry in the same transaction (``clinic.audit``): neither is kept without the other."""

from django.db import transaction
from django.utils import timezone

from clinic.audit import Actor, audit_record, changed_fields
from clinic.models import AuditEntry, Clinic, Patient

Action = AuditEntry.Action


def _record_consent(patient: Patient, *, by, was_consenting: bool) -> None:
    if patient.email_consent and not was_consenting:
        patient.email_consent_at = timezone.now()
        patient.email_consent_by = by
    elif not patient.email_consent:
        patient.email_consent_at = None
        patient.email_consent_by = None


@transaction.atomic
def patient_create(*, clinic: Clinic, actor: Actor, form) -> Patient:
    """Create a patient in the clinic from a valid ``PatientForm``."""
    patient = form.save(commit=False)
    patient.clinic = clinic
    patient.created_by = actor.user
    _record_consent(patient, by=actor.user, was_consenting=False)
    patient.save()
    audit_record(actor=actor, action=Action.CREATE, patient=patient)
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, actor: Actor, form) -> Patient:
    """Save a valid ``PatientForm``; consent changes record who and when. Consent was
    given for an address: a new address clears it, to be asked again."""
    was_consenting, old_email = Patient.objects.values_list("email_consent", "email").get(
        pk=patient.pk
    )
    patient = form.save(commit=False)
    consent_cleared = was_consenting and _new_address(old_email, patient.email)
    if consent_cleared:
        patient.email_consent = False
    _record_consent(patient, by=actor.user, was_consenting=was_consenting)
    patient.save()
    if form.changed_data:
        detail = changed_fields(form)
        if consent_cleared and "email_consent" not in form.changed_data:
            # The box was left ticked: say why the consent went all the same.
            detail += "; consent to email handouts cleared (new address)"
        audit_record(actor=actor, action=Action.CHANGE, patient=patient, detail=detail)
    return patient


def _new_address(old: str, new: str) -> bool:
    return old.strip().casefold() != new.strip().casefold()


@transaction.atomic
def clinic_update(*, clinic: Clinic, actor: Actor, form) -> Clinic:
    """Save a valid ``ClinicForm`` (branding and contact details printed on handouts).

    Handouts already issued keep their stored PDF, so they do not change.
    """
    clinic = form.save()
    if form.changed_data:
        audit_record(
            actor=actor, action=Action.SETTINGS, clinic=clinic, detail=changed_fields(form)
        )
    return clinic


@transaction.atomic
def patient_record_consent(*, patient: Patient, actor: Actor) -> Patient:
    """The patient told ``actor`` they agree to receive handouts by email."""
    if not patient.email_consent:
        patient.email_consent = True
        patient.email_consent_at = timezone.now()
        patient.email_consent_by = actor.user
        patient.save(
            update_fields=["email_consent", "email_consent_at", "email_consent_by", "updated_at"]
        )
        audit_record(
            actor=actor,
            action=Action.CHANGE,
            patient=patient,
            detail="Consent to email handouts recorded",
        )
    return patient


@transaction.atomic
def patient_set_archived(*, patient: Patient, archived: bool, actor: Actor) -> Patient:
    """Archived patients leave the list (their records stay); restoring brings them back."""
    if patient.archived != archived:
        patient.archived = archived
        patient.save(update_fields=["archived", "updated_at"])
        audit_record(
            actor=actor,
            action=Action.CHANGE,
            patient=patient,
            detail="Archived" if archived else "Restored from the archive",
        )
    return patient
