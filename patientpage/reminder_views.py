"""Reminders on the patient's page: emails they turn on and off, a calendar file for
their phone instead, and the unsubscribe link in each email.

The reminders page and the calendar file answer under the program's token like the
page itself (same refusals, same birth-year check). The unsubscribe link carries a
signed plan id instead, so a forwarded reminder email opens no program.
"""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from clinic.access import client_ip
from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from patientpage import calendar, reminders
from patientpage.forms import ReminderForm, ReminderTimesForm
from patientpage.models import ReminderPlan
from patientpage.services import patient_actor
from patientpage.views import gone, needs_birth_year, open_link_or_count, patient_form, refusal
from prescriptions import links

# Who the trail names for a stop from an email's link: the mail program may have
# sent it (one-click), not the patient's browser on their page.
UNSUBSCRIBE_ACTOR = "patient (unsubscribe link)"


def _plan_of(link) -> ReminderPlan | None:
    return ReminderPlan.objects.filter(link=link).first()


def _reminders_path(token: str) -> str:
    return reverse("patientpage:reminders", args=[token])


def _initial(plan: ReminderPlan | None, clinic) -> dict:
    if plan is None:
        return {"time_zone": reminders.default_time_zone(), "nudge": True}
    return {
        "days": list(plan.weekdays),
        "time": plan.time,
        "time_zone": plan.time_zone,
        "nudge": plan.nudge,
    }


def _context(link, token, form, plan, **extra) -> dict:
    return {
        "link": link,
        "token": token,
        "clinic": link.clinic,
        "first_name": link.patient.preferred_name or link.patient.first_name,
        "form": form,
        "plan": plan if plan is not None and plan.is_active else None,
        "calendar_form": ReminderTimesForm(prefix="cal", initial=_initial(plan, link.clinic)),
        "plan_days": reminders.day_list(plan.weekdays) if plan is not None else "",
        "last_day": links.expires_on(link),
        **extra,
    }


@patient_form
@require_http_methods(["GET", "POST"])
def reminders_page(request, token):
    """GET: the form (and the plan in force); POST: save it, or stop it."""
    link = open_link_or_count(request, token)
    if link is None:
        return refusal(request)
    canonical = links.normalise(token)
    if token != canonical:
        return redirect(_reminders_path(canonical))
    if needs_birth_year(request, link):
        return redirect(reverse("patientpage:page", args=[canonical]))
    plan = _plan_of(link)
    actor = patient_actor(request)
    if request.method == "POST" and "stop" in request.POST:
        if plan is not None:
            reminders.reminder_plan_stop(plan=plan, actor=actor)
        return redirect(_reminders_path(canonical) + "?stopped=1")
    active = plan if plan is not None and plan.is_active else None
    if request.method == "POST":
        form = ReminderForm(request.POST, link=link, plan=active)
        if form.is_valid():
            data = form.cleaned_data
            reminders.reminder_plan_save(
                link=link,
                email=data["resolved_email"],
                weekdays=data["days"],
                time=data["time"],
                time_zone=data["time_zone"],
                nudge=data.get("nudge", False),
                consent=data["consent"],
                actor=actor,
            )
            return redirect(_reminders_path(canonical) + "?saved=1")
        context = _context(link, canonical, form, plan)
        return render(request, "patientpage/reminders.html", context, status=400)
    form = ReminderForm(initial=_initial(active, link.clinic), link=link, plan=active)
    context = _context(
        link,
        canonical,
        form,
        plan,
        saved=request.GET.get("saved") == "1",
        stopped=request.GET.get("stopped") == "1",
    )
    return render(request, "patientpage/reminders.html", context)


@require_GET
def calendar_file(request, token):
    """The weekly event as an .ics file: from the calendar form's days, time and zone,
    or the reminder plan's when none are given."""
    link = open_link_or_count(request, token)
    if link is None:
        return refusal(request)
    canonical = links.normalise(token)
    if needs_birth_year(request, link):
        return redirect(reverse("patientpage:page", args=[canonical]))
    plan = _plan_of(link)
    if request.GET:
        form = ReminderTimesForm(request.GET, prefix="cal")
        if not form.is_valid():
            active = plan if plan is not None and plan.is_active else None
            reminder_form = ReminderForm(
                initial=_initial(active, link.clinic), link=link, plan=active
            )
            context = _context(link, canonical, reminder_form, plan)
            context["calendar_form"] = form
            context["calendar_open"] = True
            return render(request, "patientpage/reminders.html", context, status=400)
        days = reminders.normalise_weekdays(form.cleaned_data["days"])
        time, zone = form.cleaned_data["time"], form.cleaned_data["time_zone"]
    elif plan is not None and plan.is_active:
        days, time, zone = plan.weekdays, plan.time, plan.time_zone
    else:
        return redirect(_reminders_path(canonical) + "#calendar")
    body = calendar.weekly_calendar(
        uid=f"openhep-exercises-{link.pk}@{request.get_host().partition(':')[0]}",
        weekdays=days,
        time=time,
        time_zone=zone,
        page_url=links.page_url(canonical),
        clinic_name=link.clinic.name,
        last_day=links.expires_on(link),
        now=timezone.now(),
    )
    audit_record(
        actor=patient_actor(request),
        action=AuditEntry.Action.VIEW,
        patient=link.patient,
        target=f"program link {link.pk}",
        detail="Calendar file downloaded",
    )
    response = HttpResponse(body.encode(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="home-exercises.ics"'
    return response


# The one-click unsubscribe (RFC 8058) is a POST from the mail program with the body
# "List-Unsubscribe=One-Click" and no cookie or CSRF token: the signature in the URL
# is the credential, and all it can do is stop this plan's emails.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, code):
    """GET: a page that asks (a link scanner's GET stops nothing); POST: stop."""
    plan = reminders.plan_for_unsubscribe(code)
    if plan is None:
        return gone(request)
    context = {"clinic": plan.link.clinic, "code": code, "stopped": plan.stopped_at is not None}
    if request.method == "POST":
        actor = Actor(user=None, ip=client_ip(request), name=UNSUBSCRIBE_ACTOR)
        reminders.reminder_plan_stop(plan=plan, actor=actor)
        context["stopped"] = True
        context["just_stopped"] = True
    return render(request, "patientpage/unsubscribe.html", context)
