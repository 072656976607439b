"""Background work: drawing issued handouts, and emailing them.

**Drawing** (``render_handout``). Issuing stores the snapshot and queues this task;
the request does not wait for WeasyPrint. The task works like the emails below:

1. **Claim**: a handout still to draw (preparing and due, or a claim that ran out)
   becomes ``rendering`` with a lease (``next_attempt_at``, ``HANDOUT_LEASE_SECONDS``),
   atomically, so one handout is never drawn twice at once.
2. **Draw** the PDF from the stored snapshot, with the program link's page address
   made again from the link's nonce (it is never stored), and store the file.
3. **Record** it, only if the claim is still ours: ``ready``, with the hash and size;
   then queue the emails that waited for it. A failure is retried twice, after 10
   and 60 seconds, then shown to staff as ``failed`` with a "Try again" button.

A worker that dies mid-draw leaves a ``rendering`` handout whose lease runs out;
``manage.py requeue_deliveries`` (every minute) queues it again, and any handout
left ``preparing`` for a minute with no task to draw it.

**Emailing** (``send_delivery``). A request only records a ``Delivery`` and queues
``send_delivery``. The task sends in three short steps, so no database lock is held
while talking to the mail server:

1. **Claim**: a pending delivery (queued, due for retry, or a claim that ran
   out) whose handout is ready becomes ``sending`` with a lease
   (``next_attempt_at``), atomically, so two workers never both claim it. One
   whose handout is still being drawn stays queued: drawing it queues the email.
2. **Send** the stored PDF.
3. **Record** the outcome, only if the claim is still ours: sent; a temporary
   failure (server down, timeout, 4xx) is retried with back-off; a permanent
   one (5xx, bad address) stops at once.

A worker that dies between 1 and 3 leaves a ``sending`` delivery whose lease
(a minute by default) runs out; ``manage.py requeue_deliveries``, run every
minute by the scheduler, picks it up again: the email goes within about two
minutes of the worker's death. The one window that could still send twice is a worker dying in the
instant between the server's "250 accepted" and step 3.
"""

import datetime
import hashlib
import logging
import socket
import time
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.tasks import default_task_backend, task
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from clinic.mail import explain, is_temporary
from clinic.storage import private_name
from prescriptions import handouts, links
from prescriptions.models import Delivery, Handout

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF = [datetime.timedelta(minutes=m) for m in (1, 5, 15, 60)]
# How long a claim holds: the SMTP conversation (EMAIL_TIMEOUT applies to each of its
# few socket operations) and then recording the outcome.
LEASE = datetime.timedelta(seconds=settings.OPENHEP_DELIVERY_LEASE_SECONDS)
# After a send, how long to keep trying to record it while the database is away
# (seconds between tries; 30 s in all, inside the lease with a prompt send).
RECORD_RETRY_PAUSES = (1, 2, 4, 8, 15)


def one_line(text: str) -> str:
    """Header text from user data: line breaks (header injection) become spaces."""
    return " ".join(text.split())


def fill(template: str, *, patient: str, clinic: str, program: str) -> str:
    """The clinic's subject or message with its placeholders filled in (plain replace:
    str.format would let a template reach attributes)."""
    for key, value in (("{patient}", patient), ("{clinic}", clinic), ("{program}", program)):
        template = template.replace(key, value)
    return template


def build_message(delivery: Delivery) -> EmailMultiAlternatives:
    prescription = delivery.prescription
    clinic = prescription.clinic
    clinic_name = one_line(clinic.name)
    names = {
        "patient": prescription.patient.display_name,
        "clinic": clinic.name,
        "program": prescription.title,
    }
    context = {
        "prescription": prescription,
        "clinic": clinic,
        "patient": prescription.patient,
        "delivery": delivery,
        "body": fill(clinic.email_message, **names),
        "page_url": links.open_page_url(prescription),
    }
    from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    reply_to = clinic.reply_to or clinic.email
    message = EmailMultiAlternatives(
        subject=one_line(fill(clinic.email_subject, **names)),
        body=render_to_string("emails/handout.txt", context),
        from_email=formataddr((clinic_name, from_address)),
        to=[delivery.recipient],
        cc=[delivery.extra_recipient] if delivery.extra_recipient else None,
        reply_to=[reply_to] if reply_to else None,
        headers={"Message-ID": message_id(delivery, from_address)},
    )
    message.attach_alternative(render_to_string("emails/handout.html", context), "text/html")
    with prescription.handout.pdf.open("rb") as pdf:
        filename = f"{slugify(prescription.title)[:60] or 'home-exercise-program'}.pdf"
        message.attach(filename, pdf.read(), "application/pdf")
    return message


