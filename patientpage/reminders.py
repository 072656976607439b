"""Reminder emails the patient asked for on their page, and the scheduler's pass over them.

A plan names the days, the time and the time zone; ``reminders_send``, run every five
minutes by the scheduler, writes one ``ReminderSent`` row for each moment that came
due and queues one email per row. The row's unique ``(plan, kind, due_at)`` is what
makes each email go once, however many runs overlap: the loser of the race gets an
``IntegrityError`` and queues nothing. A moment missed by up to ``MISSED_GRACE`` (the
scheduler or the server was down) is still sent; older ones are skipped, because a
reminder to exercise hours late is noise.

Entries in the audit trail hold ids and fixed words only, never the address.
"""

import datetime
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry, Clinic
from patientpage.models import ReminderPlan, ReminderSent, SessionLog
from prescriptions import links
from prescriptions.models import ProgramLink

logger = logging.getLogger(__name__)

Kind = ReminderSent.Kind
# A due moment missed by this much (scheduler stopped, server restarting) still goes.
MISSED_GRACE = datetime.timedelta(hours=2)
# An email still waiting this long after its moment (a long queue, retries) is dropped:
# "time for your exercises" in the middle of the night helps nobody.
TOO_LATE = MISSED_GRACE + datetime.timedelta(hours=1)
# A row still unclaimed this long after it was written lost its task (a worker that
# died, a queue emptied): queued again. Claiming is atomic, so a duplicate task is
# harmless.
LOST_AFTER = datetime.timedelta(minutes=10)
UNSUBSCRIBE_SALT = "openhep.patientpage.reminders.unsubscribe"
WEEKDAYS = (
    (1, "Monday"),
    (2, "Tuesday"),
    (3, "Wednesday"),
    (4, "Thursday"),
    (5, "Friday"),
    (6, "Saturday"),
    (7, "Sunday"),
)


def day_list(weekdays: str) -> str:
    """Days for reading: "Monday, Wednesday and Friday"."""
    names = dict(WEEKDAYS)
    days = [names[int(day)] for day in weekdays]
    return days[0] if len(days) == 1 else f"{', '.join(days[:-1])} and {days[-1]}"


@dataclass
class ReminderStatus:
    """What staff see of a patient's reminders: the plan, the last email that went and
    the failures of the last 30 days (never the address)."""

    plan: ReminderPlan
    days: str
    last_sent: datetime.datetime | None
    failed: int


def reminder_status(link: ProgramLink) -> ReminderStatus | None:
    plan = ReminderPlan.objects.filter(link=link).first()
    if plan is None:
        return None
    since = timezone.now() - datetime.timedelta(days=30)
    sent = plan.sent.filter(status=ReminderSent.Status.SENT).order_by("-sent_at").first()
    return ReminderStatus(
        plan=plan,
        days=day_list(plan.weekdays),
        last_sent=sent.sent_at if sent else None,
        failed=plan.sent.filter(status=ReminderSent.Status.FAILED, due_at__gte=since).count(),
    )


def consent_sentence(clinic: Clinic) -> str:
    """What the patient agrees to, word for word: stored with the plan as given."""
    return (
        f"I agree that {clinic.name} may email me reminders to do my home exercises, "
        "at the days and time I chose. I can stop them at any time."
    )[:300]


# The regions of the IANA names a phone reports ("Europe/London"); the old aliases
# ("US/Eastern", "Etc/GMT+5", "Canada/…") only lengthen the list on a phone.
ZONE_REGIONS = {
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
}


@functools.cache
def time_zones() -> tuple[str, ...]:
    """The zones the form offers (IANA names, and the installation's own), sorted
    (read from the system's zone files once per process)."""
    zones = {zone for zone in available_timezones() if zone.split("/")[0] in ZONE_REGIONS}
    return tuple(sorted(zones | {"UTC", settings.TIME_ZONE}))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Choose a time zone from the list.") from None


def normalise_weekdays(days: Iterable[int | str]) -> str:
    """ISO weekday digits, sorted and once each ("531" and "1135" both give "135")."""
    try:
        numbers = {int(day) for day in days}
    except ValueError:
        raise ValidationError("Choose days from Monday to Sunday.") from None
    if not numbers:
        raise ValidationError("Choose at least one day.")
    if not numbers <= set(range(1, 8)):
        raise ValidationError("Choose days from Monday to Sunday.")
    return "".join(str(day) for day in sorted(numbers))


