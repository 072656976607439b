from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Field, Layout, Row, Submit
from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from clinic.images import normalise_image
from clinic.models import Clinic, Patient


def clean_picture(value):
    """A newly uploaded picture is checked and re-encoded; a kept one passes as it is."""
    if value and isinstance(value, UploadedFile):
        return normalise_image(value)
    return value


def one_line(value: str) -> str:
    return " ".join(value.split())


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = [
            "first_name",
            "last_name",
            "preferred_name",
            "date_of_birth",
            "email",
            "phone",
            "email_consent",
            "notes",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "email_consent": "The patient agreed to receive their handouts by email.",
        }

    confirm_duplicate = forms.BooleanField(
        label="This is a different person with the same name and date of birth",
        required=False,
    )

    def __init__(self, *args, clinic=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.duplicate = None
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("first_name", css_class="col-md"), Column("last_name", css_class="col-md")),
            Row(
                Column("preferred_name", css_class="col-md"),
                Column("date_of_birth", css_class="col-md"),
            ),
            Row(Column("email", css_class="col-md"), Column("phone", css_class="col-md")),
            Field("email_consent"),
            Field("notes"),
            Submit("save", "Save patient"),
        )

    def clean_date_of_birth(self):
        born = self.cleaned_data.get("date_of_birth")
        if born and born > timezone.localdate():
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if born and born.year < 1900:
            raise forms.ValidationError("Enter a date of birth after 1900.")
        return born

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("email_consent") and not cleaned.get("email"):
            self.add_error("email", "Enter an email address to send handouts by email.")
        self.duplicate = self._find_duplicate(cleaned)
        if self.duplicate and not cleaned.get("confirm_duplicate"):
            born = cleaned["date_of_birth"].strftime("%-d %B %Y")
            self.add_error(
                None,
                f"{self.duplicate.full_name}, born {born}, is already a patient of your clinic. "
                "Open their record instead, or tick the box below if this is someone else.",
            )
            self.helper.layout.insert(0, Field("confirm_duplicate"))
        return cleaned

    def _find_duplicate(self, cleaned):
        if self.clinic is None or not cleaned.get("date_of_birth"):
            return None
        matches = Patient.objects.filter(
            clinic=self.clinic,
            first_name__iexact=cleaned.get("first_name", ""),
            last_name__iexact=cleaned.get("last_name", ""),
            date_of_birth=cleaned["date_of_birth"],
        )
        if self.instance.pk:
            matches = matches.exclude(pk=self.instance.pk)
        return matches.first()


class ClinicForm(forms.ModelForm):
    class Meta:
        model = Clinic
        fields = [
            "name",
            "phone",
            "email",
            "website",
            "address",
            "logo",
            "brand_colour",
            "paper_size",
            "handout_footer",
            "reply_to",
            "email_subject",
            "email_message",
        ]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "email_message": forms.Textarea(attrs={"rows": 4}),
            "brand_colour": forms.TextInput(attrs={"type": "color"}),
            "logo": forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Field("name"),
            Row(Column("phone", css_class="col-md"), Column("email", css_class="col-md")),
            Field("website"),
            Field("address"),
            Row(
                Column("logo", css_class="col-md-6"),
                Column("brand_colour", css_class="col-6 col-md-3"),
                Column("paper_size", css_class="col-6 col-md-3"),
            ),
            Field("handout_footer"),
            HTML('<h2 class="h6 mt-3">Handout emails</h2>'),
            Field("reply_to"),
            Field("email_subject"),
            Field("email_message"),
            Submit("save", "Save clinic settings"),
        )

    def clean_name(self):
        # The name goes into email headers: one line only.
        return one_line(self.cleaned_data["name"])

    def clean_email_subject(self):
        return one_line(self.cleaned_data["email_subject"])

    def clean_handout_footer(self):
        return one_line(self.cleaned_data["handout_footer"])

    def clean_logo(self):
        return clean_picture(self.cleaned_data.get("logo"))
