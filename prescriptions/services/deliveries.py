"""Emailing issued handouts: requests, retries and re-queueing (sending is in ``tasks``)."""

import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from clinic.audit import Actor
from prescriptions.models import (
    Delivery,
    Handout,
    Prescription,
)
from prescriptions.services.programs import Action, _audit


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


def deliveries_requeue(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Queue again every delivery that should be moving but is not: claimed by a worker
    that died (its lease ran out), or queued or due for retry for longer than
    ``older_than`` with no task left to send it (a lost task; a task still waiting in a
    busy queue is left alone), once its handout is drawn. Queueing one twice is
    harmless: only one worker can claim it."""
    from prescriptions.tasks import claimable, send_delivery

    now = timezone.now()
    lapsed = Q(status=Delivery.Status.SENDING)
    stale = Delivery.objects.filter(claimable(now)).filter(
        lapsed | Q(updated_at__lt=now - older_than)
    )
    # One whose handout is still being drawn waits for it: drawing it queues the email.
    stale = stale.filter(prescription__handout__status=Handout.Status.READY)
    ids = list(stale.values_list("pk", flat=True))
    for pk in ids:
        send_delivery.enqueue(pk)
    return len(ids)
