"""A drawing of one side, for a program of the other side, is mirrored: on the handout
(the PDF read back) and in the snapshot the patient's page shows."""

import io

import pytest
from django.core.files.base import ContentFile
from pypdf import PdfReader
from pypdf.generic import ContentStream

from exercises.illustrations import load_poses, render_animation, render_svg
from exercises.models import ExerciseImage
from prescriptions import handouts
from prescriptions.selectors import get_prescription_for, handout_snapshot


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


def _mirrored_images(pdf: bytes) -> list[bool]:
    """For each drawing on the first page (WeasyPrint draws an SVG inline, starting with
    its white background, a filled rectangle of the whole viewBox): is it drawn flipped
    left to right?"""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    operations = ContentStream(page.get_contents(), page.pdf).operations
    flips, stack, matrix, fill = [], [], [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], None

    def times(m, n):
        a, b, c, d, e, f = m
        p, q, r, s, t, u = n
        return [a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
                e * p + f * r + t, e * q + f * s + u]  # fmt: skip

    for index, (operands, operator) in enumerate(operations):
        if operator == b"q":
            stack.append(matrix)
        elif operator == b"Q":
            matrix = stack.pop()
        elif operator == b"cm":
            matrix = times([float(v) for v in operands], matrix)
        elif operator == b"rg":
            fill = [float(v) for v in operands]
        elif (
            operator == b"re"
            and operations[index + 1][1] == b"f"
            and fill == [1, 1, 1]
            and float(operands[2]) > 100  # a drawing's background, not a tick box
        ):
            flips.append(matrix[0] < 0)
    return flips


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
    flips = _mirrored_images(handouts.pdf_from_html(html))
    assert flips and flips[0] is mirrored
