"""Forms of the staff side of the loop."""

import datetime

from django import forms
from django.utils import timezone

from patientpage.services import OLDEST_SESSION


class PaperSessionForm(forms.Form):
    """One session from the patient's paper tick-box log: the day, the exercises ticked
    and the pain they wrote down."""

    day = forms.DateField(
        label="Day",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    done = forms.TypedMultipleChoiceField(
        label="Exercises ticked",
        coerce=int,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"required": "Tick at least one exercise the patient did."},
    )
    pain = forms.IntegerField(
        label="Pain (0–10)",
        min_value=0,
        max_value=10,
        required=False,
        help_text="Leave empty if they did not write one.",
        widget=forms.NumberInput(
            attrs={
                "inputmode": "numeric",
                "class": "form-control",
                "aria-describedby": "id_pain-help",
            }
        ),
    )

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["done"].choices = [(item.pk, item.exercise.name) for item in items]
        self.fields["day"].initial = timezone.localdate()
        today = timezone.localdate()
        self.fields["day"].widget.attrs.update(
            max=today.isoformat(), min=(today - OLDEST_SESSION).isoformat()
        )

    def clean_day(self) -> datetime.date:
        day = self.cleaned_data["day"]
        today = timezone.localdate()
        if day > today:
            raise forms.ValidationError("That day has not come yet.")
        if day < today - OLDEST_SESSION:
            raise forms.ValidationError("Sessions older than two months are not entered.")
        return day
