"""Program templates: the bundled ones, applying one to a draft, saving a draft as one."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from clinic.audit import Actor
from clinic.slugs import unique_slug
from exercises.models import Exercise
from prescriptions.models import (
    Prescription,
    ProgramTemplate,
    TemplateItem,
)
from prescriptions.services.programs import (
    DOSE_NAMES,
    Action,
    Appended,
    _append_items,
    _audit,
    _copy_items,
    _next_order,
    _require_draft,
    _require_room,
)


@transaction.atomic
def templates_load(*, entries: list) -> int:
    """Load or update the shared templates (bundled ``templates.json``); returns how many
    changed. Loading the same entries twice changes nothing."""
    exercises = {e.slug: e for e in Exercise.objects.filter(clinic__isnull=True)}
    changed = 0
    for entry in entries:
        missing = [i["exercise"] for i in entry["items"] if i["exercise"] not in exercises]
        if missing:
            raise ValidationError(f"Template {entry['slug']}: unknown exercise(s) {missing}")
        if len(entry["items"]) > settings.OPENHEP_MAX_ITEMS:
            raise ValidationError(
                f"Template {entry['slug']}: {len(entry['items'])} exercises, "
                f"more than the {settings.OPENHEP_MAX_ITEMS} a program can hold"
            )
        wanted_items = []
        for order, item in enumerate(entry["items"]):
            exercise = exercises[item["exercise"]]
            dose = {**exercise.dose.as_dict(), **item.get("dose", {})}
            wanted_items.append(
                (exercise.pk, order, item.get("note", ""), tuple(dose[k] for k in DOSE_NAMES))
            )
        template, created = ProgramTemplate.objects.get_or_create(
            clinic=None,
            slug=entry["slug"],
            defaults={
                "name": entry["name"],
                "description": entry.get("description", ""),
                "advice": entry.get("advice", ""),
            },
        )
        fields = {
            "name": entry["name"],
            "description": entry.get("description", ""),
            "advice": entry.get("advice", ""),
        }
        current_items = [
            (i.exercise_id, i.order, i.note, tuple(getattr(i, k) for k in DOSE_NAMES))
            for i in template.items.all()
        ]
        same_fields = all(getattr(template, k) == v for k, v in fields.items())
        if not created and same_fields and current_items == wanted_items:
            continue
        for key, value in fields.items():
            setattr(template, key, value)
        template.save()
        template.items.all().delete()
        items = [
            TemplateItem(
                template=template,
                exercise_id=pk,
                order=order,
                note=note,
                **dict(zip(DOSE_NAMES, dose, strict=True)),
            )
            for pk, order, note, dose in wanted_items
        ]
        for item in items:
            try:
                item.full_clean(exclude=["template", "exercise"])
            except ValidationError as error:
                raise ValidationError(
                    f"Template {entry['slug']}, item {item.order + 1}: {' '.join(error.messages)}"
                ) from error
        TemplateItem.objects.bulk_create(items)
        changed += 1
    return changed


@transaction.atomic
def template_apply(
    *, prescription: Prescription, template: ProgramTemplate, actor: Actor
) -> Appended:
    """Append a template's exercises, with its doses and notes, to a draft. Returns how many.

    Exercises retired since the template was made are left out, and so are those the
    draft already has.
    """
    _require_draft(Prescription.objects.select_for_update().get(pk=prescription.pk))
    appended = _append_items(template.items.all(), prescription, start=_next_order(prescription))
    if template.advice and not prescription.advice:
        Prescription.objects.filter(pk=prescription.pk).update(advice=template.advice)
    _audit(actor, prescription, Action.CHANGE, f"Draft: template {template.pk} applied")
    return appended


@transaction.atomic
def template_save_from(*, prescription: Prescription, name: str, actor: Actor) -> ProgramTemplate:
    """The draft's exercises, doses and notes as a new template of the clinic (clinic
    data, not the patient's: nothing in a template names them, so no audit entry)."""
    name = " ".join(name.split())[:150]
    if not name:
        raise ValidationError("Give the template a name.")
    items = list(prescription.items.all())
    if not items:
        raise ValidationError("Add exercises before saving the plan as a template.")
    _require_room(0, len(items))
    slug = unique_slug(
        ProgramTemplate.objects.filter(clinic=prescription.clinic),
        name,
        fallback="template",
        max_length=146,
    )
    template = ProgramTemplate.objects.create(
        clinic=prescription.clinic,
        name=name,
        slug=slug,
        advice=prescription.advice,
        created_by=actor.user,
    )
    _copy_items(items, TemplateItem, template=template)
    return template
