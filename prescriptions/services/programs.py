"""Programs: drafts, their items, issuing and new versions (drawing an issued handout
is ``prescriptions.services.issued_handouts`` and ``prescriptions.tasks``).

Every service that changes a patient's prescription writes its audit entry in
its own transaction, from the ``Actor`` it is given (see ``clinic.audit``).
"""

import logging
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Max
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from exercises.dose import Dose
from exercises.models import Exercise
from outcomes.services import schedules_carry
from prescriptions.models import (
    Handout,
    Prescription,
    PrescriptionItem,
)
from prescriptions.selectors import handout_snapshot, prescription_for_handout, starting_dose
from prescriptions.services.links import program_link_attach, program_link_for_issue

logger = logging.getLogger(__name__)

DOSE_NAMES = Dose.FIELDS
Action = AuditEntry.Action


def _audit(actor: Actor, prescription: Prescription, action: str, detail: str = "") -> None:
    audit_record(
        actor=actor,
        action=action,
        patient=prescription.patient,
        target=f"prescription {prescription.pk}",
        detail=detail,
    )


@transaction.atomic
def prescription_create(*, patient, actor: Actor, title: str = "") -> Prescription:
    """A new, empty draft for a patient, written by ``actor`` (its therapist)."""
    prescription = Prescription(clinic=patient.clinic, patient=patient, therapist=actor.user)
    if title:
        prescription.title = title
    prescription.full_clean()
    prescription.save()
    _audit(actor, prescription, Action.CREATE)
    return prescription


def _require_room(current: int, adding: int) -> None:
    """A program or template holds at most ``OPENHEP_MAX_ITEMS`` exercises."""
    limit = settings.OPENHEP_MAX_ITEMS
    if current + adding > limit:
        room = max(limit - current, 0)
        raise ValidationError(
            f"A program can hold at most {limit} exercises. This one has {current}"
            + (f", so there is room for {room} more." if room else ", so it is full.")
            + " Remove some first, or start a separate program."
        )


def _require_draft(prescription: Prescription) -> None:
    if not prescription.is_draft:
        raise ValidationError("This prescription has been issued and can no longer be changed.")


@transaction.atomic
def prescription_add_exercise(
    *, prescription: Prescription, exercise: Exercise, actor: Actor
) -> PrescriptionItem:
    """Append an exercise with the clinic's preset dose for its first category, or else
    its own default dose (``prescriptions.selectors.starting_dose``)."""
    prescription = Prescription.objects.select_for_update().get(pk=prescription.pk)
    _require_draft(prescription)
    _require_room(prescription.items.count(), 1)
    item = PrescriptionItem(
        prescription=prescription,
        exercise=exercise,
        order=_next_order(prescription),
        **starting_dose(clinic=prescription.clinic, exercise=exercise).as_dict(),
    )
    item.full_clean()
    item.save()
    Prescription.objects.filter(pk=prescription.pk).update(updated_at=timezone.now())
    _audit(actor, prescription, Action.CHANGE, f"Draft: exercise {exercise.pk} added")
    return item


@transaction.atomic
def prescription_save(*, prescription: Prescription, form, formset, actor: Actor) -> Prescription:
    """Save the plan's details and items together, renumbering the items in order.
    Recorded in the audit trail when something changed."""
    _require_draft(Prescription.objects.select_for_update().get(pk=prescription.pk))
    changed = form.has_changed() or formset.has_changed()
    prescription = form.save()
    formset.save()
    kept = sorted(
        (f.instance for f in formset.forms if f.instance.pk and f not in formset.deleted_forms),
        key=lambda item: (item.order, item.pk),
    )
    for position, item in enumerate(kept):
        if item.order != position:
            PrescriptionItem.objects.filter(pk=item.pk).update(order=position)
    if changed:
        _audit(actor, prescription, Action.CHANGE, "Draft saved")
    return prescription


@transaction.atomic
def prescription_move_item(*, prescription: Prescription, item_pk, up: bool, actor: Actor) -> None:
    """Swap an item with its neighbour above or below."""
    _require_draft(Prescription.objects.select_for_update().get(pk=prescription.pk))
    items = list(prescription.items.order_by("order", "pk"))
    index = next((i for i, item in enumerate(items) if str(item.pk) == str(item_pk)), None)
    if index is None:
        raise ValidationError("That exercise is not in this plan.")
    other = index - 1 if up else index + 1
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    for position, item in enumerate(items):
        if item.order != position:
            PrescriptionItem.objects.filter(pk=item.pk).update(order=position)
    _audit(actor, prescription, Action.CHANGE, f"Draft: exercise moved {'up' if up else 'down'}")


def prescription_issue(*, prescription: Prescription, actor: Actor) -> Handout:
    """Freeze a draft and queue the drawing of its handout; returns the ``Handout``.

    One short transaction locks the draft and stores everything issuing means: the
    snapshot of what the handout prints, the status and date, the program link, the
    version it supersedes, the questionnaires carried on and the audit entry. The PDF
    is drawn from that snapshot afterwards by ``prescriptions.tasks.render_handout``
    (``preparing`` until then): no request waits for WeasyPrint, and no lock is held
    while it draws. With the immediate task backend (``make run``) the task runs here,
    so the handout comes back ready.

    The task is queued after this function's transaction, not on commit: inside a
    caller's transaction its row (database backend) commits or rolls back with the
    issue itself. Issuing an already issued prescription (a double click) returns its
    handout.
    """
    from prescriptions.tasks import render_handout

    handout, created = _freeze(prescription, actor=actor)
    if created:
        try:
            render_handout.enqueue(handout.pk)
        except DatabaseError:
            # The issue is committed: the therapist sees it issued, preparing, and
            # requeue_deliveries queues the drawing within a minute or two.
            logger.warning("Handout %s issued but not queued (database error)", handout.pk)
            return handout
        handout.refresh_from_db()
    prescription.refresh_from_db()
    return handout


