"""The builder's "Easier version" / "Harder version" buttons: the item takes the linked
exercise and keeps its dose, side, note and place."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.audit import Actor
from clinic.models import AuditEntry
from prescriptions import services
from tests.factories import ExerciseFactory
from tests.prescriptions.test_builder import builder_data


@pytest.fixture
def bridges(exercises):
    """The draft's glute bridge has an easier and a harder version."""
    bridge = exercises[2]
    assert bridge.name == "Glute bridge"
    tilt = ExerciseFactory(name="Pelvic tilt")
    bridge.easier = tilt
    bridge.save()
    single = ExerciseFactory(name="Single-leg bridge", easier=bridge, hold_seconds=5, reps=12)
    return tilt, bridge, single


def test_harder_version_keeps_dose_side_note_and_place(alice_client, draft, bridges):
    tilt, bridge, single = bridges
    url = reverse("prescriptions:edit", args=[draft.pk])
    item = draft.items.get(exercise=bridge)
    page = alice_client.get(url).content.decode()
    assert f'value="{item.pk}:harder:{single.pk}"' in page
    assert 'Harder<span class="visually-hidden"> version (Single-leg bridge)</span>' in page
    assert f'value="{item.pk}:easier:{tilt.pk}"' in page
    data = builder_data(draft, **{"items-2-note": "Slowly", "items-2-reps": "7"})
    response = alice_client.post(url, {**data, "swap": f"{item.pk}:harder:{single.pk}"})
    assert response.status_code == 302
    kept = (item.hold_seconds, item.sets, item.side, item.times_per_day, item.days_per_week)
    item.refresh_from_db()
    assert (item.exercise, item.reps, item.note, item.order) == (single, 7, "Slowly", 2)
    assert (item.hold_seconds, item.sets, item.side, item.times_per_day, item.days_per_week) == kept
    assert [i.pk for i in draft.items.order_by("order")][2] == item.pk
    entry = AuditEntry.objects.filter(target=f"prescription {draft.pk}").latest("pk")
    assert (entry.action, entry.detail) == (
        "change",
        f"Draft: exercise {bridge.pk} made harder, swapped for exercise {single.pk}",
    )
    # And back down, by htmx: the plan is redrawn with the way back.
    response = alice_client.post(
        url,
        {**builder_data(draft), "swap": f"{item.pk}:easier:{bridge.pk}"},
        headers={"HX-Request": "true"},
    )
    item.refresh_from_db()
    assert item.exercise == bridge and item.note == "Slowly"
    assert f'value="{item.pk}:harder:{single.pk}"' in response.content.decode()


def test_an_exercise_not_linked_is_refused(alice_client, draft, bridges, exercises):
    tilt, bridge, single = bridges
    item = draft.items.get(exercise=exercises[0])
    with pytest.raises(ValidationError, match="no longer a version of"):
        services.prescription_item_swap(
            prescription=draft, item_pk=item.pk, exercise=single, actor=Actor(draft.therapist)
        )
    with pytest.raises(ValidationError, match="not in this plan"):
        services.prescription_item_swap(
            prescription=draft, item_pk="x", exercise=single, actor=Actor(draft.therapist)
        )
    item.refresh_from_db()
    assert item.exercise == exercises[0]


def test_issued_is_refused(issued, bridges):
    tilt, bridge, single = bridges
    item = issued.items.get(exercise=bridge)
    with pytest.raises(ValidationError, match="has been issued"):
        services.prescription_item_swap(
            prescription=issued, item_pk=item.pk, exercise=single, actor=Actor(issued.therapist)
        )
    item.refresh_from_db()
    assert item.exercise == bridge


def test_another_clinics_exercise_is_a_404(alice_client, draft, bridges, other_clinic):
    tilt, bridge, single = bridges
    theirs = ExerciseFactory(name="Their bridge", clinic=other_clinic)
    # Linked behind the model's back: the view's clinic-scoped lookup still refuses it.
    type(theirs).objects.filter(pk=theirs.pk).update(easier=bridge)
    item = draft.items.get(exercise=bridge)
    url = reverse("prescriptions:edit", args=[draft.pk])
    response = alice_client.post(
        url, {**builder_data(draft), "swap": f"{item.pk}:harder:{theirs.pk}"}
    )
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.exercise == bridge
    # And a button naming no exercise is a 404, not a 500.
    response = alice_client.post(url, {**builder_data(draft), "swap": f"{item.pk}:harder:"})
    assert response.status_code == 404


def test_the_plan_lists_versions_in_a_fixed_number_of_queries(
    alice_client, draft, bridges, django_assert_max_num_queries
):
    url = reverse("prescriptions:edit", args=[draft.pk])
    alice_client.get(url)
    with django_assert_max_num_queries(60) as few:
        alice_client.get(url)
    for exercise in draft.items.values_list("exercise", flat=True):
        ExerciseFactory(easier_id=exercise)
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice_client.get(url)


def test_make_it_harder_on_an_issued_program_takes_the_linked_version_first(issued, bridges):
    tilt, bridge, single = bridges
    # Same difficulty as the bridge: the older guess (a step up in difficulty) would skip it.
    assert single.difficulty == bridge.difficulty
    item = issued.items.get(exercise=bridge)
    adjusted = services.prescription_adjust_item(
        item=item, easier=False, actor=Actor(issued.therapist)
    )
    assert adjusted.item.exercise == single
    assert adjusted.draft.items.get(pk=adjusted.item.pk).exercise == single
