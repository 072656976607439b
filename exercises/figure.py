"""The body-shaped figure of the bundled illustrations, still or moving.

A pose (``exercises.illustrations``) gives where the joints are at the end of the
movement (``joints``) and, for the joints that differ, at its start (``ghost``). This
module turns the two into a skeleton: bones in a tree rooted at the hip, each a length
and an angle relative to its parent, per frame. Drawing the tree as nested SVG groups,
each group turned about its joint, keeps the joints together at every moment, so the
moving version only has to animate each group's ``transform`` between its start and
end value with CSS keyframes. The still picture and every frame of the contact sheet
come from the same tree, at a chosen moment of the movement.

The drawing convention (docs/library.md): bodies are filled shapes with a dark
outline; the far-side limbs are a darker tone of the same colour; the start position
is a dashed outline; the movement is an arrow along the moving part's path.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

INK = "#1f3b4d"  # outlines, floor and props
NEAR_FILL = "#cfe3ea"  # the body and the near-side limbs
FAR_FILL = "#6f93a3"  # the far-side limbs: a darker tone of the same colour
GHOST_INK = "#5f7684"  # the start position: a dashed outline, no fill
OUTLINE = 2.2  # outline thickness on each side of a shape

# One cycle of the moving picture: hold the start, move, hold the end, move back.
CYCLE_SECONDS = 4.0
KEYS = ((0, 15, 0.0), (50, 70, 1.0), (100, 100, 0.0))  # (from %, to %, progress)

# Widths (viewBox units) at the start and end of each kind of bone.
WIDTHS = {
    "trunk-low": (31, 28),
    "trunk-up": (28, 32),
    "neck": (11, 11),
    "collar": (12, 12),
    "upper-arm": (14, 11.5),
    "forearm": (11.5, 9),
    "pelvis": (14, 14),
    "thigh": (20, 15),
    "shin": (15, 10),
}
FRONT_TRUNK = {"trunk-low": (30, 28), "trunk-up": (28, 30)}
HEAD_R = 15
HAND_LENGTH = 15  # a hand without a "hand" joint: this long along the forearm


@dataclass
class Bone:
    name: str
    kind: str
    parent: Bone | None
    layer: str  # "far", "trunk" or "near": the order of drawing
    ends: list[tuple[tuple[float, float], tuple[float, float]]]  # (start, end) per frame
    hand: tuple[str, str] = ("flat", "flat")  # a hand's shape at the start and the end
    children: list[Bone] = field(default_factory=list)

    def angle(self, frame: int) -> float:
        (x0, y0), (x1, y1) = self.ends[frame]
        if math.hypot(x1 - x0, y1 - y0) < 1e-6:
            return self.parent.angle(frame) if self.parent else 0.0
        return math.degrees(math.atan2(y1 - y0, x1 - x0))

    def length(self, frame: int) -> float:
        (x0, y0), (x1, y1) = self.ends[frame]
        return math.hypot(x1 - x0, y1 - y0)

    def relative(self, frame: int) -> float:
        """This bone's angle relative to its parent's (the root's is absolute)."""
        base = self.parent.angle(frame) if self.parent else 0.0
        return self.angle(frame) - base

    def turn(self) -> tuple[float, float]:
        """Relative angle at the start and the end, unwound so it turns the short way."""
        start, end = self.relative(0), self.relative(1)
        delta = (end - start + 180) % 360 - 180
        return end - delta, end

    def moved(self) -> bool:
        """Whether this bone moves between the start and the end (or, a hand, changes shape)."""
        return self.hand[0] != self.hand[1] or any(
            math.dist(a, b) > 1.5 for a, b in zip(self.ends[0], self.ends[1], strict=True)
        )


@dataclass
class Skeleton:
    root: tuple[tuple[float, float], tuple[float, float]]  # the hip, start and end
    bones: list[Bone]
    view: str
    head: Bone

    def at(self, progress: float) -> dict[str, tuple[tuple[float, float], float, float]]:
        """Each bone's (start point, absolute angle, length) at ``progress`` (0 start, 1 end)
        of the movement, exactly as the nested groups place it."""
        (sx, sy), (ex, ey) = self.root
        placed: dict[str, tuple[tuple[float, float], float, float]] = {}
        for bone in self.bones:  # parents come before their children
            a0, a1 = bone.turn()
            rel = a0 + (a1 - a0) * progress
            length = bone.length(0) + (bone.length(1) - bone.length(0)) * progress
            if bone.parent is None:
                start, angle = (sx + (ex - sx) * progress, sy + (ey - sy) * progress), rel
            else:
                (px, py), pa, pl = placed[bone.parent.name]
                start = (px + pl * math.cos(math.radians(pa)), py + pl * math.sin(math.radians(pa)))
                angle = pa + rel
            placed[bone.name] = (start, angle, length)
        return placed


def _merged(joints: dict, over: dict) -> dict:
    out = {k: over.get(k, joints[k]) for k in ("head", "neck", "hip")}
    for side in ("near", "far"):
        out[side] = {**joints[side], **over.get(side, {})}
    return out


def _mid(neck, hip, bend: float) -> tuple[float, float]:
    """The middle of the spine: the bowed torso line halfway between hip and neck."""
    (x1, y1), (x2, y2) = hip, neck
    # The same bow as the pose's spine_bend (which bows the neck->hip line).
    cx = (x1 + x2) / 2 + bend * (y1 - y2)
    cy = (y1 + y2) / 2 - bend * (x1 - x2)
    return (0.25 * x1 + 0.5 * cx + 0.25 * x2, 0.25 * y1 + 0.5 * cy + 0.25 * y2)


def skeleton(pose: dict) -> Skeleton:
    """The bone tree of a valid pose, with its start frame (0) and end frame (1)."""
    end = pose["joints"]
    ghost = pose.get("ghost", {})
    frames = [_merged(end, ghost), _merged(end, {})]  # copies: the pose stays as it is
    bends = [ghost.get("spine_bend", pose.get("spine_bend", 0)), pose.get("spine_bend", 0)]
    for frame, bend in zip(frames, bends, strict=True):
        frame["mid"] = _mid(frame["neck"], frame["hip"], bend)
        for side in ("near", "far"):
            frame[side]["tip"] = _hand_tip(frame[side])
    hands = [{**pose.get("hands", {}), **ghost.get("hands", {})}, pose.get("hands", {})]
    bones: list[Bone] = []

    def point(frame: dict, name: str):
        side, _, joint = name.partition(".")
        return frame[side][joint] if joint else frame[side]

    def add(name, kind, parent, layer, start, stop, hand=("flat", "flat")) -> Bone:
        ends = [(point(f, start), point(f, stop)) for f in frames]
        bone = Bone(name, kind, parent, layer, ends, hand)
        bones.append(bone)
        if parent:
            parent.children.append(bone)
        return bone

    low = add("lt", "trunk-low", None, "trunk", "hip", "mid")
    up = add("ut", "trunk-up", low, "trunk", "mid", "neck")
    head = add("nk", "neck", up, "trunk", "neck", "head")
    for s in ("far", "near"):
        collar = add(s + "cl", "collar", up, s, "neck", f"{s}.shoulder")
        upper = add(s + "ua", "upper-arm", collar, s, f"{s}.shoulder", f"{s}.elbow")
        fore = add(s + "fa", "forearm", upper, s, f"{s}.elbow", f"{s}.wrist")
        shapes = (hands[0].get(s, "flat"), hands[1].get(s, "flat"))
        add(s + "hd", "hand", fore, s, f"{s}.wrist", f"{s}.tip", shapes)
        pelvis, top = None, "hip"
        if "hip" in end[s]:  # a per-side hip: the pelvis, then the thigh from there
            pelvis, top = add(s + "ph", "pelvis", None, s, "hip", f"{s}.hip"), f"{s}.hip"
        thigh = add(s + "th", "thigh", pelvis, s, top, f"{s}.knee")
        shin = add(s + "sh", "shin", thigh, s, f"{s}.knee", f"{s}.ankle")
        add(s + "ft", "foot", shin, s, f"{s}.ankle", f"{s}.toe")
    faces = (ghost.get("face", pose.get("face")), pose.get("face"))
    if faces != (None, None):  # a small nose shows where the head is turned, and turns
        for frame, face in zip(frames, faces, strict=True):
            known = face if face is not None else next(f for f in faces if f is not None)
            angle = math.radians(known)
            hx, hy = frame["head"]
            frame["nose"] = (hx + HEAD_R * math.cos(angle), hy + HEAD_R * math.sin(angle))
        add("ns", "nose", head, "trunk", "head", "nose")
    return Skeleton((frames[0]["hip"], frames[1]["hip"]), bones, pose.get("view", "side"), head)


def _hand_tip(side: dict) -> tuple[float, float]:
    if "hand" in side:
        return tuple(side["hand"])
    (ex, ey), (wx, wy) = side["elbow"], side["wrist"]
    size = math.hypot(wx - ex, wy - ey) or 1
    return (wx + HAND_LENGTH * (wx - ex) / size, wy + HAND_LENGTH * (wy - ey) / size)


# --- shapes, in a bone's own frame: x runs along the bone from 0 to its length ---------


def _n(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def capsule(length: float, w0: float, w1: float) -> str:
    """Path data of a limb: a tapered band with round ends, w0 wide at 0, w1 at ``length``."""
    r0, r1 = w0 / 2, w1 / 2
    return (
        f"M0,{_n(-r0)}L{_n(length)},{_n(-r1)}A{_n(r1)},{_n(r1)} 0 0 1 {_n(length)},{_n(r1)}"
        f"L0,{_n(r0)}A{_n(r0)},{_n(r0)} 0 0 1 0,{_n(-r0)}Z"
    )


def _foot(length: float, sole: int) -> str:
    """A foot from the ankle (0) to the toes: the heel behind the ankle, the sole on the
    ``sole`` side (+1 or -1) of the bone."""
    size = max(length, 8)
    points = [(-5, -5.5), (size * 0.6, -4), (size + 2.5, 0.5), (size + 1.5, 5.5), (-5, 6.5),
              (-9.5, 3), (-9, -2)]  # fmt: skip
    if sole < 0:  # mirrored, and walked the other way round: every shape turns clockwise
        points = [(x, -y) for x, y in reversed(points)]
    return "M" + "L".join(f"{_n(x)},{_n(y)}" for x, y in points) + "Z"


# A hand's fingers after the knuckles: (bend at the joint in degrees, share of the hand's
# length) per finger segment. The bend curls towards the palm.
FINGERS = {
    "flat": [(0, 0.5)],
    "hook": [(0, 0.22), (150, 0.3)],
    "tabletop": [(90, 0.46)],
    "straight-fist": [(0, 0.24), (160, 0.22)],
}


@dataclass
class Part:
    """One filled, outlined shape: path data (or a circle) placed in its bone's frame."""

    d: str = ""
    circle: tuple[float, float, float] | None = None
    at: tuple[float, float, float] = (0.0, 0.0, 0.0)  # x, y, turn (degrees)
    detail: bool = False  # drawn only over the fill of the figure itself
    scale: float = 1.0  # a hand drawn larger or smaller than the usual size, as a whole

    def absolute(self, outer: tuple[float, ...]) -> str:
        """This shape's path data in the coordinates of ``outer`` (an affine matrix: its
        bone's place), for a still drawing's single path."""
        x, y, turn = self.at
        matrix = _times(_times(outer, _affine(0, 0, 0, self.scale)), _affine(x, y, turn))
        if self.circle:
            cx, cy, r = self.circle
            d = f"M{cx + r},{cy}A{r},{r} 0 1 1 {cx - r},{cy}A{r},{r} 0 1 1 {cx + r},{cy}Z"
        else:
            d = self.d
        return _moved_path(d, matrix)

    def markup(self, attrs: str, base: str = "") -> str:
        """The element, with ``base`` (its bone's place, for a still) before its own."""
        x, y, turn = self.at
        steps = [base] if base else []
        if abs(self.scale - 1) > 0.005:
            steps.append(f"scale({self.scale:.3f})")
        if self.at != (0.0, 0.0, 0.0):
            steps.append(f"translate({_n(x)} {_n(y)}) rotate({_n(turn)})")
        moved = f' transform="{" ".join(steps)}"' if steps else ""
        if self.detail:  # a line drawn on the shape (a palm's crease), in its own ink
            attrs = f' fill="none" stroke="{INK}" stroke-width="1.6" stroke-linecap="round"'
        if self.circle:
            cx, cy, r = self.circle
            return f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}"{moved}{attrs}/>'
        return f'<path d="{self.d}"{moved}{attrs}/>'


def _hand(length: float, shape: str, palm: int) -> list[Part]:
    """A hand from the wrist (0) towards the fingertips, ``palm`` the side (+1 or -1) its
    fingers curl to. Seen face-on ("palm", "back") the four fingers spread and the thumb
    stands off the side it is on. It is drawn at the usual size and scaled as a whole to
    its length, so a close-up's long hand is wide as well as long."""
    scale = max(length, 10) / HAND_LENGTH
    return [replace(part, scale=scale) for part in _hand_shape(shape, palm)]


def _hand_shape(shape: str, palm: int) -> list[Part]:
    size = HAND_LENGTH
    knuckle = size * 0.48
    if shape in ("fist", "grip"):
        return [
            Part(_rounded(-1, -6.5, knuckle + 7, 13, 6)),
            Part(capsule(size * 0.3, 5, 4.5), at=(knuckle * 0.2, palm * 4, 35 * palm)),
        ]
    if shape in ("palm", "back"):
        parts = [Part(_rounded(0, -7, knuckle + 1, 14, 4.5))]
        for i, (spread, share) in enumerate(((-14, 0.44), (-5, 0.52), (5, 0.5), (14, 0.4))):
            parts.append(
                Part(capsule(size * share, 3.8, 3.3), at=(knuckle - 1, -5.2 + i * 3.5, spread))
            )
        thumb = palm if shape == "palm" else -palm
        parts.append(
            Part(capsule(size * 0.36, 4.4, 3.8), at=(knuckle * 0.3, 6 * thumb, 50 * thumb))
        )
        k = knuckle
        if shape == "palm":  # the palm's creases
            head = f"M{_n(k * 0.85)},-4.5Q{_n(k * 0.55)},-1 {_n(k * 0.75)},4"
            life = (
                f"M{_n(k * 0.2)},{_n(3 * thumb)}Q{_n(k * 0.45)},0 {_n(k * 0.4)},{_n(-4.5 * thumb)}"
            )
            parts += [Part(head, detail=True), Part(life, detail=True)]
        else:  # the back of the hand: a knuckle at the base of each finger
            parts += [
                Part(f"M{_n(k - 2.5)},{_n(-5.2 + i * 3.5)}h0.1", detail=True) for i in range(4)
            ]
        return parts
    parts = [
        Part(capsule(size * 0.3, 5, 4.5), at=(knuckle * 0.25, palm * 3.5, 38 * palm)),  # thumb
        Part(_rounded(0, -5.5, knuckle + 3, 11, 4.5)),  # the palm
    ]
    x, y, angle = knuckle, 0.0, 0.0
    for bend, share in FINGERS.get(shape, FINGERS["flat"]):
        angle += bend * palm
        piece = size * share
        parts.append(Part(capsule(piece, 8, 7), at=(x, y, angle)))
        x += piece * math.cos(math.radians(angle))
        y += piece * math.sin(math.radians(angle))
    return parts


def _rounded(x: float, y: float, w: float, h: float, r: float) -> str:
    r = min(r, w / 2, h / 2)
    return (
        f"M{_n(x + r)},{_n(y)}H{_n(x + w - r)}A{_n(r)},{_n(r)} 0 0 1 {_n(x + w)},{_n(y + r)}"
        f"V{_n(y + h - r)}A{_n(r)},{_n(r)} 0 0 1 {_n(x + w - r)},{_n(y + h)}H{_n(x + r)}"
        f"A{_n(r)},{_n(r)} 0 0 1 {_n(x)},{_n(y + h - r)}V{_n(y + r)}"
        f"A{_n(r)},{_n(r)} 0 0 1 {_n(x + r)},{_n(y)}Z"
    )


def _side_of(bone: Bone, point, frame: int = 1) -> int:
    """+1 or -1: which side of the bone (its own y) ``point`` lies on; 0 if on the line."""
    (x0, y0), (x1, y1) = bone.ends[frame]
    cross = (x1 - x0) * (point[1] - y0) - (y1 - y0) * (point[0] - x0)
    return 0 if abs(cross) < 1e-6 * max(bone.length(frame), 1) ** 2 else (1 if cross > 0 else -1)


def parts(skel: Skeleton, bone: Bone, frame: int, length: float | None = None) -> list[Part]:
    """The shapes of one bone, at the length it has in ``frame`` (or ``length``)."""
    length = bone.length(frame) if length is None else length
    if bone.kind == "hand":
        forearm = bone.parent
        assert forearm is not None and forearm.parent is not None  # a hand hangs from an arm
        shoulder = forearm.parent.ends[frame][0]  # the upper arm starts there
        palm = _side_of(forearm, shoulder, frame) or (
            1 if bone.ends[frame][1][0] >= bone.ends[frame][0][0] else -1
        )
        return _hand(length, bone.hand[frame], palm)
    if bone.kind == "nose":
        return [Part(circle=(length, 0, 4.5))]
    if bone.kind == "foot":
        assert bone.parent is not None  # a foot hangs from a shin
        knee = bone.parent.ends[frame][0]
        return [Part(_foot(length, -(_side_of(bone, knee, frame) or -1)))]
    widths = (FRONT_TRUNK if skel.view != "side" else {}).get(bone.kind, WIDTHS[bone.kind])
    shapes = [Part(capsule(length, *widths))]
    if bone is skel.head:
        shapes.append(Part(circle=(length, 0, HEAD_R)))
    return shapes


# --- drawing the tree -----------------------------------------------------------------


def _place(bone: Bone, skel: Skeleton, progress: float) -> tuple[float, float, float]:
    """(x, y, turn) of a bone's group in its parent's frame at ``progress``."""
    a0, a1 = bone.turn()
    turn = a0 + (a1 - a0) * progress
    if bone.parent is None:
        (sx, sy), (ex, ey) = skel.root
        return (sx + (ex - sx) * progress, sy + (ey - sy) * progress, turn)
    p = bone.parent
    return (p.length(0) + (p.length(1) - p.length(0)) * progress, 0.0, turn)


def _css(place: tuple[float, float, float]) -> str:
    x, y, turn = place
    return f"translate({_n(x)}px,{_n(y)}px) rotate({_n(turn)}deg)"


def _transform(x: float, y: float, turn: float) -> str:
    return f"translate({_n(x)} {_n(y)}) rotate({_n(turn)})"


class Drawing:
    """Writes the figure's markup; collects the keyframes its moving groups need."""

    def __init__(self, skel: Skeleton, uid: str):
        self.skel, self.uid = skel, uid
        self.keyframes: dict[str, str] = {}
        self.details = False  # lines drawn over the fills (a palm's creases): fill pass only

    def tree(self, draw: set[str], attrs: str, *, progress: float = 1.0, move: bool = False,
             frame: int = 1, details: bool = False) -> str:  # fmt: skip
        """Nested groups down to every bone in ``draw``, each of those drawn with ``attrs``.
        With ``move`` the groups that change carry the animation; otherwise each sits
        where it is at ``progress``."""
        self.details = details
        if not move:  # a still: each shape placed once, no nested groups (prints faster)
            return self._flat(draw, attrs, progress, frame)
        wanted = self._with_ancestors(draw)
        return "".join(
            self._group(b, draw, wanted, attrs, progress, move, frame)
            for b in self.skel.bones
            if b.parent is None and b.name in wanted
        )

    def _flat(self, draw: set[str], attrs: str, progress: float, frame: int) -> str:
        """A still: every shape of the pass in one path of absolute coordinates (all
        turn clockwise, so the non-zero fill is their union), lines drawn over it apart.
        One element instead of dozens is most of what a handout's drawings cost."""
        shapes, lines = [], []
        placed = self.skel.at(progress)
        for bone in self.skel.bones:
            if bone.name in draw:
                (x, y), angle, length = placed[bone.name]
                for part in self._parts(bone, frame, length):
                    if part.detail:
                        lines.append(part.markup(attrs, _transform(x, y, angle)))
                    else:
                        shapes.append(part.absolute(_affine(x, y, angle)))
        path = f'<path d="{"".join(shapes)}"{attrs}/>' if shapes else ""
        return path + "".join(lines)

    def _with_ancestors(self, draw: set[str]) -> set[str]:
        out: set[str] = set()
        for bone in self.skel.bones:
            if bone.name in draw:
                node: Bone | None = bone
                while node is not None:
                    out.add(node.name)
                    node = node.parent
        return out

    def _group(self, bone, draw, wanted, attrs, progress, move, frame) -> str:
        still = _place(bone, self.skel, progress)
        css = ""
        if move:
            start, end = _place(bone, self.skel, 0.0), _place(bone, self.skel, 1.0)
            if any(abs(a - b) > 0.05 for a, b in zip(start, end, strict=True)):
                name = f"{self.uid}-{bone.name}"
                self.keyframes[name] = "".join(
                    f"{_percent(a, b)}{{transform:{_css(_place(bone, self.skel, p))}}}"
                    for a, b, p in KEYS
                )
                css = f' class="{name}"'
            still = end
        out = [f'<g transform="{_transform(*still)}"{css}>']
        if bone.name in draw and move and bone.hand[0] != bone.hand[1]:
            # A hand that changes shape (a tendon glide, a turn from palm down to palm up)
            # shows its start shape until halfway through each move, then its end shape.
            for frame_shown, shown in ((0, SHAPE_START), (1, SHAPE_END)):
                name = f"{self.uid}-{bone.name}-{frame_shown}"
                self.keyframes[name] = shown
                hidden = ' visibility="hidden"' if frame_shown == 0 else ""
                out.append(f'<g class="{name}"{hidden}>')
                out += [p.markup(attrs) for p in self._parts(bone, frame_shown)]
                out.append("</g>")
        elif bone.name in draw:
            shape_frame = 1 if move else frame
            length = None if move else _between(bone.length(0), bone.length(1), progress)
            shapes = [p.markup(attrs) for p in self._parts(bone, shape_frame, length)]
            stretch = bone.length(0) / bone.length(1) if bone.length(1) > 1 else 1.0
            if move and bone.kind in WIDTHS and abs(stretch - 1) > 0.02:
                # A limb whose length differs between the start and the end (a limb
                # turning towards the viewer looks shorter) is stretched along itself.
                name = f"{self.uid}-{bone.name}-len"
                self.keyframes[name] = "".join(
                    f"{_percent(a, b)}{{transform:scaleX({_between(stretch, 1.0, p):.3f})}}"
                    for a, b, p in KEYS
                )
                shapes = [f'<g class="{name}">', *shapes, "</g>"]
            out += shapes
        for child in bone.children:
            if child.name in wanted:
                out.append(self._group(child, draw, wanted, attrs, progress, move, frame))
        out.append("</g>")
        return "".join(out)

    def _parts(self, bone: Bone, frame: int, length: float | None = None) -> list[Part]:
        shapes = parts(self.skel, bone, frame, length)
        return [p for p in shapes if self.details or not p.detail]

    def style(self) -> str:
        """The CSS of the moving picture: one cycle of keyframes per moving group, none at
        all for a reader who asked for less motion (who sees the still picture instead)."""
        if not self.keyframes:
            return ""
        rules = "".join(
            f"@keyframes {name}{{{frames}}}"
            f".{name}{{animation:{name} {_n(CYCLE_SECONDS)}s ease-in-out infinite both}}"
            for name, frames in self.keyframes.items()
        )
        return (
            f"@media (prefers-reduced-motion:no-preference){{{rules}"
            f".{self.uid}-ghost{{display:none}}}}"
        )


# Halfway through the move to the end (15-50 %) and back (70-100 %) a hand's shape
# switches; the still picture shows the end shape, so the start shape is hidden there.
SHAPE_END = "0%,32%{visibility:hidden}33%,84%{visibility:visible}85%,100%{visibility:hidden}"
SHAPE_START = "0%,32%{visibility:visible}33%,84%{visibility:hidden}85%,100%{visibility:visible}"


def _affine(x: float, y: float, turn: float, scale: float = 1.0) -> tuple[float, ...]:
    """translate(x y) rotate(turn) scale(scale) as an SVG matrix (a, b, c, d, e, f)."""
    cos, sin = math.cos(math.radians(turn)) * scale, math.sin(math.radians(turn)) * scale
    return (cos, sin, -sin, cos, x, y)


def _times(m: tuple[float, ...], n: tuple[float, ...]) -> tuple[float, ...]:
    """The matrix of applying ``n`` first, then ``m``."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + c * q, b * p + d * q, a * r + c * s, b * r + d * s, a * t + c * u + e,
            b * t + d * u + f)  # fmt: skip


_PATH_TOKEN = re.compile(r"[MLHVAZmlhvaz]|-?[\d.]+(?:e-?\d+)?")


def _moved_path(d: str, m: tuple[float, ...]) -> str:
    """Our own path data (absolute M, L, H, V, A and Z) moved by the matrix ``m``: a turn,
    a move and a uniform scale, under which an arc stays an arc."""
    a, b, _c, _d, e, f = m
    scale, turn = math.hypot(a, b), math.degrees(math.atan2(b, a))

    def point(x: float, y: float) -> str:
        return f"{_n(a * x + _c * y + e)},{_n(b * x + _d * y + f)}"

    tokens, out, i = _PATH_TOKEN.findall(d), [], 0
    x = y = 0.0
    while i < len(tokens):
        command = tokens[i]
        if command in "ML":
            x, y = float(tokens[i + 1]), float(tokens[i + 2])
            out.append(command + point(x, y))
            i += 3
        elif command in "HV":
            value = float(tokens[i + 1])
            x, y = (value, y) if command == "H" else (x, value)
            out.append("L" + point(x, y))
            i += 2
        elif command == "A":
            rx, ry, rotation, large, sweep = tokens[i + 1 : i + 6]
            x, y = float(tokens[i + 6]), float(tokens[i + 7])
            out.append(
                f"A{_n(float(rx) * scale)},{_n(float(ry) * scale)} "
                f"{_n(float(rotation) + turn)} {large} {sweep} {point(x, y)}"
            )
            i += 8
        elif command == "Z":
            out.append("Z")
            i += 1
        else:  # pragma: no cover - our shapes use nothing else
            raise ValueError(f"unexpected path command {command!r}")
    return "".join(out)


def _between(start: float, end: float, progress: float) -> float:
    return start + (end - start) * progress


def _percent(start: float, end: float) -> str:
    return f"{start}%" if start == end else f"{start}%,{end}%"


def layers(skel: Skeleton) -> list[set[str]]:
    """The bones in drawing order: far limbs behind the body and near limbs in front in a
    side view; seen from the front or above, the body first and every limb over it."""
    by_layer: dict[str, set[str]] = {"far": set(), "trunk": set(), "near": set()}
    for bone in skel.bones:
        by_layer[bone.layer].add(bone.name)
    if skel.view == "side":
        return [by_layer["far"], by_layer["trunk"], by_layer["near"]]
    legs = {n for n in by_layer["far"] | by_layer["near"] if n[-2:] in ("ph", "th", "sh", "ft")}
    arms = (by_layer["far"] | by_layer["near"]) - legs
    return [by_layer["trunk"], legs, arms]


def figure(skel: Skeleton, uid: str, *, move: bool, progress: float = 1.0) -> tuple[str, str]:
    """(markup, css) of the whole figure: the dashed start position under it (hidden while
    it moves), then each layer's outlines and, over them, its fills, so the limbs of a
    layer join without lines across their joints."""
    drawing = Drawing(skel, uid)
    out: list[str] = []
    moved = {b.name for b in skel.bones if b.moved()}
    if moved and progress == 1.0:
        dashed = f' fill="none" stroke="{GHOST_INK}" stroke-width="4" stroke-dasharray="9 7"'
        blank = ' fill="#ffffff" stroke="none"'
        ghost = drawing.tree(moved, dashed, progress=0.0, frame=0)
        ghost += drawing.tree(moved, blank, progress=0.0, frame=0)
        out.append(f'<g class="{uid}-ghost">{ghost}</g>')
    side = skel.view == "side"
    for index, names in enumerate(layers(skel)):
        far = side and index == 0
        fill = FAR_FILL if far else NEAR_FILL
        outline = (
            f' fill="{INK}" stroke="{INK}" stroke-width="{_n(OUTLINE * 2)}" stroke-linejoin="round"'
        )
        # A frame of the movement shows the hands' start shapes until halfway.
        frame = 0 if progress < 0.5 else 1
        out.append(drawing.tree(names, outline, progress=progress, move=move, frame=frame))
        fills = f' fill="{fill}"'
        out.append(
            drawing.tree(names, fills, progress=progress, move=move, frame=frame, details=True)
        )
    return "".join(out), drawing.style()


def extent(skel: Skeleton, progresses) -> tuple[float, float, float, float]:
    """A box holding the figure at each of ``progresses``: bones with their widths."""
    xs: list[float] = []
    ys: list[float] = []
    for progress in progresses:
        for bone_name, ((x, y), angle, length) in skel.at(progress).items():
            a = math.radians(angle)
            end = (x + length * math.cos(a), y + length * math.sin(a))
            bone = next(b for b in skel.bones if b.name == bone_name)
            pad = {"hand": 16, "foot": 12}.get(
                bone.kind, 17 if bone.kind.startswith("trunk") else 10
            )
            if bone is skel.head:
                pad = HEAD_R + 6
            for px, py in ((x, y), end):
                xs += [px - pad, px + pad]
                ys += [py - pad, py + pad]
    return min(xs), min(ys), max(xs), max(ys)
