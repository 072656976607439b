from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from clinic import staff
from clinic.access import ClinicAdminMixin, ClinicStaffMixin, membership_of
from clinic.forms import AuditFilterForm, ClinicForm, EraseForm, InvitationForm, PatientForm
from clinic.models import AuditEntry, Membership
from clinic.privacy import patient_erase, patient_export_archive
from clinic.selectors import (
    audit_entries,
    clinic_staff,
    get_patient_for,
    patient_list,
    users_with_two_factor,
)
from clinic.services import (
    audit_record,
    clinic_update,
    patient_create,
    patient_record_consent,
    patient_set_archived,
    patient_update,
)
from exercises.dose import plural as counted
from prescriptions.models import Delivery
from prescriptions.selectors import (
    clinic_deliveries,
    patient_deliveries,
    patient_prescriptions,
    recent_prescriptions,
)
from prescriptions.tasks import explain


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
    """The search box posts its words: a patient's name in a URL would end up in
    access logs and browser history. Paging through results posts them again."""

    template_name = "clinic/patient_list.html"

    def post(self, request, *args, **kwargs):
        return self.get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        query = data.get("q", "").strip()[:100] if self.request.method == "POST" else ""
        archived = data.get("archived") == "1"
        patients = patient_list(user=self.request.user, query=query, archived=archived)
        page = Paginator(patients, 25).get_page(data.get("page"))
        return super().get_context_data(q=query, archived=archived, page=page, **kwargs)


def changed_fields(form) -> str:
    """An audit detail naming the changed fields by their labels (never their values)."""
    return "Changed: " + ", ".join(
        str(form.fields[name].label).lower() for name in form.changed_data
    )


# Views that change a patient's record write the change and its audit entry in one
# transaction (``@transaction.atomic``): neither is kept without the other.


class PatientCreateView(ClinicStaffMixin, FormView):
    template_name = "clinic/patient_form.html"
    form_class = PatientForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "clinic": self.clinic}

    @transaction.atomic
    def form_valid(self, form):
        patient = patient_create(clinic=self.clinic, by=self.request.user, form=form)
        audit_record(request=self.request, action=AuditEntry.Action.CREATE, patient=patient)
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

    def get(self, request, *args, **kwargs):
        # The form shows the whole record: opening it is viewing it.
        audit_record(
            request=request,
            action=AuditEntry.Action.VIEW,
            patient=self.patient,
            detail="Opened the edit form",
        )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(patient=self.patient, **kwargs)

    @transaction.atomic
    def form_valid(self, form):
        patient = patient_update(patient=self.patient, by=self.request.user, form=form)
        if form.changed_data:
            audit_record(
                request=self.request,
                action=AuditEntry.Action.CHANGE,
                patient=patient,
                detail=changed_fields(form),
            )
        messages.success(self.request, "Patient details saved.")
        return redirect(patient)


class PatientDetailView(ClinicStaffMixin, TemplateView):
    template_name = "clinic/patient_detail.html"

    def get_context_data(self, **kwargs):
        patient = get_patient_for(self.request.user, kwargs["pk"])
        audit_record(request=self.request, action=AuditEntry.Action.VIEW, patient=patient)
        return super().get_context_data(
            patient=patient,
            prescriptions=patient_prescriptions(patient=patient),
            deliveries=patient_deliveries(patient=patient),
            **kwargs,
        )


class PatientArchiveView(ClinicStaffMixin, View):
    """Archive a patient (hidden from the list, kept whole) or bring them back."""

    http_method_names = ["post"]

    @transaction.atomic
    def post(self, request, pk):
        patient = get_patient_for(request.user, pk)
        archived = request.POST.get("archived") == "1"
        patient_set_archived(patient=patient, archived=archived, by=request.user)
        audit_record(
            request=request,
            action=AuditEntry.Action.CHANGE,
            patient=patient,
            detail="Archived" if archived else "Restored from the archive",
        )
        if archived:
            messages.success(request, f"{patient.full_name} archived. Their records are kept.")
        else:
            messages.success(request, f"{patient.full_name} is back in the patient list.")
        return redirect(patient)


class PatientConsentView(ClinicStaffMixin, View):
    """Record that the patient agreed to receive handouts by email."""

    http_method_names = ["post"]

    @transaction.atomic
    def post(self, request, pk):
        patient = get_patient_for(request.user, pk)
        if not patient.email:
            messages.error(request, "Add the patient's email address first.")
            return redirect("patients:edit", pk=patient.pk)
        patient_record_consent(patient=patient, by=request.user)
        audit_record(
            request=request,
            action=AuditEntry.Action.CHANGE,
            patient=patient,
            detail="Consent to email handouts recorded",
        )
        messages.success(request, f"Consent to email handouts recorded for {patient.full_name}.")
        target = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            return redirect(target)
        return redirect(patient)


class ClinicSettingsView(ClinicAdminMixin, FormView):
    template_name = "clinic/settings.html"
    form_class = ClinicForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.clinic, "user": self.request.user}

    @transaction.atomic
    def form_valid(self, form):
        clinic_update(clinic=self.clinic, by=self.request.user, form=form)
        if form.changed_data:
            audit_record(
                request=self.request,
                action=AuditEntry.Action.SETTINGS,
                clinic=self.clinic,
                detail=changed_fields(form),
            )
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


