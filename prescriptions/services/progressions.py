"""Progressions: one click starts a new version of a program with one exercise made
easier or harder, for the therapist to check in the builder and issue."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from exercises.dose import MOST, Dose
from exercises.models import Exercise
from prescriptions.models import Prescription, PrescriptionItem
from prescriptions.services.programs import (
    _audit,
    _require_draft,
    prescription_new_version,
)

LEVELS: list[str] = [
    Exercise.Difficulty.EASY,
    Exercise.Difficulty.MODERATE,
    Exercise.Difficulty.HARD,
]
# About a third less, or a third more.
EASIER, HARDER = 2 / 3, 4 / 3


@dataclass(frozen=True)
class Adjustment:
    """What changed, in words for the therapist's message."""

    draft: Prescription
    item: PrescriptionItem
    summary: str


def _level(exercise: Exercise) -> int:
    return LEVELS.index(exercise.difficulty) if exercise.difficulty in LEVELS else 0


def swap_for(exercise: Exercise, *, easier: bool, clinic, exclude: set[int]) -> Exercise | None:
    """The exercise's own easier (or harder) version when the library links one, else
    the nearest step down (or up) in difficulty among the exercise's related exercises,
    else among published exercises that share a body region and a category with it (a
    stretch is not swapped for a strengthening exercise). ``None`` when there is none."""
    visible = (
        Exercise.objects.published().visible_to(clinic).exclude(pk__in={exercise.pk, *exclude})
    )
    linked = (
        visible.filter(pk=exercise.easier_id)
        if easier
        else visible.filter(easier=exercise).order_by("name", "pk")
    ).first()
    if linked is not None:
        return linked
    level = _level(exercise)
    wanted = LEVELS[:level] if easier else LEVELS[level + 1 :]
    if not wanted:
        return None
    candidates = (
        Exercise.objects.published()
        .visible_to(clinic)
        .filter(difficulty__in=wanted)
        .exclude(pk__in={exercise.pk, *exclude})
    )
    related = candidates.filter(Q(related_from=exercise) | Q(related=exercise)).distinct()
    similar = candidates.filter(
        regions__in=exercise.regions.all(), categories__in=exercise.categories.all()
    ).distinct()
    # The closest step first: moderate before easy when making a hard exercise easier.
    for pool in (related, similar):
        found = sorted(pool, key=lambda e: (abs(_level(e) - level), e.name, e.pk))
        if found:
            return found[0]
    return None


def _step(value: int, factor: float, most: int, *, round_to: int = 1) -> int:
    stepped = round(value * factor / round_to) * round_to
    if stepped == value:  # Small numbers: still one step, when there is room.
        stepped = value - 1 if factor < 1 else value + 1
    return min(max(stepped, 1), most)


def scaled_dose(dose: Dose, *, easier: bool) -> Dose:
    """The dose about a third lighter (or heavier): the hold and repetitions, or the sets
    when the dose gives neither; holds of 15 seconds or more in steps of 5 seconds.
    Stays within the dose's limits (``exercises.dose.MOST``)."""
    factor = EASIER if easier else HARDER
    values = dose.as_dict()
    scaled = [name for name in ("hold_seconds", "reps") if values[name]] or (
        ["sets"] if values["sets"] else []
    )
    for name in scaled:
        round_to = 5 if name == "hold_seconds" and values[name] >= 15 else 1
        values[name] = _step(values[name], factor, MOST[name], round_to=round_to)
    return Dose(**values)


def _amount(dose: Dose) -> str:
    """How much, without how often: "Hold 20 seconds · 8 repetitions, 3 sets"."""
    return Dose(hold_seconds=dose.hold_seconds, reps=dose.reps, sets=dose.sets).amount


def _draft_item(draft: Prescription, item: PrescriptionItem) -> PrescriptionItem:
    """The draft's copy of ``item``: the same exercise, at the same place if it is there."""
    copies = list(draft.items.filter(exercise_id=item.exercise_id).order_by("order", "pk"))
    if not copies:
        raise ValidationError(
            f"{item.exercise.name} is no longer in the new version: open the draft to change it."
        )
    return next((copy for copy in copies if copy.order == item.order), copies[0])


