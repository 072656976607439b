"""Background work: the reminder emails a patient asked for on their page.

``reminders.reminders_send`` writes a ``ReminderSent`` row per due moment and queues
``send_reminder`` for it. The task claims the row by moving its ``attempts`` on from
the number it read (so two tasks for one row cannot both send), sends, and records the
outcome. A temporary failure (server away, 4xx) is tried again a couple of times; a
permanent one, or the last try, leaves the row failed with the error's class and
plain words, never the address or the patient's name.
"""

import datetime
import logging
import socket
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.mail import explain, is_temporary
from patientpage.models import ReminderSent
from patientpage.reminders import TOO_LATE, plan_sends, unsubscribe_url
from prescriptions import links
from prescriptions.tasks import can_defer, one_line

logger = logging.getLogger(__name__)

Status = ReminderSent.Status
MAX_ATTEMPTS = 3
BACKOFF = [datetime.timedelta(minutes=m) for m in (5, 15)]
SUBJECTS = {
    ReminderSent.Kind.REMINDER: "Time for your exercises",
    ReminderSent.Kind.NUDGE: "Your exercises are here when you are ready",
}


def build_reminder(row: ReminderSent) -> EmailMultiAlternatives:
    """The reminder email: from the clinic, addressed by first name only, with the
    page's link and a one-click unsubscribe (RFC 8058) that holds no program token."""
    plan = row.plan
    link = plan.link
    clinic = link.clinic
    token = links.token_of(link)
    stop_url = unsubscribe_url(plan)
    context = {
        "kind": row.kind,
        "first_name": plan.patient.preferred_name or plan.patient.first_name,
        "clinic": clinic,
        # None when the key that made the token is gone: the printed code still works.
        "page_url": links.page_url(token) if token else None,
        "unsubscribe_url": stop_url,
        "nudge_days": clinic.reminder_nudge_days,
    }
    from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    reply_to = clinic.reply_to or clinic.email
    domain = from_address.partition("@")[2] or socket.getfqdn()
    message = EmailMultiAlternatives(
        subject=SUBJECTS[ReminderSent.Kind(row.kind)],
        body=render_to_string("emails/reminder.txt", context),
        from_email=formataddr((one_line(clinic.name), from_address)),
        to=[plan.email],
        reply_to=[reply_to] if reply_to else None,
        headers={
            # The same id on every attempt: a repeat is one message to the mail program.
            "Message-ID": f"<openhep.reminder.{row.pk}@{domain}>",
            "List-Unsubscribe": f"<{stop_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string("emails/reminder.html", context), "text/html")
    return message


def _record(row: ReminderSent, **changes) -> None:
    ReminderSent.objects.filter(pk=row.pk, attempts=row.attempts).update(**changes)


@task
def send_reminder(sent_id: int) -> str:
    row = (
        ReminderSent.objects.select_related(
            "plan__link__clinic", "plan__link__prescription", "plan__link__patient", "plan__patient"
        )
        .filter(pk=sent_id, status=Status.QUEUED)
        .first()
    )
    if row is None:
        return "skipped"
    if not plan_sends(row.plan, today=timezone.localdate()):
        _record(row, status=Status.FAILED, last_error="Not sent: reminders stopped or page closed.")
        return Status.FAILED
    if timezone.now() - row.due_at > TOO_LATE:
        _record(row, status=Status.FAILED, last_error="Not sent: too late to be useful.")
        return Status.FAILED
    claimed = ReminderSent.objects.filter(
        pk=row.pk, status=Status.QUEUED, attempts=row.attempts
    ).update(attempts=row.attempts + 1)
    if not claimed:
        return "skipped"  # Another task for this row got there first.
    row.attempts += 1
    try:
        build_reminder(row).send()
    except Exception as error:
        temporary = is_temporary(error)
        logger.warning(
            "Reminder %s attempt %s failed (%s, %s)",
            row.pk,
            row.attempts,
            type(error).__name__,
            "temporary" if temporary else "permanent",
        )
        words = f"{type(error).__name__}: {explain(error)}"[:300]
        if temporary and row.attempts < MAX_ATTEMPTS and can_defer():
            _record(row, last_error=words)
            when = timezone.now() + BACKOFF[row.attempts - 1]
            send_reminder.using(run_after=when).enqueue(row.pk)
            return "retry"
        _record(row, status=Status.FAILED, last_error=words)
        return Status.FAILED
    _record(row, status=Status.SENT, sent_at=timezone.now(), last_error="")
    return Status.SENT
