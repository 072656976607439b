import uuid

from django import forms
from django.utils import timezone

from patientpage.models import Difficulty
from patientpage.reminders import WEEKDAYS, consent_sentence, time_zones
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


class ReminderTimesForm(forms.Form):
    """Days, time and time zone: what a reminder plan and a calendar file share."""

    days = forms.TypedMultipleChoiceField(
        label="Days",
        choices=[(str(number), name) for number, name in WEEKDAYS],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one day."},
    )
    time = forms.TimeField(
        label="Time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": "Choose a time.", "invalid": "Enter a time like 18:30."},
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        error_messages={"invalid_choice": "Choose a time zone from the list."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(zone, zone) for zone in time_zones()]


class ReminderForm(ReminderTimesForm):
    """The patient's reminder emails. The address the clinic holds is offered without
    being shown (anyone holding the page's link would read it), and so is the one
    already in use."""

    CLINIC, CURRENT, OTHER = "clinic", "current", "other"

    address = forms.ChoiceField(label="Send reminders to", widget=forms.RadioSelect)
    email = forms.EmailField(
        label="Email address",
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
        error_messages={"invalid": "Enter an email address like name@example.com."},
    )
    nudge = forms.BooleanField(required=False)
    consent = forms.BooleanField(
        error_messages={"required": "Tick this box to agree, or we cannot send reminders."}
    )

    def __init__(self, *args, link, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.link = link
        self.plan = plan
        choices = []
        if plan is not None:
            choices.append((self.CURRENT, "The address my reminders go to now"))
        if link.patient.email:
            choices.append((self.CLINIC, f"The address {link.clinic.name} has for me"))
        choices.append((self.OTHER, "Another address"))
        self.fields["address"].choices = choices
        self.fields["address"].initial = choices[0][0]
        self.fields["consent"].label = consent_sentence(link.clinic)
        days = link.clinic.reminder_nudge_days
        if days:
            self.fields[
                "nudge"
            ].label = f"If I log nothing for {days} days, send me one gentle email"
        else:
            del self.fields["nudge"]  # The clinic sends none.

    def clean(self):
        data = super().clean()
        address = data.get("address")
        if address == self.OTHER and not data.get("email") and "email" not in self.errors:
            self.add_error("email", "Enter the email address for your reminders.")
        elif address == self.CURRENT and self.plan is not None:
            data["resolved_email"] = self.plan.email
        elif address == self.CLINIC:
            data["resolved_email"] = self.link.patient.email
        elif address == self.OTHER:
            data["resolved_email"] = data.get("email")
        return data
