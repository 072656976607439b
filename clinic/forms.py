from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Field, Layout, Row, Submit
from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import SetPasswordMixin
from django.core.files.uploadedfile import UploadedFile
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import two_factor
from clinic.colours import HEX, darkened, validate_readable
from clinic.images import normalise_image
from clinic.models import AuditEntry, Clinic, Invitation, Patient, User
from clinic.names import name_equals


def clean_picture(value):
    """A newly uploaded picture is checked and re-encoded; a kept one passes as it is."""
    if value and isinstance(value, UploadedFile):
        return normalise_image(value)
    return value


def one_line(value: str) -> str:
    return " ".join(value.split())


class ColourInput(forms.TextInput):
    """A colour picker. HTML allows neither ``maxlength`` nor ``required`` on one (it
    always holds a colour); the field still checks both when the form is posted."""

    input_type = "color"

    def use_required_attribute(self, initial) -> bool:
        return False

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].pop("maxlength", None)
        return context


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
            self.add_error(None, self._duplicate_question(cleaned))
            if not (cleaned.get("date_of_birth") and self.duplicate.date_of_birth):
                # The bound field copied its label when validation began: change both.
                label = "This is a different person with the same name"
                self.fields["confirm_duplicate"].label = label
                self["confirm_duplicate"].label = label
            self.helper.layout.insert(0, Field("confirm_duplicate"))
        return cleaned

    def _duplicate_question(self, cleaned) -> str:
        other = self.duplicate
        if other.date_of_birth:
            who = f"{other.full_name}, born {other.date_of_birth.strftime('%-d %B %Y')},"
        else:
            who = f"{other.full_name} (no birth date recorded)"
        ask = "Open their record instead, or tick the box below if this is someone else."
        if not cleaned.get("date_of_birth"):
            ask = (
                "Open their record instead, or add the birth date, or tick the box below "
                "if this is someone else."
            )
        return f"{who} is already a patient of your clinic. {ask}"

    def _find_duplicate(self, cleaned):
        """A patient of the clinic this one may be: the same name (whatever the
        capitals, apostrophes, hyphens, spaces or accents: ``clinic.names``) and birth
        date; or, when either has no birth date, the same name alone. An edit asks only
        when the name or birth date changed, so saving never nags."""
        first, last = cleaned.get("first_name"), cleaned.get("last_name")
        if self.clinic is None or not first or not last:
            return None
        if self.instance.pk and not {"first_name", "last_name", "date_of_birth"} & set(
            self.changed_data
        ):
            return None
        matches = Patient.objects.filter(
            name_equals("last_name", last), name_equals("first_name", first), clinic=self.clinic
        )
        born = cleaned.get("date_of_birth")
        if born:
            matches = matches.filter(Q(date_of_birth=born) | Q(date_of_birth=None))
        if self.instance.pk:
            matches = matches.exclude(pk=self.instance.pk)
        # The same birth date first: that one is the likelier duplicate.
        return matches.order_by(F("date_of_birth").asc(nulls_last=True), "pk").first()


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
            "program_link_days",
            "program_link_birth_year",
            "reminder_nudge_days",
            "require_two_factor",
        ]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "email_message": forms.Textarea(attrs={"rows": 4}),
            "brand_colour": ColourInput(),
            "logo": forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
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
            HTML('<h2 class="h6 mt-3">Patient page</h2>'),
            Row(
                Column("program_link_days", css_class="col-md-6"),
                Column("reminder_nudge_days", css_class="col-md-6"),
            ),
            Field("program_link_birth_year"),
            HTML('<h2 class="h6 mt-3">Sign-in</h2>'),
            Field("require_two_factor"),
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

    def clean_brand_colour(self):
        colour = self.cleaned_data["brand_colour"]
        if not HEX.fullmatch(colour):
            # Checked here as well as by the model: the preview beside the form prints it.
            raise forms.ValidationError("Enter a colour like #0f5e6e.", code="invalid")
        try:
            validate_readable(colour)
        except forms.ValidationError:
            # Both shown beside the field, as a handout heading would print them.
            self.refused_colour, self.suggested_colour = colour, darkened(colour)
            raise
        return colour

    def clean_require_two_factor(self):
        required = self.cleaned_data["require_two_factor"]
        if required and self.user is not None and not two_factor.has_authenticator(self.user):
            # Otherwise the admin who ticks the box is sent to set it up mid-save.
            raise forms.ValidationError(
                "Set up two-factor sign-in for your own account first (Account, in the menu)."
            )
        return required


