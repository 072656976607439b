"""A drawing of one side, for a program of the other side, is mirrored: on the handout
(the PDF read back) and in the snapshot the patient's page shows."""

import pytest
from django.core.files.base import ContentFile

from exercises.illustrations import load_poses, render_animation, render_svg
from exercises.models import ExerciseImage
from prescriptions import handouts
from prescriptions.selectors import get_prescription_for, handout_snapshot
from tests.helpers import drawings_flipped


@pytest.fixture
def drawn(exercises):
    """The psoas stretch with its bundled drawing, which shows the right side working."""
    psoas = exercises[0]
    pose = {**load_poses()["glute-bridge"], "side": "right"}
    image = ExerciseImage(exercise=psoas, alt_text=pose["alt"], is_main=True, side="right")
    image.image.save("drawn.svg", ContentFile(render_svg(pose, title="P").encode()), save=False)
    image.animation.save(
        "drawn-moving.svg", ContentFile(render_animation(pose, title="P").encode()), save=False
    )
    image.save()
    return psoas


@pytest.mark.parametrize(
    ("side", "mirrored"), [("left", True), ("right", False), ("each", False), ("none", False)]
)
def test_the_drawing_shows_the_side_the_patient_works(drawn, draft, side, mirrored):
    item = draft.items.get(exercise=drawn)
    item.side = side
    item.save()
    snapshot = handout_snapshot(get_prescription_for(draft.therapist, draft.pk))
    card = next(i for i in snapshot["items"] if i["exercise_id"] == drawn.pk)
    assert card["image"]["mirror"] is mirrored
    assert card["image"]["animation"].endswith("drawn-moving.svg")
    html = handouts.render_html(snapshot, draft=True)
    assert ("mirrored" in html) is mirrored
    flips = drawings_flipped(handouts.pdf_from_html(html))
    assert flips and flips[0] is mirrored
