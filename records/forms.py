from django import forms


class PatientSearchForm(forms.Form):
    """The patient list's search words (posted, never in the URL) and its archive switch.
    As a form, bad input (a NUL byte, a 10,000-character paste) is a message, not a 500."""

    q = forms.CharField(required=False, max_length=100, label="Search patients")
    archived = forms.BooleanField(required=False)
