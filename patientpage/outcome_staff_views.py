"""A questionnaire the patient filled in on paper, typed in by staff from the patient's
record: choose the questionnaire, the date written on the form, and the answers in a
form built from its definition. Stored (and followed up) through
``patientpage.services.questionnaire_enter_from_paper``, which audits it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.formats import date_format
from django.views import View
from django.views.generic import TemplateView

from clinic.access import ClinicStaffMixin
from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from clinic.selectors import get_patient_for
from outcomes.forms import AnswersForm
from outcomes.selectors import (
    get_questionnaire_for,
    previous_activities,
    questionnaires_for,
    shown,
)
from patientpage.services import questionnaire_enter_from_paper
from patientpage.staff_views import printed_pdf
from prescriptions.models import Prescription


def current_program(patient) -> Prescription | None:
    """The patient's issued program, for the follow-up a worse score opens."""
    return (
        Prescription.objects.filter(patient=patient, status=Prescription.Status.ISSUED)
        .order_by("-issued_at", "-pk")
        .first()
    )


class PaperQuestionnaireView(ClinicStaffMixin, TemplateView):
    template_name = "records/paper_questionnaire.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.patient = get_patient_for(request.user, kwargs["patient_pk"])
        return super().dispatch(request, *args, **kwargs)

    def _questionnaire(self, value):
        if not value:
            return None
        questionnaire = get_questionnaire_for(self.request.user, value)
        return questionnaire if questionnaire.is_active else None

    def _form(self, questionnaire, data=None):
        previous = previous_activities(self.patient, questionnaire)
        return AnswersForm(data, definition=questionnaire.definition, previous=previous)

    def get(self, request, *args, **kwargs):
        questionnaire = self._questionnaire(request.GET.get("questionnaire"))
        if questionnaire is not None:
            # The form is prefilled with the activities the patient named before.
            audit_record(
                actor=Actor.of(request),
                action=AuditEntry.Action.VIEW,
                patient=self.patient,
                target=f"questionnaire {questionnaire.pk}",
                detail="Opened the paper questionnaire entry",
            )
        form = self._form(questionnaire) if questionnaire else None
        context = self.get_context_data(questionnaire=questionnaire, form=form)
        return self.render_to_response(context)

    def post(self, request, *args, **kwargs):
        questionnaire = self._questionnaire(request.POST.get("questionnaire"))
        if questionnaire is None:
            messages.error(request, "Choose the questionnaire the patient filled in.")
            return redirect("loop:paper_questionnaire", patient_pk=self.patient.pk)
        form = self._form(questionnaire, request.POST)
        if form.is_valid():
            try:
                response = questionnaire_enter_from_paper(
                    patient=self.patient,
                    questionnaire=questionnaire,
                    answers=form.raw_answers(),
                    answered_on=form.cleaned_data["answered_on"],
                    actor=Actor.of(request),
                    prescription=current_program(self.patient),
                )
            except ValidationError as error:
                for problem in error.messages:
                    form.show_problem(problem)
            else:
                score = "not scored" if response.score is None else f"score {shown(response)}"
                messages.success(
                    request,
                    f"{questionnaire.short_title} of "
                    f"{date_format(form.cleaned_data['answered_on'], 'j M Y')} entered "
                    f"from paper ({score}).",
                )
                return redirect(self.patient.get_absolute_url() + "#outcomes")
        context = self.get_context_data(questionnaire=questionnaire, form=form)
        return self.render_to_response(context, status=400)

    def get_context_data(self, **kwargs):
        form = kwargs.get("form")
        return super().get_context_data(
            patient=self.patient,
            questionnaires=questionnaires_for(self.clinic),
            questions=form.bound_questions() if form else [],
            **kwargs,
        )


class BlankQuestionnaireView(ClinicStaffMixin, View):
    """A questionnaire printed blank for a patient who answers on paper, with their name
    and the activities they named before (to rate again). Audited as a print."""

    http_method_names = ["get"]

    def get(self, request, patient_pk, questionnaire_pk):
        patient = get_patient_for(request.user, patient_pk)
        questionnaire = get_questionnaire_for(request.user, questionnaire_pk)
        return printed_pdf(
            request,
            template="handouts/questionnaire.html",
            context={
                "q": questionnaire,
                "clinic": self.clinic,
                "patient_name": patient.display_name,
                "activities": previous_activities(patient, questionnaire),
                "has_text": any(i["type"] == "text" for i in questionnaire.definition["items"]),
            },
            patient=patient,
            target=f"questionnaire {questionnaire.pk}",
            detail="Blank questionnaire",
            filename=f"questionnaire-{questionnaire.pk}.pdf",
        )
