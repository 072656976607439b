from django.contrib import messages
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from clinic.access import ClinicAdminMixin, ClinicStaffMixin
from clinic.forms import ClinicForm, PatientForm
from clinic.selectors import get_patient_for, patient_list
from clinic.services import (
    clinic_update,
    patient_create,
    patient_record_consent,
    patient_set_archived,
    patient_update,
)
from prescriptions.models import Delivery
from prescriptions.selectors import (
    clinic_deliveries,
    patient_deliveries,
    patient_prescriptions,
    recent_prescriptions,
)


@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


class DashboardView(ClinicStaffMixin, TemplateView):
    template_name = "clinic/dashboard.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            prescriptions=recent_prescriptions(user=self.request.user), **kwargs
        )


class PatientListView(ClinicStaffMixin, TemplateView):
    template_name = "clinic/patient_list.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()[:100]
        archived = self.request.GET.get("archived") == "1"
        patients = patient_list(user=self.request.user, query=query, archived=archived)
        page = Paginator(patients, 25).get_page(self.request.GET.get("page"))
        return super().get_context_data(q=query, archived=archived, page=page, **kwargs)


class PatientCreateView(ClinicStaffMixin, FormView):
    template_name = "clinic/patient_form.html"
    form_class = PatientForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "clinic": self.clinic}

    def form_valid(self, form):
        patient = patient_create(clinic=self.clinic, by=self.request.user, form=form)
        messages.success(self.request, f"Patient {patient.full_name} added.")
        return redirect(patient)


class PatientUpdateView(ClinicStaffMixin, FormView):
    template_name = "clinic/patient_form.html"
    form_class = PatientForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.patient = get_patient_for(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.patient, "clinic": self.clinic}

    def get_context_data(self, **kwargs):
        return super().get_context_data(patient=self.patient, **kwargs)

    def form_valid(self, form):
        patient = patient_update(patient=self.patient, by=self.request.user, form=form)
        messages.success(self.request, "Patient details saved.")
        return redirect(patient)


class PatientDetailView(ClinicStaffMixin, TemplateView):
    template_name = "clinic/patient_detail.html"

    def get_context_data(self, **kwargs):
        patient = get_patient_for(self.request.user, kwargs["pk"])
        return super().get_context_data(
            patient=patient,
            prescriptions=patient_prescriptions(patient=patient),
            deliveries=patient_deliveries(patient=patient),
            **kwargs,
        )


class PatientArchiveView(ClinicStaffMixin, View):
    """Archive a patient (hidden from the list, kept whole) or bring them back."""

    http_method_names = ["post"]

    def post(self, request, pk):
        patient = get_patient_for(request.user, pk)
        archived = request.POST.get("archived") == "1"
        patient_set_archived(patient=patient, archived=archived, by=request.user)
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
        patient_record_consent(patient=patient, by=request.user)
        messages.success(request, f"Consent to email handouts recorded for {patient.full_name}.")
        target = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            return redirect(target)
        return redirect(patient)


class ClinicSettingsView(ClinicAdminMixin, FormView):
    template_name = "clinic/settings.html"
    form_class = ClinicForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.clinic}

    def form_valid(self, form):
        clinic_update(clinic=self.clinic, by=self.request.user, form=form)
        messages.success(self.request, "Clinic settings saved. New handouts will use them.")
        return redirect("clinic_settings")


class DeliveryLogView(ClinicAdminMixin, TemplateView):
    """Every handout email of the clinic, newest first, for clinic admins."""

    template_name = "clinic/deliveries.html"

    def get_context_data(self, **kwargs):
        status = self.request.GET.get("status", "")
        if status not in Delivery.Status.values:
            status = ""
        deliveries = clinic_deliveries(clinic=self.clinic, status=status)
        page = Paginator(deliveries, 50).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            page=page, status=status, statuses=Delivery.Status.choices, **kwargs
        )
