"""The "Questionnaires" box of a program's page: ask the patient for a questionnaire
(now, when issued, at the review date, every few weeks), and stop asking. The writes
go through ``outcomes.services``, which audit them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from clinic.audit import Actor
from outcomes.forms import ScheduleForm
from outcomes.models import Schedule
from outcomes.selectors import get_questionnaire_for, questionnaires_for
from outcomes.services import schedule_add, schedule_stop
from prescriptions.views import PrescriptionMixin

BOX = "#questionnaires"


class ScheduleAddView(PrescriptionMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        rx = self.prescription
        back = redirect(rx.get_absolute_url() + BOX)
        if rx.status == rx.Status.SUPERSEDED:
            messages.error(request, "This version was replaced: ask from the current one.")
            return back
        form = ScheduleForm(request.POST, questionnaires=questionnaires_for(self.clinic))
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return back
        data = form.cleaned_data
        questionnaire = get_questionnaire_for(request.user, data["questionnaire"])
        try:
            schedule = schedule_add(
                prescription=rx,
                questionnaire=questionnaire,
                when=data["when"],
                every_weeks=data["every_weeks"],
                actor=Actor.of(request),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return back
        messages.success(request, f"{questionnaire.short_title}: asked for {schedule.describe()}.")
        return back


class ScheduleStopView(PrescriptionMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk, schedule_pk):
        schedule = get_object_or_404(
            Schedule.objects.filter(prescription=self.prescription).select_related(
                "questionnaire", "patient"
            ),
            pk=schedule_pk,
        )
        schedule_stop(schedule=schedule, actor=Actor.of(request))
        messages.success(request, f"{schedule.questionnaire.short_title}: no longer asked for.")
        return redirect(self.prescription.get_absolute_url() + BOX)
