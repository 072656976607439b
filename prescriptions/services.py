"""Writes to prescriptions, templates and deliveries.

Every service that changes a patient's prescription writes its audit entry in
its own transaction, from the ``Actor`` it is given (see ``clinic.audit``).
"""

import hashlib
import json
import logging
import threading
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from clinic.slugs import unique_slug
from exercises.dose import Dose
from exercises.models import Exercise
from prescriptions import handouts
from prescriptions.models import (
    Delivery,
    Handout,
    Prescription,
    PrescriptionItem,
    ProgramTemplate,
    TemplateItem,
)
from prescriptions.selectors import handout_snapshot, prescription_for_handout

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
    """Append an exercise with its default dose."""
    prescription = Prescription.objects.select_for_update().get(pk=prescription.pk)
    _require_draft(prescription)
    _require_room(prescription.items.count(), 1)
    item = PrescriptionItem(
        prescription=prescription,
        exercise=exercise,
        order=_next_order(prescription),
        **exercise.dose.as_dict(),
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


def handout_render_draft(*, prescription: Prescription) -> bytes:
    """The draft's handout, rendered now (no cache, no limit: commands and benches)."""
    fresh = prescription_for_handout(prescription.pk)
    return handouts.render_pdf(handout_snapshot(fresh), draft=True)


class RenderBusy(Exception):
    """Too many previews are being drawn at once; the user should try again shortly."""


_process_slots: threading.BoundedSemaphore | None = None


def _slots() -> threading.BoundedSemaphore:
    global _process_slots
    if _process_slots is None:
        _process_slots = threading.BoundedSemaphore(settings.OPENHEP_PREVIEWS_PER_PROCESS)
    return _process_slots


@contextmanager
def _render_slot(user):
    """One preview at a time per user (across processes when the cache is shared, e.g.
    Redis), and at most ``OPENHEP_PREVIEWS_PER_PROCESS`` per process. Never queues:
    a render waiting behind twenty others helps nobody; a clear "busy" does."""
    mine = f"openhep:preview-busy:{user.pk}"
    if not cache.add(mine, 1, timeout=PREVIEW_RENDER_SECONDS):
        raise RenderBusy("Your previous preview is still being drawn.")
    try:
        if not _slots().acquire(blocking=False):
            raise RenderBusy("Several previews are being drawn right now.")
        try:
            yield
        finally:
            _slots().release()
    finally:
        cache.delete(mine)


PREVIEW_CACHE_SECONDS = 600
# Longer than any render; a crashed worker's claim expires after this.
PREVIEW_RENDER_SECONDS = 120


def handout_preview(*, prescription: Prescription, user) -> bytes:
    """The draft's handout for the preview button: rendered once per content (the same
    plan previewed again comes from the cache) and within the render limits above.
    Raises ``RenderBusy`` when over them."""
    fresh = prescription_for_handout(prescription.pk)
    snapshot = handout_snapshot(fresh)
    content = json.dumps(snapshot, sort_keys=True, default=str).encode()
    key = f"openhep:preview:{hashlib.sha256(content).hexdigest()}"
    pdf = cache.get(key)
    if pdf is None:
        with _render_slot(user):
            pdf = handouts.render_pdf(snapshot, draft=True)
        cache.set(key, pdf, timeout=PREVIEW_CACHE_SECONDS)
    return pdf


ISSUE_ATTEMPTS = 3


def prescription_issue(*, prescription: Prescription, actor: Actor) -> Handout:
    """Freeze a draft: render its handout once and keep the PDF and what it printed.

    WeasyPrint runs before any lock is taken (a render takes a while; on SQLite a
    write lock would stop the whole clinic). Then one short transaction locks the
    draft, checks that it still says what was rendered, and stores the status, the
    hash, the snapshot and the audit entry. If the plan changed during the render it
    is rendered again; if the transaction fails, the stored file is removed.

    Issuing an already issued prescription (a double click) returns its handout.
    """
    for _ in range(ISSUE_ATTEMPTS):
        fresh = prescription_for_handout(prescription.pk)
        if fresh.status == Prescription.Status.ISSUED and hasattr(fresh, "handout"):
            return fresh.handout
        _require_draft(fresh)
        if not fresh.items.all():
            raise ValidationError("Add at least one exercise before issuing.")
        now = timezone.now()
        snapshot = handout_snapshot(fresh, issued_at=now)
        pdf = handouts.render_pdf(snapshot, draft=False)
        field = Handout._meta.get_field("pdf")
        filename = f"handout-{prescription.pk}-{uuid.uuid4().hex[:8]}.pdf"
        name = field.storage.save(
            field.generate_filename(Handout(prescription=fresh), filename), ContentFile(pdf)
        )
        try:
            handout = _store_issued(
                prescription, snapshot=snapshot, pdf=pdf, name=name, now=now, actor=actor
            )
        except BaseException:
            field.storage.delete(name)
            raise
        if handout is not None and handout.pdf.name == name:
            prescription.refresh_from_db()
            return handout
        field.storage.delete(name)
        if handout is not None:
            return handout  # Issued by a request that got there first (a double click).
        logger.info("Prescription %s changed while its handout rendered", prescription.pk)
    raise ValidationError(
        "The plan kept changing while its handout was being made. Save it, then issue again."
    )


@transaction.atomic
def _store_issued(
    prescription: Prescription, *, snapshot: dict, pdf: bytes, name: str, now, actor: Actor
) -> Handout | None:
    """The short write of an issue; ``None`` if the draft no longer matches ``snapshot``."""
    locked = Prescription.objects.select_for_update().get(pk=prescription.pk)
    if locked.status == Prescription.Status.ISSUED and hasattr(locked, "handout"):
        return locked.handout
    _require_draft(locked)
    if handout_snapshot(prescription_for_handout(locked.pk), issued_at=now) != snapshot:
        return None
    handout = Handout(
        prescription=locked,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        snapshot=snapshot,
    )
    handout.pdf.name = name
    handout.save()
    Prescription.objects.filter(pk=locked.pk).update(
        status=Prescription.Status.ISSUED, issued_at=now, updated_at=now
    )
    if locked.supersedes_id:
        Prescription.objects.filter(
            pk=locked.supersedes_id, status=Prescription.Status.ISSUED
        ).update(status=Prescription.Status.SUPERSEDED, updated_at=now)
    _audit(actor, locked, Action.CHANGE, "Issued")
    return handout


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


def _append_items(items, target: Prescription, *, start: int) -> int:
    """Append a prescription's or template's items to a draft: only exercises that can
    still be prescribed (retired ones stay on old handouts)."""
    published = [
        i
        for i in items.select_related("exercise")
        if i.exercise.status == Exercise.Status.PUBLISHED
    ]
    _require_room(target.items.count(), len(published))
    return _copy_items(published, PrescriptionItem, start=start, prescription=target)


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
        therapist=actor.user,
        title=locked.title,
        advice=locked.advice,
        review_date=locked.review_date,
        large_print=locked.large_print,
        log_weeks=locked.log_weeks,
        supersedes=locked,
    )
    _append_items(locked.items.all(), draft, start=0)
    _audit(actor, draft, Action.CREATE, f"New version of prescription {locked.pk}")
    return draft


