import pytest

from prescriptions import services
from tests.factories import ExerciseFactory, PrescriptionFactory


@pytest.fixture
def exercises(db):
    psoas = ExerciseFactory(
        name="Standing psoas stretch",
        slug="psoas-stretch-standing",
        summary="A stretch for the front of the hip.",
        indications="tight hip flexors",
        steps=["Stand side-on to a wall.", "Step the outside leg back.", "Brace your tummy."],
        cues="Keep your back from arching.",
        cautions="Stop if you feel pinching.",
    )
    quads = ExerciseFactory(name="Standing quadriceps stretch", hold_seconds=30, reps=2)
    bridge = ExerciseFactory(
        name="Glute bridge",
        hold_seconds=None,
        reps=12,
        sets=3,
        side="none",
        times_per_day=1,
        days_per_week=4,
    )
    return [psoas, quads, bridge]


@pytest.fixture
def draft(patient, alice, exercises):
    rx = PrescriptionFactory(patient=patient, therapist=alice, title="Hips and back")
    for exercise in exercises:
        services.prescription_add_exercise(prescription=rx, exercise=exercise)
    return rx


@pytest.fixture
def issued(draft, alice):
    services.prescription_issue(prescription=draft, by=alice)
    draft.refresh_from_db()
    return draft
