"""The builder's "Recently used": a therapist's last distinct exercises, from their own
programs of their clinic, in one query."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.audit import Actor
from prescriptions import services
from prescriptions.selectors import recently_used
from tests.factories import ExerciseFactory, PatientFactory, PrescriptionFactory


def add(rx, *exercises):
    for exercise in exercises:
        services.prescription_add_exercise(
            prescription=rx, exercise=exercise, actor=Actor(rx.therapist)
        )


def test_the_last_distinct_exercises_latest_first(alice, patient):
    one, two, three = (ExerciseFactory(name=n) for n in ("One", "Two", "Three"))
    add(PrescriptionFactory(patient=patient, therapist=alice), one, two)
    add(PrescriptionFactory(patient=patient, therapist=alice), three, one)
    with CaptureQueriesContext(connection) as queries:
        names = [e.name for e in recently_used(user=alice)]
    assert names == ["One", "Three", "Two"]
    assert len(queries) == 1
    assert [e.name for e in recently_used(user=alice, limit=2)] == ["One", "Three"]


def test_only_their_own_programs_and_what_can_still_be_prescribed(
    alice, bob, charlie, patient, clinic, other_clinic
):
    mine, colleagues, retired = (ExerciseFactory(name=n) for n in ("Mine", "Bob's", "Retired"))
    add(PrescriptionFactory(patient=patient, therapist=alice), mine, retired)
    retired.status = "retired"
    retired.save()
    add(PrescriptionFactory(patient=patient, therapist=bob), colleagues)
    theirs = ExerciseFactory(name="Theirs", clinic=other_clinic)
    add(PrescriptionFactory(patient=PatientFactory(clinic=other_clinic), therapist=charlie), theirs)
    assert [e.name for e in recently_used(user=alice)] == ["Mine"]
    assert [e.name for e in recently_used(user=charlie)] == ["Theirs"]


def test_the_builder_shows_the_row_until_a_search_is_typed(alice_client, draft):
    url = f"/prescriptions/{draft.pk}/edit/"
    page = alice_client.get(url).content.decode()
    assert "Recently used" in page
    # The draft's own exercises are among them, marked as in the plan.
    recent = page.split('id="recent-heading"')[1].split("</section>")[0]
    assert "Standing psoas stretch" in recent and "In plan, add again:" in recent
    page = alice_client.get(url, {"q": "bridge"}).content.decode()
    assert "Recently used" not in page
