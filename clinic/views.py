"""The clinic's own pages for its admins: settings, staff and invitations, the audit trail."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, TemplateView

from clinic import staff
from clinic.access import ClinicAdminMixin
from clinic.audit import Actor
from clinic.forms import AuditFilterForm, ClinicForm, InvitationForm
from clinic.mail import explain
from clinic.models import Membership
from clinic.selectors import audit_entries, clinic_staff, users_with_two_factor
from clinic.services import clinic_update


class ClinicSettingsView(ClinicAdminMixin, FormView):
    template_name = "clinic/settings.html"
    form_class = ClinicForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.clinic, "user": self.request.user}

    def form_valid(self, form):
        clinic_update(clinic=self.clinic, actor=Actor.of(self.request), form=form)
        messages.success(self.request, "Clinic settings saved. New handouts will use them.")
        return redirect("clinic_settings")


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
        invitation, token = staff.invitation_create(
            clinic=self.clinic, actor=Actor.of(request), form=form
        )
        _send_invitation(request, invitation, token, replaced=form.earlier is not None)
        return redirect("staff")


def _send_invitation(request, invitation, token, *, replaced: bool = False) -> None:
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
        earlier = " The link in the earlier invitation no longer works." if replaced else ""
        messages.success(request, f"Invitation sent to {invitation.email}.{earlier}")


class InvitationActionView(ClinicAdminMixin, View):
    """Send an open invitation again (a new link replaces the old one) or cancel it."""

    http_method_names = ["post"]

    def post(self, request, pk):
        invitation = get_object_or_404(self.clinic.invitations.all(), pk=pk)
        if invitation.accepted_at is not None:
            messages.info(request, "That invitation has already been accepted.")
        elif invitation.cancelled_at is not None:
            messages.error(
                request,
                f"The invitation for {invitation.email} was cancelled or replaced by a newer "
                "one. Invite them again if you still want them to join.",
            )
        elif "cancel" in request.POST:
            staff.invitation_cancel(invitation=invitation, actor=Actor.of(request))
            messages.success(request, f"Invitation for {invitation.email} cancelled.")
        else:
            token = staff.invitation_renew(invitation=invitation, actor=Actor.of(request))
            _send_invitation(request, invitation, token, replaced=True)
        return redirect("staff")


class MemberActionView(ClinicAdminMixin, View):
    """Change a member's role, or deactivate / reactivate their account."""

    http_method_names = ["post"]

    def post(self, request, pk):
        membership = get_object_or_404(
            Membership.objects.select_related("user").filter(clinic=self.clinic), pk=pk
        )
        try:
            if "role" in request.POST:
                membership = staff.member_set_role(
                    membership=membership, role=request.POST["role"], actor=Actor.of(request)
                )
                role = membership.get_role_display().lower()
                messages.success(request, f"{membership.user} is now {role}.")
            else:
                active = request.POST.get("active") == "1"
                staff.member_set_active(
                    membership=membership, active=active, actor=Actor.of(request)
                )
                if active:
                    messages.success(request, f"{membership.user} can sign in again.")
                else:
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
