"""Original line-drawing illustrations for the bundled exercise library.

Each exercise has a small *pose* in ``library/poses.json``: where a stick
figure's joints are in a 400x300 box, which simple props stand around it and
which way it moves. :func:`render_svg` turns one pose into a standalone SVG
document drawn only from lines, circles and rectangles written here, so the
output never references fonts, images, scripts or URLs (handouts are rendered
offline by WeasyPrint) and prints cleanly in black and white.

Pose format (all coordinates are ``[x, y]`` in the viewBox, y grows downwards)::

    {"alt": "One sentence saying what the picture shows.",
     "view": "side",                  # or "front": both sides drawn in full ink
     "floor": 262,                    # y of the floor line; optional
     "face": 0,                       # optional: angle (degrees) the nose points
     "spine_bend": 0.0,               # optional: bows the torso; + bulges to the
                                      # right of the neck->hip direction
     "joints": {"head": .., "neck": .., "hip": ..,
                "near": {"shoulder", "elbow", "wrist", "knee", "ankle", "toe",
                         optional "hand" (fingertips, for wrist exercises) and
                         "hip" (a per-side hip draws a pelvis, for front views)},
                "far": {...same keys...}},
     "ghost": {...any subset of "joints", plus "spine_bend"...},  # faint start position
     "props": [{"type": "chair", "x": .., "y": ..}, ...],       # see PROPS below
     "arrows": [{"from": .., "to": .., "bend": 0.3, "both": false}]}
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from exercises.figure import INK, extent, figure, skeleton  # INK: figure, floor and props

POSES_PATH = Path(__file__).resolve().parent / "library" / "poses.json"

WIDTH, HEIGHT = 400, 300
ACCENT = "#0f5e6e"  # arrows and resistance bands
PROP_FILL = "#eef3f6"  # a faint fill keeps outlined props readable behind limbs

CORE_JOINTS = ("head", "neck", "hip")
SIDE_JOINTS = ("shoulder", "elbow", "wrist", "knee", "ankle", "toe")
SIDE_OPTIONAL = ("hand", "hip")
TOP_KEYS = {
    "alt", "view", "floor", "face", "spine_bend", "joints", "ghost", "props", "arrows", "side",
    "hands", "still", "crop",
}  # fmt: skip
VIEWS = ("side", "front", "top")
# How a hand is drawn (docs/library.md): fingers straight in line with the hand, a fist,
# the three tendon-glide shapes, or an open hand seen palm-on or back-on.
HAND_SHAPES = ("flat", "fist", "hook", "tabletop", "straight-fist", "palm", "back", "grip")

# Prop type -> (required fields, optional fields); each field names its kind.
# Types match the equipment slugs in exercises.json so tests can cross-check them.
PROPS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "wall": ({"x": "x"}, {"side": ("left", "right", "back"), "top": "y", "width": "len"}),
    "doorway": ({"x": "x"}, {"top": "y"}),
    "chair": ({"x": "x", "y": "y"}, {"facing": ("left", "right", "front"), "back": "bool"}),
    "step": ({"x": "x", "width": "len", "height": "len"}, {}),
    "table": ({"x": "x", "y": "y", "width": "len"}, {}),
    "mat": ({"x": "x", "width": "len"}, {"y": "y", "depth": "len"}),
    "resistance-band": ({"from": "point", "to": "point"}, {"anchor": "bool"}),
    "towel": ({}, {"from": "point", "to": "point", "at": "point", "w": "len", "h": "len"}),
    "massage-ball": ({"at": "point"}, {"r": "len"}),
    "foam-roller": ({"at": "point"}, {"r": "len"}),
    "pillow": ({"at": "point"}, {"w": "len", "h": "len"}),
    "peanut-ball": ({"at": "point"}, {"r": "len", "angle": "number"}),
    "dumbbell": ({"at": "point"}, {"angle": "number"}),
}
# Things the body rests on or stands beside go behind the figure; things held
# or wrapped around it go in front. A prop's "layer" key overrides this.
FRONT_PROPS = {"resistance-band", "towel", "massage-ball", "peanut-ball", "dumbbell"}


_ASPECTS: dict[tuple[str, str], float | None] = {}
_VIEWBOX = re.compile(rb'viewBox="\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)\s*"')


def picture_aspect(picture) -> float | None:
    """Width over height of a stored picture (an SVG's viewBox, a photo's pixels), or None
    if it cannot be read. ``picture`` is an image field's file. The answer is kept per
    stored name, since storage never reuses a name for other content: a handout of ten
    exercises does not fetch ten files from object storage on every draft preview."""
    key = (str(getattr(picture.storage, "location", "")), picture.name or "")
    if key not in _ASPECTS:
        if len(_ASPECTS) > 20_000:  # a bound, far above any library's pictures
            _ASPECTS.clear()
        _ASPECTS[key] = _read_aspect(picture)
    return _ASPECTS[key]


def _read_aspect(picture) -> float | None:
    from PIL import Image

    try:
        with picture.storage.open(picture.name, "rb") as handle:
            if picture.name.lower().endswith(".svg"):
                found = _VIEWBOX.search(handle.read(4096))
                width, height = (float(v) for v in found.groups()) if found else (0, 0)
            else:
                with Image.open(handle) as image:  # reads the header only
                    width, height = image.size
    except Exception:  # noqa: BLE001 - a missing, hostile or odd file: print a plain card
        return None
    return round(width / height, 3) if width > 0 and height > 0 else None


def load_poses(path: Path = POSES_PATH) -> dict[str, dict]:
    return json.loads(path.read_text(encoding="utf-8"))


# --- validation -----------------------------------------------------------


def _is_num(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_point(value, where: str, problems: list[str]) -> None:
    if not (isinstance(value, list | tuple) and len(value) == 2 and all(map(_is_num, value))):
        problems.append(f"{where} must be an [x, y] pair of numbers")
    elif not (0 <= value[0] <= WIDTH and 0 <= value[1] <= HEIGHT):
        problems.append(f"{where} {list(value)} is outside the {WIDTH}x{HEIGHT} box")


def _check_field(value, kind, where: str, problems: list[str]) -> None:
    if kind == "point":
        _check_point(value, where, problems)
    elif isinstance(kind, tuple):
        if value not in kind:
            problems.append(f"{where} must be one of {', '.join(kind)}")
    elif kind == "bool":
        if not isinstance(value, bool):
            problems.append(f"{where} must be true or false")
    elif not _is_num(value):
        problems.append(f"{where} must be a number")
    else:
        limit = {"x": WIDTH, "y": HEIGHT, "len": WIDTH}.get(kind)
        low = 1 if kind == "len" else 0
        if limit is not None and not low <= value <= limit:
            problems.append(f"{where} {value} is outside the {WIDTH}x{HEIGHT} box")


def _check_joints(joints, where: str, problems: list[str], *, partial: bool) -> None:
    if not isinstance(joints, dict):
        problems.append(f"{where} must be an object")
        return
    for key in CORE_JOINTS:
        if key in joints:
            _check_point(joints[key], f"{where}.{key}", problems)
        elif not partial:
            problems.append(f"missing joint {where}.{key}")
    for side in ("near", "far"):
        limbs = joints.get(side, {} if partial else None)
        if not isinstance(limbs, dict):
            problems.append(f"missing joint group {where}.{side}")
            continue
        for key in SIDE_JOINTS + SIDE_OPTIONAL:
            if key in limbs:
                _check_point(limbs[key], f"{where}.{side}.{key}", problems)
            elif key in SIDE_JOINTS and not partial:
                problems.append(f"missing joint {where}.{side}.{key}")
        for key in sorted(set(limbs) - set(SIDE_JOINTS) - set(SIDE_OPTIONAL)):
            problems.append(f"unknown joint {where}.{side}.{key}")
    if partial and not _is_num(joints.get("spine_bend", 0)):
        problems.append(f"{where}.spine_bend must be a number")
    allowed = {*CORE_JOINTS, "near", "far", *(["spine_bend", "hands", "face"] if partial else [])}
    if partial and not _is_num(joints.get("face", 0)):
        problems.append(f"{where}.face must be a number")
    extra = set(joints) - allowed
    for key in sorted(extra):
        problems.append(f"unknown joint {where}.{key}")


def validate_pose(pose) -> list[str]:
    """Return human-readable problems with ``pose``; an empty list means it can be drawn."""
    if not isinstance(pose, dict):
        return ["pose must be an object"]
    problems: list[str] = []
    for key in sorted(set(pose) - TOP_KEYS):
        problems.append(f"unknown pose key {key!r}")
    if not isinstance(pose.get("alt"), str) or not pose["alt"].strip():
        problems.append("alt text is missing")
    if pose.get("view", "side") not in VIEWS:
        problems.append("view must be one of " + ", ".join(VIEWS))
    crop = pose.get("crop", [0, 0, WIDTH, HEIGHT])
    if not (isinstance(crop, list) and len(crop) == 4 and all(map(_is_num, crop))):
        problems.append("crop must be [x0, y0, x1, y1]: the part of the box a close-up shows")
    elif not (
        0 <= crop[0] < crop[2] - 40 <= WIDTH - 40 and 0 <= crop[1] < crop[3] - 30 <= HEIGHT - 30
    ):
        problems.append(f"crop {crop} must lie in the {WIDTH}x{HEIGHT} box, at least 40 by 30")
    if not isinstance(pose.get("still", False), bool):
        problems.append("still must be true or false")
    if pose.get("still") and "ghost" in pose:
        problems.append("a still pose (nothing moves) has no ghost (start position)")
    if pose.get("side", "left") not in ("left", "right"):
        problems.append("side (the working side the drawing shows) must be 'left' or 'right'")
    for where, hands in (("hands", pose.get("hands", {})), ("ghost.hands", None)):
        if where == "ghost.hands":
            ghost = pose.get("ghost")
            hands = ghost.get("hands", {}) if isinstance(ghost, dict) else {}
        if not isinstance(hands, dict):
            problems.append(f"{where} must be an object")
            continue
        for side, shape in hands.items():
            if side not in ("near", "far"):
                problems.append(f"{where} has unknown side {side!r}")
            elif shape not in HAND_SHAPES:
                problems.append(f"{where}.{side} must be one of {', '.join(HAND_SHAPES)}")
    if "floor" in pose:
        _check_field(pose["floor"], "y", "floor", problems)
    for key in ("face", "spine_bend"):
        if key in pose and not _is_num(pose[key]):
            problems.append(f"{key} must be a number")
    _check_joints(pose.get("joints"), "joints", problems, partial=False)
    if "ghost" in pose:
        _check_joints(pose["ghost"], "ghost", problems, partial=True)
    for key in ("props", "arrows"):
        if not isinstance(pose.get(key, []), list):
            problems.append(f"{key} must be a list")
            return problems
    for i, prop in enumerate(pose.get("props", [])):
        where = f"props[{i}]"
        kind = prop.get("type") if isinstance(prop, dict) else None
        if kind not in PROPS:
            problems.append(f"{where} has unknown prop type {kind!r}")
            continue
        required, optional = PROPS[kind]
        fields = {**required, **optional, "layer": ("back", "front")}
        problems += [f"{where} ({kind}) is missing {key!r}" for key in required if key not in prop]
        for key, value in prop.items():
            if key in fields:
                _check_field(value, fields[key], f"{where}.{key}", problems)
            elif key != "type":
                problems.append(f"{where} ({kind}) has unknown field {key!r}")
        if kind == "towel" and "at" not in prop and not {"from", "to"} <= set(prop):
            problems.append(f"{where} (towel) needs 'at' (a pad) or 'from' and 'to' (a strap)")
    for i, arrow in enumerate(pose.get("arrows", [])):
        if not isinstance(arrow, dict):
            problems.append(f"arrows[{i}] must be an object")
            continue
        for key in ("from", "to"):
            _check_point(arrow.get(key), f"arrows[{i}].{key}", problems)
        if not _is_num(arrow.get("bend", 0)):
            problems.append(f"arrows[{i}].bend must be a number")
        if not isinstance(arrow.get("both", False), bool):
            problems.append(f"arrows[{i}].both must be true or false")
        for key in sorted(set(arrow) - {"from", "to", "bend", "both"}):
            problems.append(f"arrows[{i}] has unknown field {key!r}")
    return problems


# --- drawing helpers ------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _pts(points) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


def _polyline(points, **attrs) -> str:
    return f'<polyline points="{_pts(points)}"{_attrs(attrs)}/>'


def _attrs(attrs: dict) -> str:
    return "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())


def _rect(x, y, w, h, rx=3, **attrs) -> str:
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="{_n(rx)}"'
        f"{_attrs(attrs)}/>"
    )


def _circle(cx, cy, r, **attrs) -> str:
    return f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}"{_attrs(attrs)}/>'


def _bow(start, end, bend: float):
    """Control point that bows the start->end line sideways by ``bend`` of its length."""
    (x1, y1), (x2, y2) = start, end
    return ((x1 + x2) / 2 - bend * (y2 - y1), (y1 + y2) / 2 + bend * (x2 - x1))


def _curve(start, end, bend: float, **attrs) -> str:
    cx, cy = _bow(start, end, bend)
    d = f"M{_pts([start])} Q{_pts([(cx, cy), end])}"
    return f'<path d="{d}"{_attrs(attrs)}/>'


# --- props ----------------------------------------------------------------


def _prop(prop: dict, floor: float) -> list[str]:
    """Outline drawing of one prop; ``floor`` anchors things that stand on the ground."""
    kind, out = prop["type"], []
    thin = {"fill": PROP_FILL, "stroke": INK, "stroke_width": 3}
    if kind == "wall":
        top, side = prop.get("top", 12), prop.get("side", "right")
        if side == "back":  # seen face-on, a pale panel behind the figure
            out.append(_rect(prop["x"], top, prop.get("width", 160), floor - top, 4, **thin))
        else:  # seen edge-on, a slab with hatching on the solid side
            sign = 1 if side == "right" else -1
            x0 = prop["x"] if sign > 0 else prop["x"] - 16
            out.append(_rect(x0, top, 16, floor - top, 0, **thin))
            for y in range(int(top) + 14, int(floor) - 4, 18):
                hatch = [(x0 + 2, y + 8), (x0 + 14, y - 4)]
                out.append(_polyline(hatch, stroke=INK, stroke_width=2))
    elif kind == "doorway":
        top = prop.get("top", 14)
        out.append(_rect(prop["x"] - 8, top, 16, floor - top, 2, **thin))
        out.append(_rect(prop["x"] - 34, top, 68, 14, 2, **thin))
    elif kind == "chair" and prop.get("facing") == "front":
        # Seen from the front a backrest would cross the body, so only seat and legs show;
        # x is the left edge of the seat.
        for leg_x in (prop["x"] + 6, prop["x"] + 64):
            out.append(_polyline([(leg_x, prop["y"]), (leg_x, floor)], stroke=INK, **_w(5)))
        out.append(_rect(prop["x"] - 2, prop["y"] - 3, 74, 8, 3, **thin))
    elif kind == "chair":
        x, y = prop["x"], prop["y"]
        sign = -1 if prop.get("facing", "right") == "left" else 1
        front = x + sign * 70
        for leg_x in (x + sign * 5, front - sign * 5):
            out.append(_polyline([(leg_x, y), (leg_x, floor)], stroke=INK, **_w(5)))
        if prop.get("back", True):
            out.append(_polyline([(x, y), (x - sign * 6, y - 88)], stroke=INK, **_w(6)))
        out.append(_rect(min(x, front) - 2, y - 3, 74, 8, 3, **thin))
    elif kind == "step":
        h = prop["height"]
        out.append(_rect(prop["x"], floor - h, prop["width"], h, 2, **thin))
    elif kind == "table":
        x, y, w = prop["x"], prop["y"], prop["width"]
        for leg_x in (x + 10, x + w - 10):
            out.append(_polyline([(leg_x, y), (leg_x, floor)], stroke=INK, **_w(5)))
        out.append(_rect(x, y - 4, w, 9, 2, **thin))
    elif kind == "mat":
        # Edge-on by default; a deeper mat reads as the floor seen from above.
        bottom, depth = prop.get("y", floor), prop.get("depth", 7)
        rx = min(depth / 2, 8)
        out.append(_rect(prop["x"], bottom - depth, prop["width"], depth, rx, **thin))
    elif kind == "resistance-band":
        start, end = prop["from"], prop["to"]
        out.append(_polyline([start, end], stroke=ACCENT, **_w(3.5)))
        if prop.get("anchor"):
            out.append(_rect(start[0] - 5, start[1] - 5, 10, 10, 2, fill=ACCENT))
    elif kind == "towel":
        if "at" in prop:  # a folded or rolled pad
            w, h = prop.get("w", 34), prop.get("h", 12)
            x, y = prop["at"][0] - w / 2, prop["at"][1] - h / 2
            out.append(_rect(x, y, w, h, h / 2, **thin))
            fold = [(x + w / 3, y + 2), (x + w / 3, y + h - 2)]
            out.append(_polyline(fold, stroke=INK, **_w(2)))
        else:  # a strap: an ink band with a pale core, unlike the thin accent band
            out.append(_polyline([prop["from"], prop["to"]], stroke=INK, **_w(7)))
            out.append(_polyline([prop["from"], prop["to"]], stroke=PROP_FILL, **_w(2.5)))
    elif kind == "massage-ball":
        (x, y), r = prop["at"], prop.get("r", 9)
        out.append(_circle(x, y, r, **thin))
        out.append(_circle(x - r / 3, y - r / 3, max(1.5, r / 5), fill=INK))
    elif kind == "peanut-ball":  # two balls joined side by side, along "angle"
        (x, y), r = prop["at"], prop.get("r", 9)
        a = math.radians(prop.get("angle", 0))
        dx, dy = r * 0.9 * math.cos(a), r * 0.9 * math.sin(a)
        for cx, cy in ((x - dx, y - dy), (x + dx, y + dy)):
            out.append(_circle(cx, cy, r, **thin))
        out.append(_circle(x, y, r * 0.55, fill=PROP_FILL))
    elif kind == "foam-roller":
        (x, y), r = prop["at"], prop.get("r", 16)
        out.append(_circle(x, y, r, **thin))
        out.append(_circle(x, y, r / 2.6, fill="none", stroke=INK, stroke_width=2))
    elif kind == "pillow":
        (x, y), w, h = prop["at"], prop.get("w", 52), prop.get("h", 16)
        out.append(_rect(x - w / 2, y - h / 2, w, h, min(w, h) / 2.5, **thin))
    elif kind == "dumbbell":
        (x, y), a = prop["at"], math.radians(prop.get("angle", 0))
        dx, dy = 16 * math.cos(a), 16 * math.sin(a)
        out.append(_polyline([(x - dx, y - dy), (x + dx, y + dy)], stroke=INK, **_w(5)))
        for px, py in ((x - dx, y - dy), (x + dx, y + dy)):  # a plate across each end
            plate = [(px - dy * 0.7, py + dx * 0.7), (px + dy * 0.7, py - dx * 0.7)]
            out.append(_polyline(plate, stroke=INK, **_w(10)))
    return out


def _w(width: float) -> dict:
    """Round-capped stroke attributes: the friendly, marker-drawn look of every line."""
    return dict(stroke_width=width, stroke_linecap="round", stroke_linejoin="round", fill="none")


# --- arrows and the whole picture ---------------------------------------


def _arrow(arrow: dict) -> list[str]:
    start, end, bend = arrow["from"], arrow["to"], arrow.get("bend", 0)
    ctrl = _bow(start, end, bend)
    out = [_curve(start, end, bend, stroke=ACCENT, **_w(3.5))]
    for tip, back in [(end, ctrl)] + ([(start, ctrl)] if arrow.get("both") else []):
        dx, dy = tip[0] - back[0], tip[1] - back[1]
        size = math.hypot(dx, dy) or 1
        ux, uy = dx / size, dy / size  # unit vector along the curve at its tip
        base = (tip[0] - 12 * ux, tip[1] - 12 * uy)
        head = [tip, (base[0] - 6 * uy, base[1] + 6 * ux), (base[0] + 6 * uy, base[1] - 6 * ux)]
        out.append(
            f'<polygon points="{_pts(head)}" fill="{ACCENT}" stroke="{ACCENT}" '
            f'stroke-width="1.5" stroke-linejoin="round"/>'
        )
    return out


def render_svg(pose: dict, *, title: str) -> str:
    """The still picture of ``pose`` as a standalone SVG document: the figure at the end of
    the movement over its start as a dashed outline, the movement as an arrow. It is what
    handouts print. Raises ValueError if the pose is invalid."""
    return _picture(pose, title, move=False)


def render_animation(pose: dict, *, title: str) -> str:
    """The moving picture of ``pose``: the same drawing, its figure going from the start to
    the end of the movement and back with CSS keyframes (a few seconds a cycle). A reader
    who asked for less motion, and anything that ignores CSS animation, sees the still."""
    return _picture(pose, title, move=True)


def render_frame(pose: dict, *, title: str, progress: float) -> str:
    """The figure at ``progress`` (0 the start, 1 the end) of its movement, as the moving
    picture shows it at that moment: the contact sheet's frame strip."""
    return _picture(pose, title, move=False, progress=progress)


