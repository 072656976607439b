"""Illustrations v2: the body-shaped figure, its start and end, the moving picture, hands
and the mirrored drawing of the other side."""

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from exercises.figure import KEYS, skeleton
from exercises.illustrations import (
    HAND_SHAPES,
    load_poses,
    render_animation,
    render_frame,
    render_svg,
    validate_pose,
)

LIBRARY = Path(__file__).resolve().parents[2] / "exercises" / "library" / "exercises.json"
EXERCISES = {e["slug"]: e for e in json.loads(LIBRARY.read_text(encoding="utf-8"))}
POSES = load_poses()
SVG = "{http://www.w3.org/2000/svg}"


def _box(svg: str) -> list[float]:
    return [float(v) for v in ET.fromstring(svg).get("viewBox").split()]


def _joint(pose: dict, frame: int, side: str, name: str):
    joints = pose["joints"]
    if frame == 0:
        ghost = pose.get("ghost", {})
        if side:
            return ghost.get(side, {}).get(name, joints[side][name])
        return ghost.get(name, joints[name])
    return joints[side][name] if side else joints[name]


@pytest.mark.parametrize("slug", sorted(POSES))
def test_the_bone_tree_puts_every_joint_where_the_pose_says(slug):
    """The nested groups the moving picture turns reproduce the pose's joints at its start
    and its end (a joint drifts only where the pose itself changes a limb's length)."""
    pose = POSES[slug]
    skel = skeleton(pose)
    bones = {b.name: b for b in skel.bones}
    for frame in (0, 1):
        placed = skel.at(float(frame))
        for name, (side, joint) in {
            "nearsh": ("near", "knee"),
            "nearft": ("near", "ankle"),
            "farfa": ("far", "elbow"),
            "nearhd": ("near", "wrist"),
        }.items():
            (x, y), _angle, _length = placed[name]
            drift = sum(
                abs(b.length(0) - b.length(1)) for b in _chain(bones[name]) if b is not bones[name]
            )
            assert math.dist((x, y), _joint(pose, frame, side, joint)) <= drift + 0.5, (
                slug,
                frame,
                name,
            )


def _chain(bone):
    while bone is not None:
        yield bone
        bone = bone.parent


@pytest.mark.parametrize("slug", sorted(POSES))
def test_every_exercise_that_moves_shows_its_start_and_end(slug):
    """A start position (drawn dashed, and the moving picture's first frame) and an arrow,
    unless the pose says nothing moves."""
    pose = POSES[slug]
    if pose.get("still"):
        assert "ghost" not in pose
        return
    assert pose.get("ghost"), f"{slug}: no start position"
    assert pose.get("arrows"), f"{slug}: no arrow along the movement"
    assert any(b.moved() for b in skeleton(pose).bones), f"{slug}: the start equals the end"


def test_every_bundled_exercise_has_two_poses():
    """Even a hold shows how to get into it (a plank from lying on the forearms, a balance
    from both feet down): "still" is for a clinic's own drawings, none of the bundled."""
    assert [slug for slug, pose in POSES.items() if pose.get("still")] == []


@pytest.mark.parametrize("slug", sorted(POSES))
def test_a_one_sided_exercise_names_the_side_it_draws(slug):
    """So a program for the other side can show the drawing mirrored."""
    if EXERCISES[slug]["dose"].get("side", "none") in ("each", "left", "right"):
        assert POSES[slug].get("side") in ("left", "right"), slug


def test_the_moving_picture_is_the_still_one_with_keyframes():
    pose = POSES["glute-bridge"]
    still, moving = (
        render_svg(pose, title="Glute bridge"),
        render_animation(pose, title="Glute bridge"),
    )
    assert _box(still) == _box(moving)  # swapping one for the other never jumps
    assert "<style>" not in still and "@keyframes" not in still
    style = ET.fromstring(moving).find(f"{SVG}style").text
    assert style.startswith("@media (prefers-reduced-motion:no-preference){")
    names = re.findall(r"@keyframes ([\w-]+)\{", style)
    assert names and all(f".{name}{{animation:{name} 4s ease-in-out" in style for name in names)
    # Each moving group runs between its start and end: start, hold, end, hold, start.
    for name in names:
        frames = re.search(rf"@keyframes {name}\{{(.*?)\}}\}}", style).group(1)
        assert [f"{a}%" if a == b else f"{a}%,{b}%" for a, b, _p in KEYS] == re.findall(
            r"(\d+%(?:,\d+%)?)\{", frames
        )
    # The dashed start is hidden while the figure moves, and shown when it does not.
    assert re.search(r"\.hep-\w+-ghost\{display:none\}", style)
    body = moving.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for forbidden in ("href", "<image", "url(", "<script", "http", "@import", "<text"):
        assert forbidden not in body, forbidden


def test_a_still_pose_does_not_move():
    pose = {**POSES["glute-bridge"], "still": True}
    del pose["ghost"]
    assert "<style>" not in render_animation(pose, title="Still")


def test_the_frame_strip_runs_from_start_to_end():
    pose = POSES["glute-bridge"]
    frames = [render_frame(pose, title="Bridge", progress=p) for p in (0, 0.5, 1)]
    assert len(set(frames)) == 3
    assert all(_box(frame) == _box(frames[0]) for frame in frames)
    hip = skeleton(pose).at(0.5)["lt"][0]
    start, end = pose["ghost"]["hip"], pose["joints"]["hip"]
    assert min(start[1], end[1]) < hip[1] < max(start[1], end[1])  # halfway up


