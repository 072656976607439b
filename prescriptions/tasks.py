"""Background work: emailing handouts.

The request only records a ``Delivery`` and queues ``send_delivery``; the
task claims the delivery, sends the stored PDF and records the outcome.
"""

import logging
import smtplib
import socket
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

from prescriptions.models import Delivery

logger = logging.getLogger(__name__)


def explain(error: Exception) -> str:
    """The failure in words a therapist can act on (no patient data)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "The mail server refused the address. Check the patient's email address."
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "The mail server refused our login. Ask your administrator to check EMAIL_URL."
    if isinstance(error, smtplib.SMTPResponseException):
        return f"The mail server answered {error.smtp_code}: it did not accept the message."
    if isinstance(
        error, (ConnectionError, socket.timeout, TimeoutError, smtplib.SMTPServerDisconnected)
    ):
        return "The mail server could not be reached. Try again in a few minutes."
    if isinstance(error, OSError):
        return "The mail server could not be reached. Try again in a few minutes."
    return "The email could not be sent because of an unexpected error."


def one_line(text: str) -> str:
    """Header text from user data: line breaks (header injection) become spaces."""
    return " ".join(text.split())


def build_message(delivery: Delivery) -> EmailMultiAlternatives:
    prescription = delivery.prescription
    clinic = prescription.clinic
    clinic_name = one_line(clinic.name)
    handout = prescription.handout
    context = {"prescription": prescription, "clinic": clinic, "patient": prescription.patient}
    from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    message = EmailMultiAlternatives(
        subject=f"Your home exercise program from {clinic_name}",
        body=render_to_string("emails/handout.txt", context),
        from_email=formataddr((clinic_name, from_address)),
        to=[delivery.recipient],
        reply_to=[clinic.email] if clinic.email else None,
        headers={"Message-ID": make_msgid(domain=from_address.partition("@")[2] or None)},
    )
    message.attach_alternative(render_to_string("emails/handout.html", context), "text/html")
    with handout.pdf.open("rb") as pdf:
        message.attach(f"{slug_for_file(prescription.title)}.pdf", pdf.read(), "application/pdf")
    return message


def slug_for_file(title: str) -> str:
    from django.utils.text import slugify

    return slugify(title)[:60] or "home-exercise-program"


@task
def send_delivery(delivery_id: int) -> str:
    with transaction.atomic():
        delivery = (
            # Lock only the delivery row: PostgreSQL cannot lock the nullable
            # side of the outer joins that select_related adds.
            Delivery.objects.select_for_update(of=("self",))
            .select_related(
                "prescription__clinic", "prescription__patient", "prescription__handout"
            )
            .get(pk=delivery_id)
        )
        if delivery.status not in (Delivery.Status.QUEUED, Delivery.Status.FAILED):
            return delivery.status
        delivery.status = Delivery.Status.SENDING
        delivery.attempts += 1
        delivery.save(update_fields=["status", "attempts", "updated_at"])

    message = build_message(delivery)
    try:
        message.send()
    except Exception as error:
        logger.warning("Delivery %s failed: %s", delivery.pk, type(error).__name__)
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED,
            last_error=explain(error)[:300],
            updated_at=timezone.now(),
        )
        return Delivery.Status.FAILED
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
        last_error="",
        message_id=message.extra_headers["Message-ID"],
        updated_at=timezone.now(),
    )
    return Delivery.Status.SENT
