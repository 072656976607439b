"""Adding an exercise to a patient's program from the exercise's own page."""

from typing import NamedTuple

from django.db import transaction

from clinic.audit import Actor
from exercises.models import Exercise
from prescriptions.models import Prescription
from prescriptions.selectors import open_draft_of
from prescriptions.services.programs import prescription_add_exercise, prescription_create


class AddedToDraft(NamedTuple):
    prescription: Prescription
    created: bool  # a new draft was started for it


@transaction.atomic
def prescription_add_to_patients_draft(
    *, patient, exercise: Exercise, actor: Actor
) -> AddedToDraft:
    """Add ``exercise`` to the patient's open draft (the one last worked on), or to a new
    draft when they have none. Both steps are the programs' own audited services."""
    draft = open_draft_of(patient)
    created = draft is None
    if draft is None:
        draft = prescription_create(patient=patient, actor=actor)
    prescription_add_exercise(prescription=draft, exercise=exercise, actor=actor)
    return AddedToDraft(draft, created)
