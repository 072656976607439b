"""The bundled exercise illustrations: one valid pose per exercise, safe standalone SVG."""

import io
import json
import math
import statistics
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from exercises.illustrations import POSES_PATH, load_poses, render_svg, validate_pose

LIBRARY = Path(__file__).resolve().parents[2] / "exercises" / "library" / "exercises.json"
EXERCISES = json.loads(LIBRARY.read_text(encoding="utf-8"))
POSES = load_poses()
SVG = "{http://www.w3.org/2000/svg}"

# Equipment an exercise offers as alternatives ("a wall, bench or chair back"): the
# drawing shows one of them, not all.
ALTERNATIVES = {
    "heel-raise": {"wall", "chair"},
    "grip-squeeze": {"massage-ball", "towel"},
}
# Equipment the setup makes optional ("loop a towel ... if you cannot reach", "on a table
# or your thigh"): the drawing shows the version without it.
OPTIONAL = {
    "quadriceps-stretch-standing": {"towel"},
    "wrist-extension-eccentric": {"table"},
}


def _minimal_pose() -> dict:
    side = {k: [100, 100] for k in ("shoulder", "elbow", "wrist", "knee", "ankle", "toe")}
    return {
        "alt": "A test figure.",
        "joints": {
            "head": [100, 50],
            "neck": [100, 70],
            "hip": [100, 140],
            "near": side,
            "far": dict(side),
        },
    }


def test_every_exercise_has_a_pose_and_every_pose_an_exercise():
    slugs = {e["slug"] for e in EXERCISES}
    assert set(POSES) == slugs
    assert len(POSES) == len(EXERCISES) >= 200
    assert POSES_PATH.name == "poses.json"


@pytest.mark.parametrize("slug", sorted(POSES))
def test_pose_validates(slug):
    assert validate_pose(POSES[slug]) == []


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e["slug"])
def test_rendered_svg_is_standalone_and_titled(exercise):
    svg = render_svg(POSES[exercise["slug"]], title=exercise["name"])
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    x, y, width, height = map(float, root.get("viewBox").split())
    assert min(x, y) >= 0 and x + width <= 400 and y + height <= 300
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == exercise["name"]
    assert root.get("aria-labelledby").split()[0] == title.get("id")
    assert root.find(f"{SVG}desc").text == POSES[exercise["slug"]]["alt"]
    # The namespace declaration is the one permitted URL; nothing else may point outside.
    body = svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for forbidden in ("href", "<image", "url(", "<script", "http", "@import", "<text"):
        assert forbidden not in body, forbidden


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e["slug"])
def test_drawing_shows_the_equipment(exercise):
    drawn = {prop["type"] for prop in POSES[exercise["slug"]].get("props", [])}
    needed = set(exercise["equipment"]) - {"none"} - OPTIONAL.get(exercise["slug"], set())
    alternatives = ALTERNATIVES.get(exercise["slug"])
    if alternatives:
        assert drawn & alternatives
        needed -= alternatives
    assert needed <= drawn


def test_slugs_leave_room_for_the_drawings_file_names():
    """A drawing is stored as exercises/<slug>/illustration-<hash>-moving.svg in a field
    of 100 characters: a longer slug would have its names cut, and a second
    load_library would no longer recognise them (and redraw every time)."""
    assert max(len(e["slug"]) for e in EXERCISES) <= 40


def test_alt_text_is_one_plain_sentence():
    for slug, pose in POSES.items():
        alt = pose["alt"]
        assert alt.endswith(".") and alt.count(". ") == 0, slug
        assert 30 < len(alt) < 240, slug


def _segments(pose):
    j = pose["joints"]
    yield "torso", j["neck"], j["hip"]
    for side in ("near", "far"):
        s = j[side]
        yield "upper arm", s["shoulder"], s["elbow"]
        yield "forearm", s["elbow"], s["wrist"]
        yield "thigh", s.get("hip", j["hip"]), s["knee"]
        yield "shin", s["knee"], s["ankle"]


def test_limb_lengths_are_consistent():
    """Foreshortening may shorten a segment; nothing may stretch past its usual length."""
    lengths = {}
    for pose in POSES.values():
        for kind, a, b in _segments(pose):
            lengths.setdefault(kind, []).append(math.dist(a, b))
    usual = {kind: statistics.median(values) for kind, values in lengths.items()}
    assert usual["upper arm"] == pytest.approx(usual["forearm"], rel=0.15)
    assert usual["thigh"] == pytest.approx(usual["shin"], rel=0.15)
    for slug, pose in POSES.items():
        for kind, a, b in _segments(pose):
            assert math.dist(a, b) <= usual[kind] * 1.1, (slug, kind)
        torso = math.dist(pose["joints"]["neck"], pose["joints"]["hip"])
        assert torso == pytest.approx(usual["torso"], rel=0.1), slug


def test_title_is_escaped():
    svg = render_svg(_minimal_pose(), title='<script>&"')
    assert "<script>" not in svg
    assert "&lt;script&gt;&amp;&quot;" in svg
    assert ET.fromstring(svg).find(f"{SVG}title").text == '<script>&"'


def test_alt_text_is_escaped():
    pose = {**_minimal_pose(), "alt": "Knees <bent> & feet flat."}
    root = ET.fromstring(render_svg(pose, title="T"))
    assert root.find(f"{SVG}desc").text == "Knees <bent> & feet flat."


def test_missing_joint_is_named():
    pose = _minimal_pose()
    del pose["joints"]["near"]["elbow"]
    assert validate_pose(pose) == ["missing joint joints.near.elbow"]
    with pytest.raises(ValueError, match=r"missing joint joints\.near\.elbow"):
        render_svg(pose, title="T")


