"""The builder's autosave: the plan form posted a second after the therapist stops
typing (``static/js/autosave.js``). It saves what the "Save draft" button would, but
answers with a few words of JSON instead of a page, so the plan is not redrawn under
the therapist's fingers."""

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from clinic.audit import Actor
from prescriptions import services
from prescriptions.forms import ItemFormSet, PrescriptionForm
from prescriptions.preview_tasks import prerender_after_save
from prescriptions.views import PrescriptionMixin

ISSUED = "This prescription has been issued and can no longer be changed."


def first_problem(form, formset) -> str:
    """What the status line says of an invalid plan: the first error, named by its
    field (and exercise), and how many more; the full list comes with the next full
    save, beside the fields."""
    problems = [
        f"{form.fields[name].label if name in form.fields else 'Plan'}: {error}"
        for name, errors in form.errors.items()
        for error in errors
    ]
    for item_form in formset.forms:
        exercise = item_form.instance.exercise.name if item_form.instance.pk else "Exercise"
        for name, errors in item_form.errors.items():
            label = item_form.fields[name].label if name in item_form.fields else ""
            where = f"{exercise}, {str(label).lower()}" if label else exercise
            problems += [f"{where}: {error}" for error in errors]
    problems += [str(error) for error in formset.non_form_errors()]
    if not problems:
        return "the plan could not be read; save the draft to see why."
    more = len(problems) - 1
    return problems[0] + (f" (and {more} more)" if more else "")


@method_decorator(never_cache, name="dispatch")
class AutosaveView(PrescriptionMixin, View):
    """``{"saved": true, "doses": {item id: the dose in words}}``, or
    ``{"saved": false, "reason": …}`` with nothing saved: an invalid plan (200: the
    page keeps the edits and says why), or a prescription that is no longer a draft
    (409: issued ones are never changed)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        rx = self.prescription
        if not rx.is_draft:
            return JsonResponse({"saved": False, "reason": ISSUED}, status=409)
        form = PrescriptionForm(request.POST, instance=rx)
        formset = ItemFormSet(request.POST, instance=rx, queryset=rx.items.all())
        if not (form.is_valid() and formset.is_valid()):
            return JsonResponse({"saved": False, "reason": first_problem(form, formset)})
        try:
            services.prescription_save(
                prescription=rx, form=form, formset=formset, actor=Actor.of(request)
            )
        except ValidationError as error:  # Issued by another request meanwhile.
            return JsonResponse({"saved": False, "reason": " ".join(error.messages)}, status=409)
        prerender_after_save(rx.pk)
        # Each exercise's dose in words, for the line under its fields (not redrawn).
        doses = {
            str(f.instance.pk): str(f.instance.dose)
            for f in formset.forms
            if f.instance.pk and f not in formset.deleted_forms
        }
        return JsonResponse({"saved": True, "doses": doses})