def message_id(delivery: Delivery, from_address: str) -> str:
    """The same Message-ID on every attempt of one delivery: if a send is repeated
    (the database was lost between the server's "250" and our record of it),
    receiving servers and mail programs that de-duplicate see one message."""
    domain = from_address.partition("@")[2] or socket.getfqdn()
    key = delivery.request_key.hex[:16] if delivery.request_key else "0"
    return f"<openhep.delivery.{delivery.pk}.{key}@{domain}>"


def due_or_lease_over(now, *, waiting, working) -> Q:
    """Rows waiting (``waiting`` statuses) whose time has come, and rows being worked on
    (``working``) whose claim's lease ran out (a worker died): what a worker may claim."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return (Q(status__in=waiting) & due) | (Q(status=working) & Q(next_attempt_at__lt=now))


def claimable(now) -> Q:
    return due_or_lease_over(now, waiting=Delivery.PENDING, working=Delivery.Status.SENDING)


def claim(delivery_id: int) -> Delivery | None:
    now = timezone.now()
    with transaction.atomic():
        locked = Delivery.objects.select_for_update(
            of=("self",), skip_locked=connection.features.has_select_for_update_skip_locked
        )
        delivery = (
            locked.select_related(
                "prescription__clinic", "prescription__patient", "prescription__handout"
            )
            .filter(
                claimable(now), pk=delivery_id, prescription__handout__status=Handout.Status.READY
            )
            .first()
        )
        if delivery is None:
            return None
        delivery.status = Delivery.Status.SENDING
        delivery.attempts += 1
        delivery.next_attempt_at = now + LEASE
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    return delivery


def record(delivery: Delivery, **changes) -> bool:
    """Store the outcome if our claim still stands (a lapsed lease may have been re-claimed)."""
    updated = Delivery.objects.filter(
        pk=delivery.pk, status=Delivery.Status.SENDING, attempts=delivery.attempts
    ).update(updated_at=timezone.now(), **changes)
    return updated == 1


def can_defer() -> bool:
    return default_task_backend.supports_defer


@task
def send_delivery(delivery_id: int) -> str:
    delivery = claim(delivery_id)
    if delivery is None:
        return "skipped"
    try:
        message = build_message(delivery)
        message.send()
    except Exception as error:
        temporary = is_temporary(error)
        logger.warning(
            "Delivery %s attempt %s failed (%s, %s)",
            delivery.pk,
            delivery.attempts,
            type(error).__name__,
            "temporary" if temporary else "permanent",
        )
        words = explain(error)
        if temporary and delivery.attempts < MAX_ATTEMPTS and can_defer():
            when = timezone.now() + BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1]
            if record(
                delivery, status=Delivery.Status.RETRY, next_attempt_at=when, last_error=words[:300]
            ):
                send_delivery.using(run_after=when).enqueue(delivery.pk)
            return Delivery.Status.RETRY
        if temporary and delivery.attempts < MAX_ATTEMPTS:
            words += " Press Retry to try again."
        record(
            delivery, status=Delivery.Status.FAILED, next_attempt_at=None, last_error=words[:300]
        )
        return Delivery.Status.FAILED
    sent_at = timezone.now()
    for pause in (*RECORD_RETRY_PAUSES, None):
        # The server has the message: try hard to write that down, or the lease runs
        # out and the message goes again (with the same Message-ID).
        try:
            record(
                delivery,
                status=Delivery.Status.SENT,
                sent_at=sent_at,
                next_attempt_at=None,
                last_error="",
                message_id=message.extra_headers["Message-ID"],
            )
            break
        except (OperationalError, InterfaceError):
            if pause is None:
                raise
            logger.warning("Delivery %s sent; database unreachable, retrying", delivery.pk)
            connection.close()
            time.sleep(pause)
    return Delivery.Status.SENT


# Drawing handouts ------------------------------------------------------------------

RENDER_ATTEMPTS = 3
RENDER_BACKOFF = [datetime.timedelta(seconds=s) for s in (10, 60)]
# How long a claim on a handout holds: far longer than any render (a 50-exercise handout
# draws in a few seconds), short enough that a dead worker's handout is drawn again soon.
RENDER_LEASE = datetime.timedelta(seconds=settings.OPENHEP_HANDOUT_LEASE_SECONDS)


def handout_claimable(now) -> Q:
    return due_or_lease_over(
        now, waiting=[Handout.Status.PREPARING], working=Handout.Status.RENDERING
    )


def claim_handout(handout_id: int) -> Handout | None:
    now = timezone.now()
    with transaction.atomic():
        locked = Handout.objects.select_for_update(
            of=("self",), skip_locked=connection.features.has_select_for_update_skip_locked
        )
        handout = (
            locked.select_related("prescription")
            .filter(handout_claimable(now), pk=handout_id)
            .first()
        )
        if handout is None:
            return None
        handout.status = Handout.Status.RENDERING
        handout.attempts += 1
        handout.next_attempt_at = now + RENDER_LEASE
        handout.save(update_fields=["status", "attempts", "next_attempt_at"])
    return handout


def record_handout(handout: Handout, **changes) -> bool:
    """Store the outcome if our claim still stands (a lapsed lease may have been re-claimed)."""
    updated = Handout.objects.filter(
        pk=handout.pk, status=Handout.Status.RENDERING, attempts=handout.attempts
    ).update(**changes)
    return updated == 1


def draw_issued(handout: Handout) -> bytes:
    """The PDF of an issued handout: its stored snapshot, and its program link's page
    (the same bytes every time for one handout)."""
    link = handout.program_link
    return handouts.render_pdf(
        handout.snapshot, draft=False, program_url=links.printed_page_url(link)
    )


@task
def render_handout(handout_id: int) -> str:
    handout = claim_handout(handout_id)
    if handout is None:
        return "skipped"  # Drawn already, being drawn, gone, or not due yet.
    field = Handout._meta.get_field("pdf")
    storage = field.storage
    name = ""
    try:
        pdf = draw_issued(handout)
        wanted = field.generate_filename(handout, private_name(".pdf"))
        name = storage.save(wanted, ContentFile(pdf))
        kept = record_handout(
            handout,
            status=Handout.Status.READY,
            pdf=name,
            sha256=hashlib.sha256(pdf).hexdigest(),
            size=len(pdf),
            last_error="",
            next_attempt_at=None,
            ready_at=timezone.now(),
        )
    except Exception as error:
        if name:
            storage.delete(name)
        return _render_failed(handout, error)
    if not kept:
        storage.delete(name)  # Another worker took over after our lease ran out.
        return "skipped"
    released = _release_emails(handout)
    logger.info("Handout %s drawn; %s waiting email(s) queued", handout.pk, released)
    return Handout.Status.READY


def _render_failed(handout: Handout, error: Exception) -> str:
    logger.exception("Handout %s: drawing attempt %s failed", handout.pk, handout.attempts)
    # The exception's class only: its text may quote the patient's program.
    words = f"The handout could not be drawn ({type(error).__name__})."
    if handout.attempts < RENDER_ATTEMPTS and can_defer():
        when = timezone.now() + RENDER_BACKOFF[min(handout.attempts, len(RENDER_BACKOFF)) - 1]
        if record_handout(
            handout,
            status=Handout.Status.PREPARING,
            next_attempt_at=when,
            last_error=f"{words} Trying again.",
        ):
            render_handout.using(run_after=when).enqueue(handout.pk)
        return Handout.Status.PREPARING
    record_handout(
        handout,
        status=Handout.Status.FAILED,
        next_attempt_at=None,
        last_error=f"{words} Press Try again; if it fails again, tell your administrator.",
    )
    return Handout.Status.FAILED


def _release_emails(handout: Handout) -> int:
    """Queue the emails of this prescription that waited for its handout."""
    ids = list(
        Delivery.objects.filter(
            claimable(timezone.now()), prescription_id=handout.prescription_id
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        send_delivery.enqueue(pk)
    return len(ids)
