"""Every crispy form's layout shows exactly the form's fields: a field left out of
either one would silently vanish from the page."""

import pytest

from clinic.forms import ClinicForm, PatientForm
from exercises.forms import ExerciseForm
from prescriptions.forms import PrescriptionForm

# Shown only when needed (see PatientForm.clean).
ON_DEMAND = {PatientForm: {"confirm_duplicate"}}


@pytest.mark.parametrize("form_class", [ClinicForm, PatientForm, ExerciseForm, PrescriptionForm])
def test_layout_matches_the_form(db, form_class):
    form = form_class()
    in_layout = {pointer.name for pointer in form.helper.layout.get_field_names()}
    assert in_layout == set(form.fields) - ON_DEMAND.get(form_class, set())