class InvitationForm(forms.ModelForm):
    """A clinic admin invites someone to the staff by email."""

    class Meta:
        model = Invitation
        fields = ["email", "role", "title"]
        labels = {"title": "Job title (printed on handouts)"}

    replace = forms.BooleanField(
        required=False,
        label="Send a new invitation: the link in the earlier one stops working",
    )

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        # An open invitation to the address typed: inviting again replaces it, so the
        # form asks first (the box appears with the question).
        self.earlier = self._open_invitation(self.data.get("email")) if self.is_bound else None
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Field("email"),
            Row(Column("role", css_class="col-md"), Column("title", css_class="col-md")),
            *([Field("replace")] if self.earlier else []),
            Submit("invite", "Send invitation"),
        )

    def _open_invitation(self, email) -> Invitation | None:
        """An unanswered invitation to this address whose link still works. Read before
        the form is validated, so what was posted is checked here first (a NUL byte
        would reach PostgreSQL, which refuses it)."""
        if not isinstance(email, str) or "\x00" in email or not email.strip():
            return None
        if len(email) > (Invitation._meta.get_field("email").max_length or 254):
            return None
        return (
            self.clinic.invitations.filter(
                email__iexact=email.strip(),
                accepted_at=None,
                cancelled_at=None,
                expires_at__gt=timezone.now(),
            )
            .order_by("-created_at")
            .first()
        )

    def clean(self):
        cleaned = super().clean()
        if self.earlier is not None and not cleaned.get("replace"):
            self.add_error(
                "replace",
                f"{self.earlier.email} was invited on "
                f"{date_format(timezone.localtime(self.earlier.created_at), 'j M Y')} and "
                "has not answered yet. Tick the box to send a new invitation (the link in "
                "the earlier one stops working), or use “Send again” in the list.",
            )
        return cleaned

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        # Only this clinic's own staff, whom the admin sees in the list anyway: whether
        # the address has an account elsewhere on the installation is not theirs to
        # learn, so such an invitation goes out like any other.
        if User.objects.with_email(email).filter(membership__clinic=self.clinic).exists():
            raise forms.ValidationError(
                f"{email} is already on your clinic's staff. If they cannot sign in, "
                "reactivate them in the list below."
            )
        return email


class InvitationAcceptForm(SetPasswordMixin, forms.Form):
    """The invited person names themselves and chooses a password."""

    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    password1, password2 = SetPasswordMixin.create_password_fields()

    def __init__(self, *args, invitation, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("first_name", css_class="col-md"), Column("last_name", css_class="col-md")),
            Field("password1"),
            Field("password2"),
            Submit("accept", "Join the clinic"),
        )

    def clean(self):
        cleaned = super().clean()
        self.validate_passwords()
        user = User(
            email=self.invitation.email,
            first_name=cleaned.get("first_name", ""),
            last_name=cleaned.get("last_name", ""),
        )
        self.validate_password_for_user(user)
        return cleaned


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's, finding the account as signing in does (any letter case)."""

    def get_users(self, email):
        users = User.objects.with_email(email).filter(is_active=True)
        return (user for user in users if user.has_usable_password())


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code",
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit() or len(code) != 6:
            raise forms.ValidationError("Enter the 6 digits your authenticator app shows.")
        return code


class TwoFactorVerifyForm(forms.Form):
    """The second step of signing in: a code from the app, or a recovery code."""

    code = forms.CharField(
        label="Code from your app, or a recovery code",
        max_length=24,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def clean_code(self):
        typed = "".join(self.cleaned_data["code"].split())
        if typed.isdigit() and len(typed) == 6:
            self.cleaned_data["kind"] = "app"
            return typed
        code = two_factor.normalise_recovery_code(typed)
        if len(code) == two_factor.RECOVERY_LENGTH and set(code) <= set(
            two_factor.RECOVERY_ALPHABET
        ):
            self.cleaned_data["kind"] = "recovery"
            return code
        raise forms.ValidationError(
            "Enter the 6 digits your authenticator app shows, or one of your recovery codes."
        )


class ConfirmItIsYouForm(forms.Form):
    """Before making new recovery codes: the password, or a code from the app."""

    secret = forms.CharField(
        label="Your password, or the 6-digit code your app shows now",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_secret(self):
        secret = self.cleaned_data["secret"]
        digits = "".join(secret.split())
        # A password is never all digits (Django's NumericPasswordValidator).
        if digits.isdigit() and len(digits) == 6:
            devices = TOTPDevice.objects.filter(user=self.user, confirmed=True)
            if not any(device.verify_token(digits) for device in devices):
                raise forms.ValidationError(
                    "That code did not match. Try the newest code in your app."
                )
        elif not self.user.check_password(secret):
            raise forms.ValidationError("That is not your password.")
        return secret


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class EraseForm(forms.Form):
    confirm_name = forms.CharField(label="Type the patient's full name to confirm", max_length=210)

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient

    def clean_confirm_name(self):
        typed = " ".join(self.cleaned_data["confirm_name"].split())
        if typed.casefold() != self.patient.full_name.casefold():
            raise forms.ValidationError(
                "The name does not match this patient's. Nothing was erased."
            )
        return typed


class AuditFilterForm(forms.Form):
    """Filters for the audit trail; every field optional, bad values are ignored."""

    patient = forms.IntegerField(label="Patient id", required=False, min_value=1)
    actor = forms.ModelChoiceField(
        label="Staff member", queryset=User.objects.none(), required=False, empty_label="Anyone"
    )
    action = forms.ChoiceField(
        choices=[("", "Any action"), *AuditEntry.Action.choices], required=False
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = User.objects.filter(membership__clinic=clinic)
        self.fields["actor"].label_from_instance = lambda user: user.get_full_name() or user.email
        for name, field in self.fields.items():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if select else "form-control"
            if name == "patient":
                field.widget.attrs["style"] = "max-width: 8rem"

    def clean(self):
        cleaned = super().clean()
        for name in ("since", "until"):
            day = cleaned.get(name)
            if day and not 2000 <= day.year <= 2999:
                self.add_error(name, "Enter a date between the years 2000 and 2999.")
        return cleaned
