"""The clinic's dose presets: one row of dose fields per exercise category."""

from django import forms

from exercises.dose import Dose
from exercises.forms import dose_inputs
from exercises.models import Category
from prescriptions.models import DosePreset

DOSE_FIELDS = list(Dose.FIELDS)


class DosePresetForm(forms.Form):
    """One category's preset. Left empty (no count, no side), the category has none and
    exercises start with their own default dose."""

    category = forms.ModelChoiceField(queryset=Category.objects.all(), widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(DosePreset, fields=DOSE_FIELDS))
        for name in DOSE_FIELDS:
            self.fields[name].required = False
        dose_inputs(self)
        # The category the row is about, for its legend (bound or not).
        self.for_category = self.initial.get("category")

    def dose_fields(self):
        return [self[name] for name in DOSE_FIELDS]

    @property
    def is_empty(self) -> bool:
        data = self.cleaned_data
        return not any(data.get(name) for name in DOSE_FIELDS if name != "side") and (
            data.get("side") in ("", "none", None)
        )

    def clean(self):
        data = super().clean()
        if not self.errors and not self.is_empty:
            # The dose rule of every dose (an amount at least), in its own words.
            dose = Dose(**{name: data.get(name) for name in DOSE_FIELDS if name != "side"})
            try:
                dose.validate()
            except forms.ValidationError as error:
                self.add_error(None, error.messages)
        return data


class BaseDosePresetFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            category = form.cleaned_data.get("category") if form.is_valid() else None
            if category is None:
                continue
            if category.pk in seen:
                raise forms.ValidationError(f"{category.name} is listed twice: reload the page.")
            seen.add(category.pk)


DosePresetFormSet = forms.formset_factory(
    DosePresetForm, formset=BaseDosePresetFormSet, extra=0, max_num=200, validate_max=True
)


def preset_formset(rows, data=None) -> forms.BaseFormSet:
    """The formset for ``dose_presets_for(clinic)``'s rows: each category's preset, or
    an empty row for a category without one."""
    initial = [
        {"category": category, **(preset.dose.as_dict() if preset else {})}
        for category, preset in rows
    ]
    formset = DosePresetFormSet(data=data, initial=initial, prefix="preset")
    for form, (category, _preset) in zip(formset.forms, rows, strict=False):
        form.for_category = category
    return formset
