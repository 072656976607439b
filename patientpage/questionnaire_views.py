"""A questionnaire the patient's program asks for, answered on their page.

The same rules as the page itself (``patientpage.views``): the token is the credential,
a token that opens nothing is the plain 404 and counted, the birth-year check comes
first, and the form posts without Django's CSRF token (``patient_form``). A schedule
of another program is the same plain 404; one not due now (answered already, or
stopped) gets a friendly page instead of the form, so a second press of Send stores
nothing twice.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from outcomes.models import Schedule
from outcomes.selectors import previous_activities
from patientpage import questionnaires, services
from patientpage.questionnaire_forms import QuestionnaireForm
from patientpage.views import gone, needs_birth_year, open_link_or_count, patient_form, refusal
from prescriptions import links


def _path(token: str, schedule: Schedule, *, large: bool = False) -> str:
    path = reverse("patientpage:questionnaire", args=[token, schedule.pk])
    return f"{path}?large=1" if large else path


def _large(request) -> bool:
    """The page's larger text, kept from the page to the answers and back."""
    return request.GET.get("large") == "1"


@patient_form
@require_http_methods(["GET", "POST"])
def questionnaire(request, token, pk):
    link = open_link_or_count(request, token)
    if link is None:
        return refusal(request)
    canonical = links.normalise(token)
    if needs_birth_year(request, link):
        if request.method == "POST":
            return gone(request, status=403)
        return redirect(reverse("patientpage:page", args=[canonical]))
    schedule = questionnaires.schedule_of(link, pk)
    if schedule is None:
        return gone(request)
    if request.method == "GET" and token != canonical:
        return redirect(_path(canonical, schedule, large=_large(request)))
    if not questionnaires.is_due(link, schedule):
        return _not_due(request, link, canonical, schedule)
    definition = schedule.questionnaire.definition
    previous = previous_activities(link.patient, schedule.questionnaire)
    if request.method == "GET":
        form = QuestionnaireForm(definition=definition, previous=previous)
        return _form_page(request, link, canonical, schedule, form)
    form = QuestionnaireForm(request.POST, definition=definition, previous=previous)
    if form.is_valid():
        with transaction.atomic():
            # Two presses of Send at once: the second waits here, then finds it answered.
            Schedule.objects.select_for_update().filter(pk=schedule.pk).first()
            if not questionnaires.is_due(link, schedule):
                return _not_due(request, link, canonical, schedule)
            try:
                services.questionnaire_answer(
                    link=link,
                    schedule=schedule,
                    answers=form.answers,
                    actor=services.patient_actor(request),
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                page = reverse("patientpage:page", args=[canonical])
                large = "&large=1" if _large(request) else ""
                return redirect(f"{page}?answered=1{large}#answered")
    return _form_page(request, link, canonical, schedule, form, status=400)


def _context(request, link, token: str, schedule: Schedule) -> dict:
    return {
        "large": _large(request),
        "link": link,
        "clinic": link.clinic,
        "token": token,
        "schedule": schedule,
        "questionnaire": schedule.questionnaire,
        "definition": schedule.questionnaire.definition,
        "therapist": link.prescription.therapist if link.prescription else None,
    }


def _form_page(request, link, token, schedule, form, *, status: int = 200) -> HttpResponse:
    context = _context(request, link, token, schedule)
    context["form"] = form
    context["questions"] = form.questions()
    context["action"] = _path(token, schedule, large=_large(request))
    return render(request, "patientpage/questionnaire.html", context, status=status)


def _not_due(request, link, token, schedule) -> HttpResponse:
    context = _context(request, link, token, schedule)
    context["answered"] = (
        schedule.stopped_at is None
        and schedule.questionnaire.is_active
        and questionnaires.answered_before(link, schedule)
    )
    return render(request, "patientpage/questionnaire_done.html", context)
