"""The exercise page's "Add to a patient's program" (its form: ``program_tags``)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.views import View

from clinic.access import ClinicStaffMixin
from clinic.audit import Actor
from clinic.selectors import get_patient_for
from exercises.selectors import get_exercise_for, get_prescribable_exercise_for
from prescriptions.services.library_add import prescription_add_to_patients_draft


class AddFromLibraryView(ClinicStaffMixin, View):
    http_method_names = ["post"]

    def post(self, request, slug):
        exercise = get_prescribable_exercise_for(
            request.user, get_exercise_for(request.user, slug).pk
        )
        value = request.POST.get("patient", "")
        if not value:
            messages.error(request, "Choose a patient first.")
            return redirect(exercise)
        if not (value.isascii() and value.isdigit()):
            raise Http404("No such patient.")
        patient = get_patient_for(request.user, int(value))
        try:
            added = prescription_add_to_patients_draft(
                patient=patient, exercise=exercise, actor=Actor.of(request)
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(exercise)
        if added.created:
            messages.success(
                request, f"Added {exercise.name}. A new draft for {patient.display_name}."
            )
        else:
            messages.success(request, f"Added {exercise.name}.")
        return redirect("prescriptions:edit", pk=added.prescription.pk)