class PatientExportView(ClinicAdminMixin, View):
    """Everything held on one patient, as a zip (patient.json and the handout PDFs)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        patient = get_patient_for(request.user, pk)
        archive = patient_export_archive(patient=patient)
        audit_record(request=request, action=AuditEntry.Action.EXPORT, patient=patient)
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

    template_name = "clinic/patient_erase.html"
    form_class = EraseForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.patient = get_patient_for(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "patient": self.patient}

    def get(self, request, *args, **kwargs):
        audit_record(
            request=request,
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
        erased = patient_erase(patient=self.patient, request=self.request)
        messages.success(
            self.request,
            f"Patient {patient_id} erased with {counted(erased['prescriptions'], 'prescription')} "
            f"and {counted(erased['handouts'], 'handout')}. "
            "The audit trail keeps the patient's id only.",
        )
        return redirect("patients:list")


class StaffView(ClinicAdminMixin, TemplateView):
    """The clinic's staff and open invitations; admins invite, change roles, deactivate."""

    template_name = "clinic/staff.html"

    def get_context_data(self, **kwargs):
        members, invitations = clinic_staff(clinic=self.clinic)
        kwargs.setdefault("form", InvitationForm(clinic=self.clinic))
        return super().get_context_data(
            members=members,
            with_two_factor=users_with_two_factor(clinic=self.clinic),
            invitations=invitations,
            roles=Membership.Role.choices,
            now=timezone.now(),
            **kwargs,
        )

    def post(self, request):
        form = InvitationForm(request.POST, clinic=self.clinic)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        invitation, token = staff.invitation_create(clinic=self.clinic, by=request.user, form=form)
        _staff_event(
            request,
            f"invitation {invitation.pk}",
            f"Invited {invitation.email} as {invitation.get_role_display().lower()}",
        )
        _send_invitation(request, invitation, token)
        return redirect("staff")


def _staff_event(request, target: str, detail: str) -> None:
    audit_record(
        request=request,
        action=AuditEntry.Action.STAFF,
        clinic=membership_of(request.user).clinic,
        target=target,
        detail=detail,
    )


def _send_invitation(request, invitation, token) -> None:
    try:
        staff.invitation_send(
            invitation=invitation,
            token=token,
            base_url=settings.SITE_URL or request.build_absolute_uri("/")[:-1],
        )
    except Exception as error:  # noqa: BLE001 (any mail failure is reported, not a 500)
        messages.error(
            request,
            f"The invitation to {invitation.email} could not be sent: {explain(error)} "
            "Use “Send again” once email works.",
        )
    else:
        messages.success(request, f"Invitation sent to {invitation.email}.")


class InvitationActionView(ClinicAdminMixin, View):
    """Send an open invitation again (a new link replaces the old one) or cancel it."""

    http_method_names = ["post"]

    def post(self, request, pk):
        invitation = get_object_or_404(self.clinic.invitations.all(), pk=pk)
        target = f"invitation {invitation.pk}"
        if invitation.accepted_at is not None:
            messages.info(request, "That invitation has already been accepted.")
        elif invitation.cancelled_at is not None:
            messages.error(
                request,
                f"The invitation for {invitation.email} was cancelled or replaced by a newer "
                "one. Invite them again if you still want them to join.",
            )
        elif "cancel" in request.POST:
            staff.invitation_cancel(invitation=invitation)
            _staff_event(request, target, f"Cancelled the invitation for {invitation.email}")
            messages.success(request, f"Invitation for {invitation.email} cancelled.")
        else:
            token = staff.invitation_renew(invitation=invitation)
            _staff_event(request, target, f"Sent the invitation for {invitation.email} again")
            _send_invitation(request, invitation, token)
        return redirect("staff")


class MemberActionView(ClinicAdminMixin, View):
    """Change a member's role, or deactivate / reactivate their account."""

    http_method_names = ["post"]

    def post(self, request, pk):
        membership = get_object_or_404(
            Membership.objects.select_related("user").filter(clinic=self.clinic), pk=pk
        )
        who = membership.user.email
        try:
            if "role" in request.POST:
                membership = staff.member_set_role(
                    membership=membership, role=request.POST["role"], by=request.user
                )
                role = membership.get_role_display().lower()
                _staff_event(request, f"member {who}", f"Role set to {role}")
                messages.success(request, f"{membership.user} is now {role}.")
            else:
                active = request.POST.get("active") == "1"
                staff.member_set_active(membership=membership, active=active, by=request.user)
                if active:
                    _staff_event(request, f"member {who}", "Reactivated")
                    messages.success(request, f"{membership.user} can sign in again.")
                else:
                    _staff_event(request, f"member {who}", "Deactivated")
                    messages.success(
                        request,
                        f"{membership.user} is deactivated and signed out. "
                        "Their prescriptions stay, signed with their name.",
                    )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("staff")


class AuditLogView(ClinicAdminMixin, TemplateView):
    """Who viewed, printed, emailed, changed, exported or erased which patient's record.
    Read-only: nothing in the app changes an entry."""

    template_name = "clinic/audit.html"

    def get_context_data(self, **kwargs):
        form = AuditFilterForm(self.request.GET or None, clinic=self.clinic)
        filters = {}
        if form.is_bound:
            form.is_valid()  # Apply the filters that are valid; show errors for the rest.
            filters = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
        entries = audit_entries(clinic=self.clinic, **filters)
        page = Paginator(entries, 50).get_page(self.request.GET.get("page"))
        return super().get_context_data(form=form, page=page, **kwargs)
