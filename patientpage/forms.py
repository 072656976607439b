import uuid

from django import forms
from django.utils import timezone

from patientpage.models import Difficulty
from patientpage.services import SessionReport


class BirthYearForm(forms.Form):
    year = forms.IntegerField(
        label="The year you were born",
        min_value=1900,
        max_value=2100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "bday-year"}),
    )


class SessionForm(forms.Form):
    """The session form as a plain post, for a browser that does not run the page's
    script: ticks, difficulty per exercise, pain and a note, sent at once."""

    session = forms.UUIDField(widget=forms.HiddenInput)
    pain = forms.IntegerField(min_value=0, max_value=10, required=False)
    note = forms.CharField(max_length=1000, required=False, widget=forms.Textarea)

    def __init__(self, *args, exercises=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.exercises = list(exercises)
        for exercise in self.exercises:
            self.fields[f"done_{exercise.item_id}"] = forms.BooleanField(required=False)
            self.fields[f"difficulty_{exercise.item_id}"] = forms.ChoiceField(
                choices=[("", "—"), *Difficulty.choices], required=False
            )

    def report(self) -> SessionReport:
        data = self.cleaned_data
        return SessionReport(
            client_ref=data["session"] or uuid.uuid4(),
            started_at=timezone.now(),
            done={e.item_id for e in self.exercises if data.get(f"done_{e.item_id}")},
            difficulty={
                e.item_id: data[f"difficulty_{e.item_id}"]
                for e in self.exercises
                if data.get(f"difficulty_{e.item_id}")
            },
            finished=True,
            pain=data.get("pain"),
            note=data.get("note") or "",
        )