@transaction.atomic
def prescription_copy_previous(*, prescription: Prescription, actor: Actor) -> int:
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
    count = _append_items(previous.items.all(), prescription, start=_next_order(prescription))
    _audit(actor, prescription, Action.CHANGE, f"Draft: exercises of prescription {previous.pk}")
    return count


def delivery_request(
    *,
    prescription: Prescription,
    actor: Actor,
    request_key: uuid.UUID,
    extra_recipient: str = "",
    message: str = "",
) -> tuple[Delivery, bool]:
    """Record an email of the handout to the patient and queue it.

    Returns ``(delivery, created)``: a double click or a resubmitted form
    carries the same key and gets the first delivery back, so it sends once.
    """
    from prescriptions.tasks import send_delivery

    patient = prescription.patient
    if prescription.status == Prescription.Status.DRAFT:
        raise ValidationError("Issue the prescription before emailing its handout.")
    if not patient.email:
        raise ValidationError("Add the patient's email address first.")
    if not patient.email_consent:
        raise ValidationError(
            "This patient has not agreed to receive handouts by email. Record their consent first."
        )
    # Looked up within this prescription only: a key taken from another clinic's form
    # must not reveal that delivery or its recipient.
    mine = Delivery.objects.filter(prescription=prescription, request_key=request_key)
    existing = mine.first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                prescription=prescription,
                requested_by=actor.user,
                recipient=patient.email,
                extra_recipient=extra_recipient,
                message=message,
                request_key=request_key,
            )
            copies = " and a copy to a second address" if extra_recipient else ""
            _audit(actor, prescription, Action.EMAIL, f"Handout emailed{copies}")
            transaction.on_commit(lambda: send_delivery.enqueue(delivery.pk))
    except IntegrityError:
        # The same form, submitted twice at the same moment: the other request won.
        existing = mine.first()
        if existing is None:
            raise ValidationError("This form has expired. Reload the page and try again.") from None
        return existing, False
    return delivery, True


def delivery_retry(*, delivery: Delivery, actor: Actor) -> bool:
    """Queue a failed delivery again now. Returns False if it is not failed (any more)."""
    from prescriptions.tasks import send_delivery

    with transaction.atomic():
        updated = Delivery.objects.filter(
            pk=delivery.pk, status__in=[Delivery.Status.FAILED, Delivery.Status.RETRY]
        ).update(status=Delivery.Status.QUEUED, next_attempt_at=None, updated_at=timezone.now())
        if updated:
            _audit(actor, delivery.prescription, Action.EMAIL, "Email retried")
            transaction.on_commit(lambda: send_delivery.enqueue(delivery.pk))
    return bool(updated)


def deliveries_requeue(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Queue again every delivery that should be moving but is not: queued or due for
    retry with no task left to send it (a lost task), or claimed by a worker that died
    (its lease ran out). Queueing one twice is harmless: only one worker can claim it."""
    from prescriptions.tasks import claimable, send_delivery

    now = timezone.now()
    stale = Delivery.objects.filter(claimable(now), updated_at__lt=now - older_than)
    ids = list(stale.values_list("pk", flat=True))
    for pk in ids:
        send_delivery.enqueue(pk)
    return len(ids)


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
def template_apply(*, prescription: Prescription, template: ProgramTemplate, actor: Actor) -> int:
    """Append a template's exercises, with its doses and notes, to a draft. Returns how many.

    Exercises retired since the template was made are left out.
    """
    _require_draft(Prescription.objects.select_for_update().get(pk=prescription.pk))
    count = _append_items(template.items.all(), prescription, start=_next_order(prescription))
    if template.advice and not prescription.advice:
        Prescription.objects.filter(pk=prescription.pk).update(advice=template.advice)
    _audit(actor, prescription, Action.CHANGE, f"Draft: template {template.pk} applied")
    return count


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