@transaction.atomic
def _freeze(prescription: Prescription, *, actor: Actor) -> tuple[Handout, bool]:
    """The short write of an issue: ``(handout, created)``."""
    locked = Prescription.objects.select_for_update().get(pk=prescription.pk)
    if locked.status == Prescription.Status.ISSUED and hasattr(locked, "handout"):
        return locked.handout, False
    _require_draft(locked)
    fresh = prescription_for_handout(locked.pk)
    if not fresh.items.all():
        raise ValidationError("Add at least one exercise before issuing.")
    now = timezone.now()
    link, _token = program_link_for_issue(prescription=fresh, actor=actor)
    handout = Handout.objects.create(
        prescription=locked,
        snapshot=handout_snapshot(fresh, issued_at=now),
        program_link=link,
        status=Handout.Status.PREPARING,
        next_attempt_at=now,
    )
    Prescription.objects.filter(pk=locked.pk).update(
        status=Prescription.Status.ISSUED, issued_at=now, updated_at=now
    )
    if locked.supersedes_id:
        Prescription.objects.filter(
            pk=locked.supersedes_id, status=Prescription.Status.ISSUED
        ).update(status=Prescription.Status.SUPERSEDED, updated_at=now)
        schedules_carry(source_id=locked.supersedes_id, target=locked)
    program_link_attach(link=link, prescription=locked)
    _audit(actor, locked, Action.CHANGE, "Issued")
    return handout, True


def _next_order(prescription: Prescription) -> int:
    last = prescription.items.aggregate(last=Max("order"))["last"]
    return 0 if last is None else last + 1


def _copy_items(items, model, *, start: int = 0, **parent) -> int:
    """Copy items of a prescription or template, with their doses and notes, as new
    ``model`` rows (``PrescriptionItem`` or ``TemplateItem``) of ``parent``."""
    model.objects.bulk_create(
        model(
            exercise_id=i.exercise_id,
            order=start + n,
            note=i.note,
            **{k: getattr(i, k) for k in DOSE_NAMES},
            **parent,
        )
        for n, i in enumerate(items)
    )
    return len(items)


class Appended(NamedTuple):
    """What appending a template's or an earlier program's exercises did: how many it
    added, and the names of those already in the plan, left as they are (not doubled)."""

    added: int
    already: list[str]


def _append_items(items, target: Prescription, *, start: int) -> Appended:
    """Append a prescription's or template's items to a draft: only exercises that can
    still be prescribed (retired ones stay on old handouts), and not those the draft
    already has (its dose for them stays)."""
    present = set(target.items.values_list("exercise_id", flat=True))
    published = [
        i
        for i in items.select_related("exercise")
        if i.exercise.status == Exercise.Status.PUBLISHED
    ]
    new = [i for i in published if i.exercise_id not in present]
    already = [i.exercise.name for i in published if i.exercise_id in present]
    _require_room(len(present), len(new))
    return Appended(_copy_items(new, PrescriptionItem, start=start, prescription=target), already)


@transaction.atomic
def prescription_new_version(*, prescription: Prescription, actor: Actor) -> Prescription:
    """A draft copy of an issued prescription to change; issuing it supersedes the original,
    which stays readable as it was. An open draft version is reused, not duplicated."""
    locked = Prescription.objects.select_for_update().get(pk=prescription.pk)
    if locked.status != Prescription.Status.ISSUED:
        raise ValidationError("Only the current issued version can be changed.")
    existing = locked.versions.filter(status=Prescription.Status.DRAFT).first()
    if existing is not None:
        return existing
    draft = Prescription.objects.create(
        clinic=locked.clinic,
        patient=locked.patient,
        therapist=actor.user or locked.therapist,
        title=locked.title,
        advice=locked.advice,
        review_date=locked.review_date,
        large_print=locked.large_print,
        log_weeks=locked.log_weeks,
        print_scores=locked.print_scores,
        supersedes=locked,
        version=locked.version + 1,
    )
    _append_items(locked.items.all(), draft, start=0)
    _audit(actor, draft, Action.CREATE, f"New version of prescription {locked.pk}")
    return draft


@transaction.atomic
def prescription_copy_previous(*, prescription: Prescription, actor: Actor) -> Appended:
    """Append the exercises of the patient's most recent other prescription to a draft."""
    _require_draft(Prescription.objects.select_for_update().get(pk=prescription.pk))
    previous = (
        Prescription.objects.filter(patient=prescription.patient)
        .exclude(pk=prescription.pk)
        .exclude(items__isnull=True)
        .order_by("-issued_at", "-created_at")
        .first()
    )
    if previous is None:
        raise ValidationError("This patient has no earlier prescription to start from.")
    appended = _append_items(previous.items.all(), prescription, start=_next_order(prescription))
    _audit(actor, prescription, Action.CHANGE, f"Draft: exercises of prescription {previous.pk}")
    return appended
