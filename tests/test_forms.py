"""Every crispy form's layout shows exactly the form's fields: a field left out of
either one would silently vanish from the page."""

import pytest
from crispy_forms.helper import FormHelper

from clinic.forms import ClinicForm, PatientForm
from exercises.forms import ExerciseForm
from prescriptions.forms import PrescriptionForm

# Shown only when needed (see PatientForm.clean).
ON_DEMAND = {PatientForm: {"confirm_duplicate"}}


@pytest.mark.parametrize("form_class", [ClinicForm, PatientForm, ExerciseForm, PrescriptionForm])
def test_layout_matches_the_form(db, form_class):
    form = form_class()
    # A form may be shown in parts, one helper each (the builder's PrescriptionForm).
    helpers = [value for value in vars(form).values() if isinstance(value, FormHelper)]
    in_layout = [p.name for helper in helpers for p in helper.layout.get_field_names()]
    assert len(in_layout) == len(set(in_layout)), "a field shown twice"
    assert set(in_layout) == set(form.fields) - ON_DEMAND.get(form_class, set())
