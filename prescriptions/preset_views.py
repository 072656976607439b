"""The clinic's dose presets page, for clinic admins (beside the clinic settings)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.generic import TemplateView

from clinic.access import ClinicAdminMixin
from clinic.audit import Actor
from prescriptions.preset_forms import preset_formset
from prescriptions.selectors import dose_presets_for
from prescriptions.services.presets import dose_presets_save


class DosePresetsView(ClinicAdminMixin, TemplateView):
    template_name = "prescriptions/dose_presets.html"

    def get_context_data(self, **kwargs):
        if "formset" not in kwargs:
            kwargs["formset"] = preset_formset(dose_presets_for(self.clinic))
        return super().get_context_data(**kwargs)

    def post(self, request):
        formset = preset_formset(dose_presets_for(self.clinic), data=request.POST)
        if not formset.is_valid():
            messages.error(request, "Please correct the highlighted doses.")
            return self.render_to_response(self.get_context_data(formset=formset), status=400)
        changed = dose_presets_save(
            clinic=self.clinic, forms=formset.forms, actor=Actor.of(request)
        )
        if changed:
            messages.success(request, f"Dose presets saved ({changed} changed).")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("dose_presets")
