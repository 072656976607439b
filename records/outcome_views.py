"""One questionnaire response of a patient, with its answers (a read, audited as a view)."""

from django.views.generic import TemplateView

from clinic.access import ClinicStaffMixin
from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from clinic.selectors import get_patient_for
from records.outcomes import answer_rows, get_response_for


class ResponseDetailView(ClinicStaffMixin, TemplateView):
    template_name = "records/response_detail.html"

    def get_context_data(self, **kwargs):
        patient = get_patient_for(self.request.user, kwargs["pk"])
        response = get_response_for(patient, kwargs["response_pk"])
        audit_record(
            actor=Actor.of(self.request),
            action=AuditEntry.Action.VIEW,
            patient=patient,
            target=f"questionnaire response {response.pk}",
        )
        return super().get_context_data(
            patient=patient, response=response, rows=answer_rows(response), **kwargs
        )