@transaction.atomic
def prescription_adjust_item(*, item: PrescriptionItem, easier: bool, actor: Actor) -> Adjustment:
    """Start (or reuse) the draft new version of ``item``'s issued prescription, with that
    exercise made easier or harder: swapped for a related exercise one step down (or up)
    in difficulty when the library has one, else its dose scaled by about a third. The
    draft is audited as created by ``prescription_new_version`` and this change on top.
    Nothing is kept when the change is refused (the dose is already at its limit)."""
    prescription = item.prescription
    draft = prescription_new_version(prescription=prescription, actor=actor)
    target = _draft_item(draft, item)
    in_draft = set(draft.items.values_list("exercise_id", flat=True))
    swap = swap_for(target.exercise, easier=easier, clinic=prescription.clinic, exclude=in_draft)
    word = "easier" if easier else "harder"
    if swap is not None:
        before = target.exercise
        dose = swap.dose.as_dict()
        # The patient's routine stays: how often, and the side, are the therapist's.
        for name in ("side", "times_per_day", "days_per_week"):
            dose[name] = getattr(target, name)
        for name, value in dose.items():
            setattr(target, name, value)
        target.exercise = swap
        summary = f"{before.name} swapped for {swap.name} ({swap.get_difficulty_display()})."
        detail = f"Draft: exercise {before.pk} made {word}, swapped for exercise {swap.pk}"
    else:
        old = target.dose
        new = scaled_dose(old, easier=easier)
        if new == old:
            limit = "lightest" if easier else "heaviest"
            raise ValidationError(
                f"{target.exercise.name} is already at its {limit} dose and the library "
                f"has no {word} exercise to swap it for."
            )
        for name, value in new.as_dict().items():
            setattr(target, name, value)
        summary = f"{target.exercise.name}: {_amount(new)} (was {_amount(old)})."
        detail = f"Draft: exercise {target.exercise_id} made {word}, dose scaled"
    target.full_clean()
    target.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CHANGE,
        patient=draft.patient,
        target=f"prescription {draft.pk}",
        detail=detail,
    )
    return Adjustment(draft=draft, item=target, summary=summary)


@transaction.atomic
def prescription_item_swap(
    *, prescription: Prescription, item_pk, exercise: Exercise, actor: Actor
) -> PrescriptionItem:
    """The builder's "Easier version" / "Harder version": the draft's item takes
    ``exercise``, the easier or harder version linked to its own exercise, and keeps its
    dose, side, note and place. ``exercise`` comes from a clinic-scoped lookup (another
    clinic's is a 404 before this); one that is no longer linked is refused."""
    _require_draft(Prescription.objects.select_for_update().get(pk=prescription.pk))
    item = prescription.items.select_related("exercise").filter(pk=object_pk(item_pk) or 0).first()
    if item is None:
        raise ValidationError("That exercise is not in this plan.")
    before = item.exercise
    if exercise.pk == before.easier_id:
        word = "easier"
    elif exercise.easier_id == before.pk:
        word = "harder"
    else:
        raise ValidationError(
            f"{exercise.name} is no longer a version of {before.name}: reload the page."
        )
    if exercise.status != Exercise.Status.PUBLISHED or exercise.clinic_id not in (
        None,
        prescription.clinic_id,
    ):
        raise ValidationError(f"{exercise.name} cannot be prescribed.")
    item.exercise = exercise
    item.full_clean()
    item.save(update_fields=["exercise"])
    Prescription.objects.filter(pk=prescription.pk).update(updated_at=timezone.now())
    _audit(
        actor,
        prescription,
        AuditEntry.Action.CHANGE,
        f"Draft: exercise {before.pk} made {word}, swapped for exercise {exercise.pk}",
    )
    return item


def object_pk(value) -> int | None:
    """A posted id, or ``None`` when it is not a number (then nothing matches: ids start
    at 1)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
