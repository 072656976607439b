"""The loop on pages of the apps below this one: the prescription page shows what the
patient did with the program through ``{% program_loop rx as loop %}``, without the
prescriptions app importing this one (the layers only point down)."""

import datetime
from dataclasses import dataclass

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from patientpage.charts import BarChart, LineChart, adherence_chart, pain_chart
from patientpage.loop import ProgramLoop, program_loop
from patientpage.reasons import reason_text as describe_reason
from patientpage.reminders import ReminderStatus, reminder_status
from patientpage.selectors import current_link
from patientpage.staff_forms import PaperSessionForm
from prescriptions import links
from prescriptions.models import ProgramLink

register = template.Library()


@dataclass
class LinkState:
    link: ProgramLink | None
    url: str = ""
    is_open: bool = False
    expires_on: datetime.date | None = None
    reminders: ReminderStatus | None = None

    @property
    def can_show_code(self) -> bool:
        return bool(self.url)


@dataclass
class Panel:
    loop: ProgramLoop
    link: LinkState
    adherence: BarChart | None
    pain: LineChart | None
    paper_form: PaperSessionForm


def link_state(prescription) -> LinkState:
    link = current_link(prescription)
    if link is None:
        return LinkState(link=None)
    # Already loaded: the review date sets the last day; patient and clinic are its own.
    link.prescription = prescription
    link.patient, link.clinic = prescription.patient, prescription.clinic
    token = links.token_of(link) if link.is_on else None
    return LinkState(
        link=link,
        url=links.page_url(token) if token else "",
        is_open=links.is_open(link),
        expires_on=links.expires_on(link),
        reminders=reminder_status(link),
    )


@register.simple_tag
def program_loop_panel(prescription) -> Panel | None:
    """Everything the prescription page shows of the loop, for an issued version."""
    if prescription.is_draft:
        return None
    loop = program_loop(prescription)
    return Panel(
        loop=loop,
        link=link_state(prescription),
        adherence=adherence_chart(loop.weeks),
        pain=pain_chart(loop.pain),
        paper_form=PaperSessionForm(items=prescription.items.all()),
    )


@register.filter
def percent_of(done: int, prescribed: int) -> str:
    """ "5 of 14 (36%)"; just the count when nothing was prescribed."""
    if not prescribed:
        return str(done)
    return f"{done} of {prescribed} ({round(100 * done / prescribed)}%)"


@register.filter
def ago(value: datetime.datetime | None) -> str:
    """ "3 days ago": the largest unit only, the way a therapist says it."""
    if value is None:
        return ""
    if timezone.now() - value < datetime.timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, depth=1)} ago"


@register.filter
def reason_text(follow_up) -> str:
    """A follow-up's reason as the dashboard says it (``patientpage.reasons``)."""
    return describe_reason(follow_up)