def _picture(pose: dict, title: str, *, move: bool, progress: float = 1.0) -> str:
    # Drawn once per process for each pose: a load (and each test that loads the
    # library) asks again for the same 215 drawings.
    key = json.dumps(pose, sort_keys=True)
    return _drawn(key, title, move, progress)


@functools.lru_cache(maxsize=2048)
def _drawn(key: str, title: str, move: bool, progress: float) -> str:
    pose = json.loads(key)
    problems = validate_pose(pose)
    if problems:
        raise ValueError("Invalid pose: " + "; ".join(problems))
    # Ids unique per drawing, so several SVGs inlined in one page don't clash.
    digest = hashlib.sha1(f"{title}\n{pose['alt']}".encode(), usedforsecurity=False)
    uid = "hep-" + digest.hexdigest()[:10]
    floor = pose.get("floor", HEIGHT - 38)
    props = pose.get("props", [])
    skel = skeleton(pose)
    body, css = figure(skel, uid, move=move, progress=progress)
    # The box holds every moment of the movement, so the still and the moving picture
    # are the same size and a frame never leaves its box.
    reach = extent(skel, [i / 8 for i in range(9)])
    arrows = [part for arrow in pose.get("arrows", []) for part in _arrow(arrow)]

    def layer(p):
        return p.get("layer", "front" if p["type"] in FRONT_PROPS else "back")

    def drawn(props: list[dict]) -> tuple[list[str], list[str]]:
        back = [e for p in props if layer(p) == "back" for e in _prop(p, floor)]
        front = [e for p in props if layer(p) == "front" for e in _prop(p, floor)]
        return back, front

    # The picture is cropped to what is drawn, so a handout can print a lying figure
    # wide and a standing one tall instead of a small figure in an empty 4:3 box. Mats
    # and the floor only run a little past the rest of the drawing on either side.
    back, front = drawn([p for p in props if p["type"] != "mat"])
    x0, _y0, x1, _y1 = _union(_extent(back + front + arrows), reach)
    x0, x1 = max(x0 - FLOOR_RUN, 0), min(x1 + FLOOR_RUN, WIDTH)
    back, front = drawn([_trimmed(p, x0, x1) if p["type"] == "mat" else p for p in props])
    x0, y0, x1, y1 = _union(_extent(back + front + arrows), reach)
    if "floor" in pose:
        x0, x1 = min(x0, max(x0 - FLOOR_RUN, 0)), max(x1, min(x1 + FLOOR_RUN, WIDTH))
        back.insert(0, _polyline([(x0 + 2, floor), (x1 - 2, floor)], stroke=INK, **_w(3)))
        y1 = max(y1, floor + 1.5)
    x0, y0 = max(x0 - MARGIN, 0), max(y0 - MARGIN, 0)
    x1, y1 = min(x1 + MARGIN, WIDTH), min(y1 + MARGIN, HEIGHT)
    if "crop" in pose:  # a close-up: only this part of the box, so a hand prints large
        x0, y0, x1, y1 = pose["crop"]
    background = _rect(x0, y0, x1 - x0, y1 - y0, 0, fill="#ffffff")
    box = " ".join(_n(v) for v in (x0, y0, x1 - x0, y1 - y0))
    safe_title = escape(title, {'"': "&quot;"})
    style = f"<style>{css}</style>\n" if move and css else ""
    # A frame of the movement shows the figure at that moment, without the arrow.
    parts = [background, *back, body, *front, *(arrows if progress == 1.0 else [])]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{box}" '
        f'role="img" aria-labelledby="{uid}-title {uid}-desc">'
        f'<title id="{uid}-title">{safe_title}</title>'
        f'<desc id="{uid}-desc">{escape(pose["alt"])}</desc>\n'
        + style
        + "\n".join(parts)
        + "\n</svg>\n"
    )


