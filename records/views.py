"""The patient's record as staff see it: the list, the record page with its programs
and emails, changes, consent, archive, export and erasure; the dashboard."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView, TemplateView

from clinic.access import ClinicAdminMixin, ClinicStaffMixin
from clinic.audit import Actor, audit_record
from clinic.forms import EraseForm, PatientForm
from clinic.models import AuditEntry
from clinic.selectors import get_patient_for
from clinic.services import (
    patient_create,
    patient_record_consent,
    patient_set_archived,
    patient_update,
)
from exercises.dose import plural as counted
from patientpage.loop import open_follow_up_patients, open_follow_ups, patient_summary
from prescriptions.selectors import (
    patient_deliveries,
    patient_prescriptions,
    recent_prescriptions,
)
from records.forms import PatientSearchForm
from records.outcomes import outcome_panels
from records.selectors import patient_search, with_list_details
from records.services import patient_erase, patient_export_archive


class DashboardView(ClinicStaffMixin, TemplateView):
    template_name = "records/dashboard.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            prescriptions=recent_prescriptions(user=self.request.user),
            calls=open_follow_ups(clinic=self.clinic, therapist=self.request.user),
            calls_total=open_follow_up_patients(clinic=self.clinic),
            **kwargs,
        )


class PatientListView(ClinicStaffMixin, TemplateView):
    """The search box posts its words: a patient's name in a URL would end up in
    access logs and browser history. Paging through results posts them again."""

    template_name = "records/patient_list.html"

    def post(self, request, *args, **kwargs):
        return self.get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        form = PatientSearchForm(data)
        form.is_valid()
        clean = {name: form.cleaned_data.get(name) for name in ("q", "archived")}
        # Search words only from a post: a patient's name in a URL ends up in logs.
        query = (clean["q"] or "") if self.request.method == "POST" else ""
        archived = bool(clean["archived"])
        patients = patient_search(user=self.request.user, query=query, archived=archived)
        page = Paginator(patients, 25).get_page(data.get("page"))
        page.object_list = with_list_details(page.object_list)
        return super().get_context_data(
            q=query, archived=archived, page=page, search_errors=form.errors.get("q"), **kwargs
        )


class PatientCreateView(ClinicStaffMixin, FormView):
    template_name = "records/patient_form.html"
    form_class = PatientForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "clinic": self.clinic}

    def form_valid(self, form):
        patient = patient_create(clinic=self.clinic, actor=Actor.of(self.request), form=form)
        messages.success(self.request, f"Patient {patient.full_name} added.")
        return redirect(patient)


class PatientUpdateView(ClinicStaffMixin, FormView):
    template_name = "records/patient_form.html"
    form_class = PatientForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.patient = get_patient_for(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.patient, "clinic": self.clinic}

    def get(self, request, *args, **kwargs):
        # The form shows the whole record: opening it is viewing it.
        audit_record(
            actor=Actor.of(request),
            action=AuditEntry.Action.VIEW,
            patient=self.patient,
            detail="Opened the edit form",
        )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(patient=self.patient, **kwargs)

    def form_valid(self, form):
        consented = form.initial.get("email_consent")
        patient = patient_update(patient=self.patient, actor=Actor.of(self.request), form=form)
        messages.success(self.request, "Patient details saved.")
        if consented and not patient.email_consent and "email" in form.changed_data:
            messages.warning(
                self.request,
                "The email address changed, so consent to email handouts was cleared: "
                "ask the patient again before emailing them, and record it.",
            )
        return redirect(patient)


class PatientDetailView(ClinicStaffMixin, TemplateView):
    template_name = "records/patient_detail.html"

    def get_context_data(self, **kwargs):
        patient = get_patient_for(self.request.user, kwargs["pk"])
        audit_record(actor=Actor.of(self.request), action=AuditEntry.Action.VIEW, patient=patient)
        return super().get_context_data(
            patient=patient,
            summary=patient_summary(patient),
            prescriptions=patient_prescriptions(patient=patient),
            deliveries=patient_deliveries(patient=patient),
            outcome_panels=outcome_panels(patient),
            **kwargs,
        )


class PatientArchiveView(ClinicStaffMixin, View):
    """Archive a patient (hidden from the list, kept whole) or bring them back."""

    http_method_names = ["post"]

    def post(self, request, pk):
        patient = get_patient_for(request.user, pk)
        archived = request.POST.get("archived") == "1"
        patient_set_archived(patient=patient, archived=archived, actor=Actor.of(request))
        if archived:
            messages.success(request, f"{patient.full_name} archived. Their records are kept.")
        else:
            messages.success(request, f"{patient.full_name} is back in the patient list.")
        return redirect(patient)


class PatientConsentView(ClinicStaffMixin, View):
    """Record that the patient agreed to receive handouts by email."""

    http_method_names = ["post"]

    def post(self, request, pk):
        patient = get_patient_for(request.user, pk)
        if not patient.email:
            messages.error(request, "Add the patient's email address first.")
            return redirect("patients:edit", pk=patient.pk)
        patient_record_consent(patient=patient, actor=Actor.of(request))
        messages.success(request, f"Consent to email handouts recorded for {patient.full_name}.")
        target = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            return redirect(target)
        return redirect(patient)


class PatientExportView(ClinicAdminMixin, View):
    """Everything held on one patient, as a zip (patient.json and the handout PDFs)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        patient = get_patient_for(request.user, pk)
        archive = patient_export_archive(patient=patient, actor=Actor.of(request))
        response = HttpResponse(archive, content_type="application/zip")
        # The file name carries the id only: downloads folders get synced and shared.
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = (
            f'attachment; filename="patient-{patient.pk}-export-{stamp}.zip"'
        )
        response["Cache-Control"] = "no-store"
        return response


class PatientEraseView(ClinicAdminMixin, FormView):
    """Erase a patient for good, after typing their name. The audit trail keeps their id."""

    template_name = "records/patient_erase.html"
    form_class = EraseForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.patient = get_patient_for(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "patient": self.patient}

    def get(self, request, *args, **kwargs):
        audit_record(
            actor=Actor.of(request),
            action=AuditEntry.Action.VIEW,
            patient=self.patient,
            detail="Opened the erase page",
        )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            patient=self.patient,
            prescriptions=patient_prescriptions(patient=self.patient),
            **kwargs,
        )

    def form_valid(self, form):
        patient_id = self.patient.pk
        erased = patient_erase(patient=self.patient, actor=Actor.of(self.request))
        messages.success(
            self.request,
            f"Patient {patient_id} erased with {counted(erased['prescriptions'], 'prescription')}, "
            f"{counted(erased['handouts'], 'handout')}, "
            f"{counted(erased['sessions'], 'logged session')} "
            f"and {counted(erased['responses'], 'questionnaire answer')}. "
            "The audit trail keeps the patient's id only.",
        )
        return redirect("patients:list")
