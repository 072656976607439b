"""The staff side of the loop: the program link's buttons, a session entered from the
paper log, and follow-ups marked handled. Each change goes through its service, which
writes the audit entry; each object comes through a clinic-scoped selector."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.formats import date_format
from django.views import View
from django.views.generic import TemplateView

from clinic.access import ClinicStaffMixin
from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from clinic.selectors import get_patient_for
from patientpage.followups import followup_handle
from patientpage.loop import (
    CALLS_PER_PAGE,
    calls_by_patient,
    open_follow_up_patients,
    open_follow_ups,
    patient_open_follow_ups,
)
from patientpage.selectors import current_link
from patientpage.services import session_enter_from_paper
from patientpage.staff_forms import PaperSessionForm
from prescriptions import handouts, links
from prescriptions.models import ProgramLink
from prescriptions.selectors import get_prescription_for
from prescriptions.services.links import program_link_renew, program_link_turn_off

PANEL = "#patient-page"


class ProgramMixin(ClinicStaffMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.prescription = get_prescription_for(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def back(self):
        return redirect(self.prescription.get_absolute_url() + PANEL)


class LinkCardView(ProgramMixin, View):
    """A card with the page's code to print or hand over: after "New link" the stored
    handout still shows the old code (issued handouts are kept byte for byte)."""

    http_method_names = ["get"]

    def get(self, request, pk):
        link = current_link(self.prescription)
        token = links.token_of(link) if link is not None and link.is_on else None
        if token is None:
            raise Http404("This program has no page code to print.")
        patient = self.prescription.patient
        return printed_pdf(
            request,
            template="handouts/link_card.html",
            context={
                "clinic": self.prescription.clinic,
                "first_name": patient.preferred_name or patient.first_name,
                "title": self.prescription.title,
                "url": links.page_url(token),
                # A link of this version was replaced ("New link"): the printed code is dead.
                "replaces": self.prescription.links.filter(
                    ended_reason=ProgramLink.Ended.REPLACED
                ).exists(),
            },
            patient=patient,
            target=f"program link {link.pk}",
            detail="Page code card",
            filename="exercise-page-code.pdf",
        )


def printed_pdf(
    request, *, template: str, context: dict, patient, target: str, detail: str, filename: str
) -> HttpResponse:
    """A one-page print for staff (a handout template rendered to PDF), written in the
    trail as printed for ``patient``."""
    pdf = handouts.pdf_from_html(render_to_string(template, context))
    audit_record(
        actor=Actor.of(request),
        action=AuditEntry.Action.PRINT,
        patient=patient,
        target=target,
        detail=detail,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class LinkTurnOffView(ProgramMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        link = current_link(self.prescription)
        if link is None or not link.is_on:
            messages.info(request, "The patient page of this program is already off.")
            return self.back()
        program_link_turn_off(link=link, actor=Actor.of(request))
        messages.success(
            request,
            "Patient page turned off. The printed QR code and the link no longer open it; "
            "make a new link to turn it back on.",
        )
        return self.back()


class LinkRenewView(ProgramMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        link = current_link(self.prescription)
        if link is None:
            messages.error(request, "This version has no patient page: open the current version.")
            return self.back()
        try:
            program_link_renew(link=link, actor=Actor.of(request))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return self.back()
        messages.success(
            request,
            "New link made. The old code no longer opens the page: give the patient the new "
            "address or QR code below.",
        )
        return self.back()


class PaperSessionView(ProgramMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        rx = self.prescription
        if rx.is_draft:
            messages.error(request, "Sessions are entered on an issued program.")
            return self.back()
        form = PaperSessionForm(request.POST, items=rx.items.all())
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return redirect(rx.get_absolute_url() + "#paper-log")
        data = form.cleaned_data
        try:
            session_enter_from_paper(
                prescription=rx,
                day=data["day"],
                done=set(data["done"]),
                pain=data["pain"],
                actor=Actor.of(request),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(rx.get_absolute_url() + "#paper-log")
        messages.success(
            request, f"Session of {date_format(data['day'], 'j M Y')} entered from the paper log."
        )
        return redirect(rx.get_absolute_url() + "#paper-log")


class CallsView(ClinicStaffMixin, TemplateView):
    """Everyone who needs a call, a page at a time (the dashboard shows the first few)."""

    template_name = "patientpage/calls.html"

    def get_context_data(self, **kwargs):
        patients = calls_by_patient(clinic=self.clinic, therapist=self.request.user)
        page = Paginator(patients, CALLS_PER_PAGE).get_page(self.request.GET.get("page"))
        calls = open_follow_ups(
            clinic=self.clinic, therapist=self.request.user, rows=list(page.object_list)
        )
        return super().get_context_data(
            page=page, calls=calls, calls_total=page.paginator.count, on_calls_page=True, **kwargs
        )


class FollowUpsHandledView(ClinicStaffMixin, View):
    """Mark the follow-ups a line of "Who needs a call" showed as handled. Only those
    posted: a reason raised after the page was loaded stays on the list."""

    http_method_names = ["post"]

    def post(self, request, patient_pk):
        patient = get_patient_for(request.user, patient_pk)
        posted = set(request.POST.getlist("follow_up"))
        actor = Actor.of(request)
        handled = 0
        for follow_up in patient_open_follow_ups(patient):
            if str(follow_up.pk) in posted:
                followup_handle(follow_up=follow_up, actor=actor)
                handled += 1
        if request.htmx:
            return render(
                request,
                "patientpage/partials/handled.html",
                {
                    "patient": patient,
                    "handled": handled,
                    "remaining": open_follow_up_patients(clinic=self.clinic),
                },
            )
        if handled:
            messages.success(request, f"{patient.full_name}: marked handled.")
        else:
            messages.info(request, f"Nothing open to mark handled for {patient.full_name}.")
        return redirect("loop:calls" if request.POST.get("back") == "calls" else "dashboard")