def _union(a, b):
    if a is None:
        return b
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


MARGIN, FLOOR_RUN = 6, 24  # viewBox units around the drawing; floor beyond it


def _trimmed(mat: dict, x0: float, x1: float) -> dict:
    """A mat cut to the stretch of floor between x0 and x1 (at least 40 units long)."""
    left = max(mat["x"], x0)
    right = min(mat["x"] + mat["width"], x1)
    if right - left < 40:
        return mat
    return {**mat, "x": left, "width": right - left}


def _extent(elements: list[str]) -> tuple[float, float, float, float] | None:
    """The bounding box (x0, y0, x1, y1) of our own drawing elements, strokes included;
    None if there are none."""
    if not elements:
        return None
    xs: list[float] = []
    ys: list[float] = []
    for element in elements:
        node = ET.fromstring(element)  # noqa: S314 - our own markup, built above
        tag, get = node.tag, node.get
        pad = float(get("stroke-width", 0)) / 2 if get("stroke") not in (None, "none") else 0
        if tag in ("polyline", "polygon"):
            points = [tuple(map(float, p.split(","))) for p in get("points", "").split()]
        elif tag == "rect":
            x, y, w, h = (float(get(k, 0)) for k in ("x", "y", "width", "height"))
            points = [(x, y), (x + w, y + h)]
        elif tag == "circle":
            cx, cy, r = (float(get(k, 0)) for k in ("cx", "cy", "r"))
            points = [(cx - r, cy - r), (cx + r, cy + r)]
        elif tag == "path":  # "M x,y Q cx,cy x,y": sample the curve
            (sx, sy), (cx, cy), (ex, ey) = (
                tuple(map(float, pair.split(",")))
                for pair in get("d", "").replace("M", " ").replace("Q", " ").split()
            )
            points = [
                (
                    (1 - t) ** 2 * sx + 2 * (1 - t) * t * cx + t * t * ex,
                    (1 - t) ** 2 * sy + 2 * (1 - t) * t * cy + t * t * ey,
                )
                for t in (i / 16 for i in range(17))
            ]
        else:  # pragma: no cover - every element above is one of ours
            raise ValueError(f"unknown element {tag}")
        xs += [x - pad for x, _y in points] + [x + pad for x, _y in points]
        ys += [y - pad for _x, y in points] + [y + pad for _x, y in points]
    return min(xs), min(ys), max(xs), max(ys)