def _audit(actor: Actor, plan: ReminderPlan, detail: str) -> None:
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CHANGE,
        patient=plan.patient,
        target=f"reminder plan {plan.pk}",
        detail=detail,
    )


@transaction.atomic
def reminder_plan_save(
    *,
    link: ProgramLink,
    email: str,
    weekdays: Iterable[int | str],
    time: datetime.time,
    time_zone: str,
    nudge: bool,
    consent: bool,
    actor: Actor,
) -> ReminderPlan:
    """Turn on (or change, or turn on again) the link's reminder emails.

    Refused without the patient's consent; the moment and the exact sentence they
    agreed to are stored with the plan, and each save asks for it again. Nothing is
    sent for a moment before the save (``consent_at`` is the plan's start)."""
    if not consent:
        raise ValidationError("Tick the box to agree to reminder emails.")
    email = (email or "").strip()
    validate_email(email)
    days = normalise_weekdays(weekdays)
    _zone(time_zone)
    now = timezone.now()
    values = {
        "patient": link.patient,
        "email": email,
        "weekdays": days,
        "time": time.replace(second=0, microsecond=0),
        "time_zone": time_zone,
        "nudge": nudge,
        "consent_at": now,
        "consent_text": consent_sentence(link.clinic),
        "stopped_at": None,
    }
    existing = ReminderPlan.objects.select_for_update().filter(link=link).first()
    if existing is None:
        plan = ReminderPlan.objects.create(link=link, **values)
        _audit(actor, plan, "Reminder emails turned on, with consent")
        return plan
    was_stopped = existing.stopped_at is not None
    for name, value in values.items():
        setattr(existing, name, value)
    existing.save()
    _audit(
        actor,
        existing,
        "Reminder emails turned on again, with consent"
        if was_stopped
        else "Reminder emails changed, with consent",
    )
    return existing


@transaction.atomic
def reminder_plan_stop(*, plan: ReminderPlan, actor: Actor) -> bool:
    """Stop the plan's emails at once (emails already queued are not sent). Returns
    False when it was already stopped: a second click or a mail client's repeat of the
    one-click unsubscribe changes nothing and writes no second entry."""
    locked = ReminderPlan.objects.select_for_update().select_related("patient").get(pk=plan.pk)
    if locked.stopped_at is not None:
        return False
    locked.stopped_at = timezone.now()
    locked.save(update_fields=["stopped_at", "updated_at"])
    _audit(actor, locked, "Reminder emails stopped")
    plan.stopped_at = locked.stopped_at
    return True


def unsubscribe_code(plan: ReminderPlan) -> str:
    """The signed plan id in an email's unsubscribe link: it stops this plan and opens
    nothing else (the program's token never goes into it). It does not expire: an
    unsubscribe link in an old email must still work."""
    return signing.dumps(plan.pk, salt=UNSUBSCRIBE_SALT)