def test_missing_joint_group_is_named():
    pose = _minimal_pose()
    del pose["joints"]["far"]
    with pytest.raises(ValueError, match=r"joints\.far"):
        render_svg(pose, title="T")


def test_out_of_box_coordinate_is_named():
    pose = _minimal_pose()
    pose["joints"]["head"] = [100, -5]
    with pytest.raises(ValueError, match=r"joints\.head \[100, -5\] is outside the 400x300 box"):
        render_svg(pose, title="T")


def test_out_of_box_prop_and_arrow_are_named():
    pose = {
        **_minimal_pose(),
        "props": [{"type": "massage-ball", "at": [420, 10]}],
        "arrows": [{"from": [10, 10], "to": [10, 301]}],
    }
    problems = validate_pose(pose)
    assert any("props[0].at" in p and "outside" in p for p in problems)
    assert any("arrows[0].to" in p and "outside" in p for p in problems)


def test_unknown_prop_type_is_named():
    pose = {**_minimal_pose(), "props": [{"type": "trampoline", "x": 10}]}
    with pytest.raises(ValueError, match="unknown prop type 'trampoline'"):
        render_svg(pose, title="T")


def test_prop_missing_field_and_unknown_key_are_named():
    pose = {**_minimal_pose(), "props": [{"type": "chair", "x": 10, "colour": "red"}]}
    problems = validate_pose(pose)
    assert "props[0] (chair) is missing 'y'" in problems
    assert "props[0] (chair) has unknown field 'colour'" in problems


def test_non_numeric_coordinate_and_missing_alt_are_named():
    pose = _minimal_pose()
    pose["joints"]["hip"] = ["a", 1]
    pose["alt"] = ""
    problems = validate_pose(pose)
    assert "joints.hip must be an [x, y] pair of numbers" in problems
    assert "alt text is missing" in problems


def test_not_a_pose():
    assert validate_pose(None) == ["pose must be an object"]
    with pytest.raises(ValueError):
        render_svg([], title="T")


def test_ids_differ_between_drawings():
    ids = {
        ET.fromstring(render_svg(POSES[e["slug"]], title=e["name"])).find(f"{SVG}title").get("id")
        for e in EXERCISES
    }
    assert len(ids) == len(EXERCISES)


def _aspect(svg: str) -> float:
    _x, _y, width, height = map(float, ET.fromstring(svg).get("viewBox").split())
    return width / height


def test_drawing_is_cropped_to_what_it_shows():
    """A lying figure comes out wide and a standing one tall, so a handout can print each at
    a usable size instead of a small figure in an empty 4:3 box."""
    lying = render_svg(POSES["glute-bridge"], title="Glute bridge")
    standing = render_svg(POSES["wall-sit"], title="Wall sit")
    assert _aspect(lying) > 2.5
    assert _aspect(standing) < 1
    # The floor runs only a little past the drawing, not across the old 400-unit box.
    x, _y, width, _h = map(float, ET.fromstring(standing).get("viewBox").split())
    floor = next(
        line
        for line in ET.fromstring(standing).iter(f"{SVG}polyline")
        if line.get("stroke-width") == "3"
    )
    xs = [float(p.split(",")[0]) for p in floor.get("points").split()]
    assert x <= min(xs) and max(xs) <= x + width < 400


def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("slug", ["band-row", "cat-cow", "glute-bridge"])
def test_one_convention_that_survives_a_grey_scale_printer(slug):
    """The body and near limbs are a light fill, the far-side limbs a darker tone of the same
    colour, both inside a dark outline; the start position is a dashed mid-grey outline, and
    nothing else is dashed or uses those tones. No transparency: it prints as faint dots."""
    from exercises.figure import FAR_FILL, GHOST_INK, INK, NEAR_FILL

    root = ET.fromstring(render_svg(POSES[slug], title=slug))
    elements = list(root.iter())
    for element in elements:
        assert element.get("opacity") is None and element.get("fill-opacity") is None
    fills = {e.get("fill") for e in elements}
    assert {NEAR_FILL, FAR_FILL} <= fills, "a side view has near and far limbs"
    assert _luminance(NEAR_FILL) - _luminance(FAR_FILL) > 0.2
    assert 0.35 < _luminance(FAR_FILL) < 0.65 and _luminance(INK) < 0.25
    dashed = [e for e in elements if e.get("stroke-dasharray")]
    assert dashed and {e.get("stroke") for e in dashed} == {GHOST_INK}
    assert 0.2 < _luminance(GHOST_INK) < 0.5
    # No hairlines: no stroke under 1.5 units (about 0.3 mm at the smallest printed size).
    for element in elements:
        if element.get("stroke") not in (None, "none") and element.get("stroke-width"):
            assert float(element.get("stroke-width")) >= 1.5


def test_picture_aspect_reads_drawings_and_photos(tmp_path):
    from django.core.files.storage import FileSystemStorage
    from PIL import Image

    from exercises.illustrations import picture_aspect

    storage = FileSystemStorage(location=tmp_path)
    storage.save("lying.svg", io.BytesIO(render_svg(POSES["plank"], title="Plank").encode()))
    photo = io.BytesIO()
    Image.new("RGB", (300, 400)).save(photo, format="PNG")
    storage.save("photo.png", photo)

    class Picture:
        def __init__(self, name):
            self.name, self.storage = name, storage

    assert picture_aspect(Picture("lying.svg")) == pytest.approx(
        _aspect(render_svg(POSES["plank"], title="Plank")), abs=0.001
    )
    assert picture_aspect(Picture("photo.png")) == 0.75
    assert picture_aspect(Picture("missing.png")) is None
    assert picture_aspect(Picture("../../etc/passwd")) is None
