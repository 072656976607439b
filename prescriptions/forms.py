import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row
from django import forms

from exercises.dose import Dose
from exercises.forms import dose_inputs
from outcomes.forms import ScheduleForm
from outcomes.models import Schedule
from outcomes.selectors import questionnaires_for
from prescriptions.models import Prescription, PrescriptionItem

DOSE_FIELDS = list(Dose.FIELDS)


class PrescriptionForm(forms.ModelForm):
    class Meta:
        model = Prescription
        fields = ["title", "advice", "review_date", "large_print", "log_weeks", "print_scores"]
        widgets = {
            "advice": forms.Textarea(attrs={"rows": 3}),
            "review_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The builder shows the title above the exercises and the rest of the handout's
        # settings under them: the exercises are what a therapist works on, first.
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Field("title"))
        self.handout_helper = FormHelper()
        self.handout_helper.form_tag = False
        self.handout_helper.layout = Layout(
            Field("advice"),
            Row(
                Column("review_date", css_class="col-sm-6"),
                Column("log_weeks", css_class="col-sm-6"),
            ),
            Field("large_print"),
            Field("print_scores"),
        )


class ItemForm(forms.ModelForm):
    """One exercise of the plan: its dose (checked by the dose rule, in the model) and note."""

    class Meta:
        model = PrescriptionItem
        fields = [*DOSE_FIELDS, "note", "order"]
        widgets = {
            "order": forms.HiddenInput(),
            "note": forms.TextInput(attrs={"placeholder": "e.g. Keep it gentle on the left knee"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        dose_inputs(self)

    def dose_fields(self):
        return [self[name] for name in DOSE_FIELDS]


# Edits the plan's items only: exercises are added by the builder's buttons, so a post
# that claims more forms (a tampered TOTAL_FORMS) adds nothing instead of saving an
# item without an exercise (an IntegrityError, a 500).
ItemFormSet = forms.inlineformset_factory(
    Prescription, PrescriptionItem, form=ItemForm, extra=0, can_delete=True, edit_only=True
)


class TemplateNameForm(forms.Form):
    """The name typed beside "Save as template"; the service tidies it and asks for one."""

    # The form metaclass moves declared fields off the class, so Form.template_name
    # (the form's own template) is untouched; the stubs cannot know that.
    template_name = forms.CharField(required=False)  # type: ignore[assignment]


class EmailHandoutForm(forms.Form):
    extra_recipient = forms.EmailField(
        label="Also send to (optional)",
        required=False,
        help_text="e.g. a carer; they receive a copy.",
    )
    message = forms.CharField(
        label="Personal message (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    request_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


def schedule_form_for(prescription: Prescription, clinic) -> ScheduleForm:
    """The Questionnaires box's form: the clinic's questionnaires, asked when the program
    is issued (a draft) or from now (an issued one)."""
    when = Schedule.When.NOW if prescription.issued_at else Schedule.When.ISSUE
    return ScheduleForm(questionnaires=questionnaires_for(clinic), initial={"when": when})