def plan_for_unsubscribe(code: str) -> ReminderPlan | None:
    """The plan an unsubscribe link names, or ``None`` when its signature is wrong."""
    try:
        pk = signing.loads(code, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return ReminderPlan.objects.select_related("link__clinic", "patient").filter(pk=pk).first()


def unsubscribe_url(plan: ReminderPlan) -> str:
    return f"{links.site_origin()}/p/unsubscribe/{unsubscribe_code(plan)}/"


def plan_sends(plan: ReminderPlan, *, today: datetime.date | None = None) -> bool:
    """Whether the plan's emails still go: not stopped, and the page still opens (the
    link on, not expired, the patient not archived)."""
    return plan.stopped_at is None and links.is_open(plan.link, today=today)


@dataclass(frozen=True)
class Due:
    plan: ReminderPlan
    kind: str
    due_at: datetime.datetime


def _moments(plan: ReminderPlan, start: datetime.datetime, end: datetime.datetime):
    """The plan's weekday-and-time moments in ``(start, end]``, in UTC. A time that a
    clock change skips comes an hour later that day; one it repeats, once (fold 0)."""
    zone = ZoneInfo(plan.time_zone)
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if str(day.isoweekday()) in plan.weekdays:
            local = datetime.datetime.combine(day, plan.time, tzinfo=zone)
            moment = local.astimezone(datetime.UTC)
            if start < moment <= end:
                yield moment
        day += datetime.timedelta(days=1)


def _nudge_due(
    plan: ReminderPlan,
    *,
    now: datetime.datetime,
    last_session: datetime.datetime | None,
    last_nudge: datetime.datetime | None,
) -> datetime.datetime | None:
    """When the plan's one nudge is due, if it is: at the plan's time on the first day
    after ``reminder_nudge_days`` days with nothing logged, counted from the later of the
    last session and the plan's start. After a nudge, none again until the patient logs
    something (the quiet stretch must start after the last nudge)."""
    days = plan.link.clinic.reminder_nudge_days
    if not plan.nudge or not days:
        return None
    quiet_since = max(filter(None, [last_session, plan.consent_at]))
    if last_nudge is not None and last_nudge >= quiet_since:
        return None
    zone = ZoneInfo(plan.time_zone)
    earliest = quiet_since + datetime.timedelta(days=days)
    day = earliest.astimezone(zone).date()
    while True:
        moment = datetime.datetime.combine(day, plan.time, tzinfo=zone).astimezone(datetime.UTC)
        # Not at night because the quiet stretch ended at night, nor a nudge for a
        # day long gone: the first plan time at or after both.
        if moment >= earliest and moment > now - MISSED_GRACE:
            break
        day += datetime.timedelta(days=1)
    return moment if moment <= now else None


def _plans():
    return (
        ReminderPlan.objects.filter(
            stopped_at__isnull=True,
            patient__archived=False,
            link__ended_at__isnull=True,
            link__prescription__isnull=False,
        )
        .select_related("link__clinic", "link__patient", "link__prescription", "patient")
        .annotate(
            last_nudge=Max("sent__due_at", filter=Q(sent__kind=Kind.NUDGE)),
        )
        .order_by("pk")
    )


def reminders_due(now: datetime.datetime) -> list[Due]:
    """Every email that is due at ``now`` and not yet written down, for plans that still
    send. A reminder and a nudge due at the same moment make one email (the nudge)."""
    today = timezone.localdate(now)
    plans = [plan for plan in _plans() if links.is_open(plan.link, today=today)]
    last_sessions = dict(
        SessionLog.objects.filter(patient_id__in={plan.patient_id for plan in plans})
        .values("patient_id")
        .annotate(last=Max("started_at"))
        .values_list("patient_id", "last")
    )
    written = {
        (row.plan_id, row.kind, row.due_at)
        for row in ReminderSent.objects.filter(
            plan__in=plans, due_at__gt=now - MISSED_GRACE - datetime.timedelta(days=1)
        )
    }
    due = []
    for plan in plans:
        nudge_at = _nudge_due(
            plan,
            now=now,
            last_session=last_sessions.get(plan.patient_id),
            last_nudge=getattr(plan, "last_nudge", None),
        )
        if nudge_at is not None and (plan.pk, Kind.NUDGE, nudge_at) not in written:
            due.append(Due(plan, Kind.NUDGE, nudge_at))
        start = max(now - MISSED_GRACE, plan.consent_at)
        for moment in _moments(plan, start, now):
            if moment == nudge_at or (plan.pk, Kind.NUDGE, moment) in written:
                continue
            if (plan.pk, Kind.REMINDER, moment) not in written:
                due.append(Due(plan, Kind.REMINDER, moment))
    return due


def reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Write down and queue every email due at ``now`` (default: the present). Safe to
    run as often as wanted and from two schedulers at once: a moment already written
    down is not written again, so each email goes once. Rows whose task was lost are
    queued again. Returns how many new emails were queued."""
    from patientpage.tasks import send_reminder

    now = now or timezone.now()
    queued = 0
    for item in reminders_due(now):
        try:
            with transaction.atomic():
                row = ReminderSent.objects.create(
                    plan=item.plan, kind=item.kind, due_at=item.due_at
                )
                transaction.on_commit(functools.partial(send_reminder.enqueue, row.pk))
        except IntegrityError:
            continue  # Another run wrote it first, and queued its email.
        queued += 1
    requeued = list(
        ReminderSent.objects.filter(
            status=ReminderSent.Status.QUEUED,
            attempts=0,
            due_at__lt=now - LOST_AFTER,
            due_at__gt=now - TOO_LATE,
        ).values_list("pk", flat=True)
    )
    for pk in requeued:
        send_reminder.enqueue(pk)
    if queued or requeued:
        logger.info("Reminders: %s email(s) queued, %s queued again", queued, len(requeued))
    return queued


def default_time_zone() -> str:
    return settings.TIME_ZONE
