"""Issued handouts still to draw: the staff's "Try again", and re-queueing the ones a
lost task or a dead worker left behind (drawing itself is ``prescriptions.tasks``)."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.audit import Actor
from prescriptions.models import Handout
from prescriptions.services.programs import Action, _audit


def handout_render_retry(*, handout: Handout, actor: Actor) -> bool:
    """Draw a failed handout again now, with a new round of automatic retries.
    Returns False if it is not failed (any more): drawn, or being drawn."""
    from prescriptions.tasks import render_handout

    with transaction.atomic():
        updated = Handout.objects.filter(pk=handout.pk, status=Handout.Status.FAILED).update(
            status=Handout.Status.PREPARING,
            attempts=0,
            next_attempt_at=timezone.now(),
            last_error="",
        )
        if updated:
            _audit(actor, handout.prescription, Action.CHANGE, "Handout drawn again (Try again)")
    if updated:
        # Outside the transaction, as when issuing: the immediate backend draws it here.
        render_handout.enqueue(handout.pk)
    return bool(updated)


def handouts_requeue(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Queue again every handout that should be being drawn but is not: claimed by a
    worker that died (its lease ran out), or preparing and due for longer than
    ``older_than`` with no task left to draw it. Queueing one twice is harmless: only
    one worker can claim it."""
    from prescriptions.tasks import handout_claimable, render_handout

    now = timezone.now()
    lapsed = Q(status=Handout.Status.RENDERING)
    not_ready = Handout.objects.filter(status__in=Handout.NOT_READY)  # The partial index.
    stale = not_ready.filter(handout_claimable(now)).filter(
        lapsed | Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=now - older_than)
    )
    ids = list(stale.values_list("pk", flat=True))
    for pk in ids:
        render_handout.enqueue(pk)
    return len(ids)
