"""Deleting a draft the therapist no longer wants (abandoned "Your home exercise
program" drafts otherwise pile up on the patient's record and the dashboard)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from clinic.audit import Actor
from exercises.dose import plural
from prescriptions.models import Prescription
from prescriptions.services.programs import Action, _audit


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
    _audit(actor, locked, Action.CHANGE, f"Deleted the draft ({plural(count, 'exercise')})")
    locked.delete()
