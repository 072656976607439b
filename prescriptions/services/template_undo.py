"""Applying a template so that it can be undone, and undoing it.

What was added is recorded as plain data (``AppliedTemplate.as_data``, kept in the
therapist's session): each new item's id with its exercise, dose and note as added.
Undo removes those of them still in the plan exactly as added; an item the therapist
changed since (its dose or note) stays, and so does everything else in the plan.
"""

from typing import NamedTuple

from django.db import transaction

from clinic.audit import Actor
from exercises.dose import Dose
from prescriptions.models import Prescription, PrescriptionItem, ProgramTemplate
from prescriptions.services.program_templates import template_apply
from prescriptions.services.programs import Action, Appended, _audit, _require_draft

FIELDS = ("exercise_id", *Dose.FIELDS, "note")


def _state(item) -> list:
    return [getattr(item, name) for name in FIELDS]


class AppliedTemplate(NamedTuple):
    appended: Appended
    record: dict


class Undone(NamedTuple):
    """How many items undo removed, and the names of those kept because they changed."""

    removed: int
    kept: list[str]


@transaction.atomic
def template_apply_undoable(
    *, prescription: Prescription, template: ProgramTemplate, actor: Actor
) -> AppliedTemplate:
    """``template_apply``, and a record of what it added for ``template_apply_undo``."""
    # Locked before the plan is read: an exercise another tab adds meanwhile must not be
    # taken for one of the template's (undo would remove it).
    locked = Prescription.objects.select_for_update().get(pk=prescription.pk)
    before = set(prescription.items.values_list("pk", flat=True))
    had_advice = bool(locked.advice)
    appended = template_apply(prescription=prescription, template=template, actor=actor)
    added = prescription.items.exclude(pk__in=before)
    record = {
        "prescription": prescription.pk,
        "template": template.pk,
        "name": template.name,
        "items": {str(item.pk): _state(item) for item in added},
        # The template's advice filled an empty box: undo empties it again (if unchanged).
        "advice": bool(template.advice) and not had_advice,
    }
    return AppliedTemplate(appended, record)


@transaction.atomic
def template_apply_undo(*, prescription: Prescription, record: dict, actor: Actor) -> Undone:
    """Remove what ``template_apply_undoable`` added to ``prescription`` (per ``record``),
    except items changed since; renumber the rest. Audited on the prescription."""
    locked = Prescription.objects.select_for_update().get(pk=prescription.pk)
    _require_draft(locked)
    if record.get("prescription") != locked.pk:
        return Undone(0, [])
    recorded = record.get("items", {})
    items = PrescriptionItem.objects.filter(
        prescription=locked, pk__in=[int(pk) for pk in recorded]
    ).select_related("exercise")
    gone: list[PrescriptionItem] = []
    kept: list[PrescriptionItem] = []
    for item in items:
        (gone if _state(item) == recorded[str(item.pk)] else kept).append(item)
    PrescriptionItem.objects.filter(pk__in=[item.pk for item in gone]).delete()
    for position, pk in enumerate(
        locked.items.order_by("order", "pk").values_list("pk", flat=True)
    ):
        PrescriptionItem.objects.filter(pk=pk).exclude(order=position).update(order=position)
    if record.get("advice") and record.get("template"):
        template = ProgramTemplate.objects.filter(pk=record["template"]).first()
        if template is not None and locked.advice == template.advice:
            Prescription.objects.filter(pk=locked.pk).update(advice="")
    _audit(
        actor,
        locked,
        Action.CHANGE,
        f"Draft: template {record.get('template')} undone ({len(gone)} removed, {len(kept)} kept)",
    )
    return Undone(len(gone), [item.exercise.name for item in kept])
