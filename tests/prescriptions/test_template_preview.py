"""The builder's Templates box (issue 15): a template's exercises and doses are shown
before they are added, and "Add its exercises" can be undone: undo removes exactly the
exercises it added, except those the therapist changed since."""

import pytest
from django.urls import reverse

from clinic.models import AuditEntry
from prescriptions.models import ProgramTemplate, TemplateItem
from tests.factories import ExerciseFactory, PrescriptionFactory
from tests.prescriptions.test_builder import builder_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(clinic, exercises):
    """Three exercises: one the draft below already has (the bridge), two it lacks."""
    t = ProgramTemplate.objects.create(
        clinic=clinic, name="Knee, week 1", slug="knee-1", advice="Little and often."
    )
    squat = ExerciseFactory(name="Wall squat", hold_seconds=None, reps=8, side="none")
    calf = ExerciseFactory(name="Calf raise", hold_seconds=None, reps=15, side="none")
    for order, (exercise, reps) in enumerate(((squat, 10), (calf, 20), (exercises[2], 5))):
        TemplateItem.objects.create(
            template=t, exercise=exercise, order=order, reps=reps, note="Slowly" * (order == 0)
        )
    return t


@pytest.fixture
def plan(patient, alice, exercises):
    """A draft with one exercise (the bridge), its advice box empty."""
    from clinic.audit import Actor
    from prescriptions import services

    rx = PrescriptionFactory(patient=patient, therapist=alice, title="Knee")
    services.prescription_add_exercise(prescription=rx, exercise=exercises[2], actor=Actor(alice))
    return rx


def test_the_preview_lists_the_templates_exercises_and_doses(alice_client, plan, template):
    url = reverse("prescriptions:template_preview", args=[plan.pk])
    html = alice_client.get(url, {"template": template.pk}).content.decode()
    assert "“Knee, week 1”: 3 exercises" in html
    assert "Wall squat</span>: 10 repetitions" in html and "· Slowly" in html
    assert "Calf raise</span>: 20 repetitions" in html
    assert "(already in the plan, left as it is)" in html
    assert plan.items.count() == 1  # a preview adds nothing
    assert alice_client.get(url).content.decode().strip() == ""  # nothing chosen


def test_without_javascript_the_preview_button_shows_it_in_the_builder(
    alice_client, plan, template
):
    url = reverse("prescriptions:edit", args=[plan.pk])
    data = {**builder_data(plan), "preview_template": "", "template": template.pk}
    page = alice_client.post(url, data, follow=True).content.decode()
    assert "“Knee, week 1”: 3 exercises" in page
    assert f'<option value="{template.pk}" selected>' in page
    assert plan.items.count() == 1
    # Shown once: the next visit shows the box without it.
    assert "“Knee, week 1”: 3 exercises" not in alice_client.get(url).content.decode()


def test_other_clinics_templates_are_not_previewed(alice_client, plan, other_clinic, exercises):
    theirs = ProgramTemplate.objects.create(clinic=other_clinic, name="Theirs", slug="theirs")
    url = reverse("prescriptions:template_preview", args=[plan.pk])
    assert alice_client.get(url, {"template": theirs.pk}).status_code == 404
    assert alice_client.get(url, {"template": "x1"}).status_code == 404


def apply(client, rx, template, **changes):
    url = reverse("prescriptions:edit", args=[rx.pk])
    data = {**builder_data(rx, **changes), "apply_template": "", "template": template.pk}
    return client.post(url, data, follow=True).content.decode()


def undo(client, rx, **changes):
    url = reverse("prescriptions:edit", args=[rx.pk])
    data = {**builder_data(rx, **changes), "undo_template": "1"}
    return client.post(url, data, follow=True).content.decode()


def test_undo_removes_exactly_what_the_template_added(alice_client, plan, template):
    bridge = plan.items.get()
    page = apply(alice_client, plan, template)
    assert "Added 2 exercises from “Knee, week 1”." in page
    assert 'name="undo_template"' in page
    assert plan.items.count() == 3
    plan.refresh_from_db()
    assert plan.advice == "Little and often."
    page = undo(alice_client, plan)
    assert "Undone: removed 2 exercises of “Knee, week 1”." in page
    assert list(plan.items.values_list("pk", "order")) == [(bridge.pk, 0)]
    plan.refresh_from_db()
    assert plan.advice == ""  # the template's advice filled it; undo empties it again
    entry = AuditEntry.objects.filter(detail__contains="undone").get()
    assert entry.patient == plan.patient
    assert entry.detail == f"Draft: template {template.pk} undone (2 removed, 0 kept)"
    # Once only.
    assert "There is nothing to undo." in undo(alice_client, plan)


def test_undo_keeps_what_the_therapist_changed_since(alice_client, plan, template):
    apply(alice_client, plan, template)
    squat = plan.items.get(exercise__name="Wall squat")
    # Changed in the form, then "Undo" pressed: the form is saved first, the squat stays.
    index = list(plan.items.order_by("order")).index(squat)
    page = undo(alice_client, plan, **{f"items-{index}-reps": "6", "advice": "My own advice"})
    assert "removed 1 exercise of “Knee, week 1”." in page
    assert "Kept because you changed them since: Wall squat." in page
    assert sorted(plan.items.values_list("exercise__name", flat=True)) == [
        "Glute bridge",
        "Wall squat",
    ]
    plan.refresh_from_db()
    assert plan.advice == "My own advice"


def test_undo_is_only_for_the_plan_it_was_offered_on(alice_client, plan, template, patient, alice):
    other = PrescriptionFactory(patient=patient, therapist=alice)
    apply(alice_client, plan, template)
    assert "There is nothing to undo." in undo(alice_client, other)
    assert plan.items.count() == 3
