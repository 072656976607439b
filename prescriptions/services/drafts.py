"""Deleting a draft the therapist no longer wants (abandoned "Your home exercise
program" drafts otherwise pile up on the patient's record and the dashboard)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from prescriptions.models import Prescription


@transaction.atomic
def prescription_delete_draft(*, prescription: Prescription, actor: Actor) -> None:
    """Delete a draft and its exercises. An issued or superseded prescription is the
    record of what the patient was given and is never deleted: refused by name."""
    locked = Prescription.objects.select_for_update().get(pk=prescription.pk)
    if locked.status != Prescription.Status.DRAFT:
        raise ValidationError(
            "Only a draft can be deleted. An issued program stays on the patient's record."
        )
    count = locked.items.count()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CHANGE,
        patient=locked.patient,
        target=f"prescription {locked.pk}",
        detail=f"Deleted the draft ({count} exercise{'s' if count != 1 else ''})",
    )
    locked.delete()