@pytest.mark.parametrize("shape", HAND_SHAPES)
def test_each_hand_shape_draws_its_own_fingers(shape):
    def drawn(shape):
        pose = {**POSES["band-row"], "hands": {"near": shape}}
        assert validate_pose(pose) == []
        return render_svg(pose, title="Hands")

    others = {drawn(other) for other in HAND_SHAPES if other != shape and other != "grip"}
    if shape != "grip":  # a grip is drawn as a fist round what it holds
        assert drawn(shape) not in others


def test_unknown_hand_shape_and_side_are_named():
    pose = {**POSES["band-row"], "hands": {"near": "claw", "middle": "fist"}, "side": "up"}
    problems = validate_pose(pose)
    assert "hands.near must be one of " + ", ".join(HAND_SHAPES) in problems
    assert "hands has unknown side 'middle'" in problems
    assert any(p.startswith("side (the working side") for p in problems)
    still_with_start = {**POSES["glute-bridge"], "still": True}
    assert "a still pose (nothing moves) has no ghost (start position)" in validate_pose(
        still_with_start
    )


def test_the_contact_sheet_draws_each_still_and_its_frame_strip(tmp_path, monkeypatch):
    from django.core.management import CommandError, call_command

    from tests.helpers import drawings_flipped, pdf_text

    out = tmp_path / "sheet.pdf"
    poses = load_poses()
    plank = {k: v for k, v in poses["plank"].items() if k != "ghost"}
    monkeypatch.setattr(
        "exercises.management.commands.illustration_sheet.load_poses",
        lambda: {**poses, "plank": {**plank, "still": True}},
    )
    call_command("illustration_sheet", out=out, slugs="glute-bridge,plank", verbosity=0)
    pdf = out.read_bytes()
    text = pdf_text(pdf)
    assert "Glute bridge" in text and "glute-bridge" in text
    assert "Still: nothing moves." in text  # a plank drawn still: no frame strip
    # Seven drawings, in vector: the bridge's still and five frames, the plank's still.
    assert len(drawings_flipped(pdf)) == 7
    with pytest.raises(CommandError, match="No pose for: no-such-exercise"):
        call_command("illustration_sheet", out=out, slugs="no-such-exercise")


def test_a_hand_that_changes_shape_switches_halfway_and_the_still_shows_the_end():
    """Tendon glides, a forearm turning palm down to palm up: the moving picture shows the
    start shape, then the end shape; still and reduced-motion show the end shape only
    (the start shape is hidden unless its animation runs) over the dashed start."""
    pose = {**POSES["band-row"], "hands": {"near": "fist"}}
    pose["ghost"] = {**pose["ghost"], "hands": {"near": "flat"}}
    moving = ET.fromstring(render_animation(pose, title="Glide"))
    groups = {g.get("class"): g for g in moving.iter(f"{SVG}g") if g.get("class")}
    start = [g for name, g in groups.items() if name.endswith("nearhd-0")]
    end = [g for name, g in groups.items() if name.endswith("nearhd-1")]
    assert start and end and all(g.get("visibility") == "hidden" for g in start)
    assert all(g.get("visibility") is None for g in end)
    style = moving.find(f"{SVG}style").text
    assert "33%,84%{visibility:visible}" in style
    # Only a hand shape changes: that alone is a movement with a dashed start.
    only_hands = {
        **POSES["band-row"],
        "hands": {"near": "fist"},
        "ghost": {"hands": {"near": "palm"}},
    }
    assert any(b.moved() for b in skeleton(only_hands).bones)
    assert "stroke-dasharray" in render_svg(only_hands, title="Turn")


def test_an_open_hand_shows_its_palm_creases_or_its_knuckles():
    def details(shape):
        pose = {**POSES["band-row"], "hands": {"near": shape}}
        pose["ghost"] = {**pose["ghost"], "hands": {"near": shape}}
        root = ET.fromstring(render_svg(pose, title="Hand"))
        return [e for e in root.iter(f"{SVG}path") if e.get("stroke-width") == "1.6"]

    palm, back, flat = details("palm"), details("back"), details("flat")
    assert len(palm) == 2 and all("Q" in e.get("d") for e in palm)  # two creases
    assert len(back) == 4 and all(e.get("d").endswith("h0.1") for e in back)  # knuckles
    assert flat == []


def test_a_limb_that_changes_length_is_stretched_not_left_behind():
    """A limb turning towards the viewer is shorter at one end of the movement: the moving
    drawing stretches its shape with the joint, and each frame draws it at its length."""
    pose = {**POSES["glute-bridge"]}
    pose["ghost"] = {**pose["ghost"], "near": {**pose["ghost"]["near"], "elbow": [180.0, 251.2]}}
    skel = skeleton(pose)
    upper = next(b for b in skel.bones if b.name == "nearua")
    assert abs(upper.length(0) - upper.length(1)) > 10
    style = ET.fromstring(render_animation(pose, title="B")).find(f"{SVG}style").text
    stretch = re.search(
        r"@keyframes (hep-\w+-nearua-len)\{0%,15%\{transform:scaleX\(([\d.]+)\)", style
    )
    assert stretch and float(stretch.group(2)) == pytest.approx(
        upper.length(0) / upper.length(1), abs=0.002
    )
    # The first frame's upper arm ends at the start elbow: its far corners lie half the
    # limb's width from it (drawn at its end length they would lie far from it).
    start = ET.fromstring(render_frame(pose, title="B", progress=0))
    elbow = pose["ghost"]["near"]["elbow"]
    corners = [
        (float(x), float(y))
        for e in start.iter(f"{SVG}path")
        for x, y in re.findall(r"L(-?[\d.]+),(-?[\d.]+)", e.get("d", ""))
    ]
    half = 11.5 / 2  # the upper arm's width at the elbow
    assert min(abs(math.dist(c, elbow) - half) for c in corners) < 0.3
