"""Deleting a draft, from the builder or the draft's page (asked first there)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views import View

from clinic.audit import Actor
from prescriptions.services.drafts import prescription_delete_draft
from prescriptions.views import PrescriptionMixin


class DraftDeleteView(PrescriptionMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        rx = self.prescription
        try:
            prescription_delete_draft(prescription=rx, actor=Actor.of(request))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(rx)
        messages.success(request, f"Draft “{rx.title}” deleted.")
        return redirect(rx.patient)
