"""Writes to the exercise library: loading, importing and exporting it."""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction

from clinic.slugs import unique_slug
from exercises.dose import Dose
from exercises.illustrations import render_animation, render_svg
from exercises.models import Category, Equipment, Exercise, ExerciseImage, ExerciseStep, Region
from exercises.wording import GUIDANCE, refusals

REGIONS = [
    ("jaw", "Jaw"),
    ("neck", "Neck"),
    ("shoulders", "Shoulders"),
    ("upper-back", "Upper back"),
    ("chest", "Chest"),
    ("lower-back", "Lower back"),
    ("core", "Core"),
    ("pelvic-floor", "Pelvic floor"),
    ("elbows", "Elbows"),
    ("wrists-hands", "Wrists and hands"),
    ("hips-glutes", "Hips and glutes"),
    ("thighs", "Thighs"),
    ("knees", "Knees"),
    ("calves", "Calves"),
    ("ankles-feet", "Ankles and feet"),
]
CATEGORIES = [
    ("stretch", "Stretch"),
    ("strengthen", "Strengthen"),
    ("mobilise", "Mobilise"),
    ("balance", "Balance"),
    ("breathe", "Breathe"),
    ("relax", "Relax"),
]
EQUIPMENT = [
    ("none", "No equipment"),
    ("wall", "Wall"),
    ("chair", "Chair"),
    ("step", "Step"),
    ("resistance-band", "Resistance band"),
    ("towel", "Towel"),
    ("massage-ball", "Massage ball"),
    ("foam-roller", "Foam roller"),
    ("peanut-ball", "Peanut ball"),
    ("table", "Table"),
    ("dumbbell", "Dumbbell"),
    ("pillow", "Pillow"),
    ("doorway", "Doorway"),
]
TEXT_FIELDS = ("name", "summary", "indications", "why", "setup", "video_url")
LIST_FIELDS = (
    "aliases",
    "steps",
    "cues",
    "cautions",
    "regions",
    "categories",
    "equipment",
    "related",
)
DOSE_KEYS = Dose.FIELDS


class LibraryError(ValueError):
    """A library file with problems; nothing was changed. ``problems`` lists every one."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s): " + "; ".join(problems[:5]))


@dataclass
class LoadReport:
    total: int = 0
    created: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)

    @property
    def unchanged(self) -> int:
        return self.total - len(self.created) - len(self.updated)

    def __str__(self):
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {self.unchanged} unchanged"
        )


def _taxonomy(model, entries) -> dict[str, object]:
    by_slug = {obj.slug: obj for obj in model.objects.all()}
    for order, (slug, name) in enumerate(entries):
        obj = by_slug.get(slug)
        if obj is None:
            by_slug[slug] = model.objects.create(slug=slug, name=name, order=order)
        elif (obj.name, obj.order) != (name, order):
            obj.name, obj.order = name, order
            obj.save()
    return by_slug


def _wanted_fields(entry: dict) -> dict:
    dose = entry.get("dose", {})
    values = {name: entry.get(name, "") or "" for name in TEXT_FIELDS}
    values.update(
        aliases=", ".join(entry.get("aliases", [])),
        cues="\n".join(entry.get("cues", [])),
        cautions="\n".join(entry.get("cautions", [])),
        position=entry["position"],
        difficulty=entry["difficulty"],
    )
    # Checked by the model's validation (full_clean): the one dose rule, in exercises.dose.
    values.update({name: dose.get(name) for name in DOSE_KEYS}, side=dose.get("side") or "none")
    return values


def library_problems(entries) -> list[str]:
    """Every problem in a library file, row by row, in words a curator can fix."""
    if not isinstance(entries, list):
        return ["The file must hold a list of exercises."]
    problems: list[str] = []
    known = {
        "regions": {slug for slug, _ in REGIONS},
        "categories": {slug for slug, _ in CATEGORIES},
        "equipment": {slug for slug, _ in EQUIPMENT},
    }
    slugs = [e.get("slug") for e in entries if isinstance(e, dict)]
    taken = set(Exercise.objects.filter(clinic__isnull=False).values_list("slug", flat=True))
    seen: set = set()
    for row, entry in enumerate(entries, start=1):
        where = f"Row {row}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not an exercise object.")
            continue
        slug = entry.get("slug") or ""
        where = f"Row {row} ({slug or 'no slug'})"
        for key in ("slug", "name", "summary", "steps", "position", "difficulty"):
            if not entry.get(key):
                problems.append(f"{where}: {key} is missing.")
        if slug in seen:
            problems.append(f"{where}: the slug appears twice.")
        seen.add(slug)
        if slug in taken:
            problems.append(f"{where}: a clinic's own exercise already uses this slug.")
        for key in LIST_FIELDS:
            value = entry.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{where}: {key} must be a list of texts.")
        for key, allowed in known.items():
            unknown = (
                sorted(set(entry.get(key) or []) - allowed)
                if isinstance(entry.get(key, []), list)
                else []
            )
            if unknown:
                problems.append(f"{where}: unknown {key} {', '.join(map(str, unknown))}.")
        related = entry.get("related", [])
        if isinstance(related, list):
            missing = [r for r in related if r not in slugs]
            if missing:
                problems.append(
                    f"{where}: related exercise(s) not in the file: {', '.join(missing)}."
                )
        easier = entry.get("easier", "")
        if not isinstance(easier, str):
            problems.append(f"{where}: easier must be one exercise's slug.")
        elif easier == slug and easier:
            problems.append(f"{where}: an exercise cannot be its own easier version.")
        elif easier and easier not in slugs:
            problems.append(f"{where}: easier version not in the file: {easier}.")
        dose = entry.get("dose", {})
        if not isinstance(dose, dict) or set(dose) - set(DOSE_KEYS):
            problems.append(f"{where}: dose may only have {', '.join(DOSE_KEYS)}.")
            continue
        if not all(isinstance(entry.get(k, ""), str) for k in TEXT_FIELDS):
            problems.append(f"{where}: {', '.join(TEXT_FIELDS)} must be texts.")
            continue
        if problems and problems[-1].startswith(where):
            continue
        try:
            Exercise(slug=slug, **_wanted_fields(entry)).full_clean(validate_unique=False)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                # The guidance on dose-neutral texts is said once, at the end.
                said = [message for message in messages if message != GUIDANCE]
                problems.append(f"{where}: {name}: {' '.join(said)}")
        except (TypeError, ValueError) as error:
            problems.append(f"{where}: {error}")
        problems.extend(
            f"{where}: steps: {message}"
            for message in refusals(entry["steps"], label="Step", guidance=False)
        )
    if any("states a dose or a side" in problem for problem in problems):
        problems.append(GUIDANCE)
    problems.extend(_loops(entries))
    return problems


def _loops(entries: list) -> list[str]:
    """Chains of easier versions that come back to where they started."""
    easier = {
        e.get("slug"): e.get("easier")
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("easier"), str) and e.get("easier")
    }
    problems = []
    for start in easier:
        seen, slug = {start}, easier[start]
        while slug in easier and slug not in seen:
            seen.add(slug)
            slug = easier[slug]
        if slug == start:
            problems.append(f"{start}: its easier versions come back to it (a loop).")
    return problems


def _ids(taxa: dict, slugs: list[str]) -> set:
    return {taxa[s].pk for s in slugs}


def read_library_file(path: Path) -> list:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LibraryError([f"The file is not valid JSON: {error}"]) from error


@transaction.atomic
def library_load(*, entries: list) -> LoadReport:
    """Load or update the shared library; loading the same entries twice changes nothing.

    Every entry is checked first: with any problem, ``LibraryError`` lists them
    all and nothing is changed. Only the shared library (exercises with no
    clinic) is touched. A curator's status change (retiring an exercise) is
    kept; texts and doses follow the file.
    """
    problems = library_problems(entries)
    if problems:
        raise LibraryError(problems)
    regions = _taxonomy(Region, REGIONS)
    categories = _taxonomy(Category, CATEGORIES)
    equipment = _taxonomy(Equipment, EQUIPMENT)
    existing = {
        e.slug: e
        for e in Exercise.objects.filter(clinic__isnull=True).prefetch_related(
            "steps", "regions", "categories", "equipment", "related"
        )
    }
    report = LoadReport(total=len(entries))
    loaded: dict[str, Exercise] = {}
    for entry in entries:
        slug = entry["slug"]
        wanted = _wanted_fields(entry)
        links = {
            "regions": _ids(regions, entry.get("regions", [])),
            "categories": _ids(categories, entry.get("categories", [])),
            "equipment": _ids(equipment, entry.get("equipment", [])),
        }
        steps = list(entry["steps"])
        exercise = existing.get(slug)
        if exercise is None:
            exercise = Exercise(slug=slug, status=Exercise.Status.PUBLISHED, **wanted)
            exercise.full_clean(exclude=["regions", "categories", "equipment", "related"])
            exercise.save()
            report.created.add(slug)
            changed = True
        else:
            changed = any(getattr(exercise, k) != v for k, v in wanted.items())
            if changed:
                for key, value in wanted.items():
                    setattr(exercise, key, value)
                exercise.full_clean()
                exercise.save()
        for name, pks in links.items():
            manager = getattr(exercise, name)
            if {obj.pk for obj in manager.all()} != pks:
                manager.set(pks)
                changed = True
        if [s.text for s in exercise.steps.all()] != steps:
            exercise.steps.all().delete()
            ExerciseStep.objects.bulk_create(
                ExerciseStep(exercise=exercise, order=i, text=text) for i, text in enumerate(steps)
            )
            changed = True
        if changed and slug not in report.created:
            report.updated.add(slug)
        loaded[slug] = exercise
    for entry in entries:
        exercise = loaded[entry["slug"]]
        related = {loaded[s].pk for s in entry.get("related", [])}
        if {e.pk for e in exercise.related.all()} != related:
            exercise.related.set(related)
            if entry["slug"] not in report.created:
                report.updated.add(entry["slug"])
        easier = loaded[entry["easier"]].pk if entry.get("easier") else None
        if exercise.easier_id != easier:
            exercise.easier_id = easier
            # The file was checked whole (no loops), so no model validation here: it
            # would see the old links of exercises later in the file.
            exercise.save(update_fields=["easier", "updated_at"])
            if entry["slug"] not in report.created:
                report.updated.add(entry["slug"])
    return report


def library_export(exercises) -> list[dict]:
    """Exercises in the library file format: what ``library_load`` reads back unchanged."""
    exported = []
    for e in exercises.select_related("easier").prefetch_related(
        "steps", "regions", "categories", "equipment", "related"
    ):
        exported.append(
            {
                "slug": e.slug,
                "name": e.name,
                "aliases": e.alias_list,
                "summary": e.summary,
                "indications": e.indications,
                "why": e.why,
                "setup": e.setup,
                "steps": [step.text for step in e.steps.all()],
                "cues": e.cue_list,
                "cautions": e.caution_list,
                "dose": e.dose.as_dict(),
                "position": e.position,
                "difficulty": e.difficulty,
                "regions": [r.slug for r in e.regions.all()],
                "categories": [c.slug for c in e.categories.all()],
                "equipment": [q.slug for q in e.equipment.all()],
                "related": [r.slug for r in e.related.all()],
                "easier": e.easier.slug if e.easier else "",
                "video_url": e.video_url,
            }
        )
    return exported


def _clinic_slug(name: str, clinic) -> str:
    return unique_slug(
        Exercise.objects.all(), f"{name} {clinic.slug}", fallback="exercise", max_length=120
    )


def _set_steps(exercise: Exercise, steps: list[str]) -> None:
    exercise.steps.all().delete()
    ExerciseStep.objects.bulk_create(
        ExerciseStep(exercise=exercise, order=i, text=text) for i, text in enumerate(steps)
    )


def _set_main_image(exercise: Exercise, upload, alt_text: str) -> None:
    exercise.images.filter(is_main=True).update(is_main=False)
    image = ExerciseImage(exercise=exercise, alt_text=alt_text, is_main=True)
    image.image.save(upload.name, upload, save=False)
    image.save()


@transaction.atomic
def clinic_exercise_save(*, form, clinic, by) -> Exercise:
    """Create or change one of the clinic's own exercises from a valid ``ExerciseForm``.

    New ones are published at once: the clinic wrote them to prescribe them.
    """
    exercise = form.save(commit=False)
    creating = exercise.pk is None
    if creating:
        exercise.clinic = clinic
        exercise.status = Exercise.Status.PUBLISHED
        exercise.slug = _clinic_slug(exercise.name, clinic)
    exercise.updated_by = by
    exercise.save()
    form.save_m2m()
    _set_steps(exercise, form.cleaned_data["steps"])
    if form.cleaned_data.get("image"):
        _set_main_image(exercise, form.cleaned_data["image"], form.cleaned_data["image_alt"])
    return exercise


@transaction.atomic
def exercise_copy_to_clinic(*, exercise: Exercise, clinic, by) -> Exercise:
    """The clinic's own copy of an exercise, to adapt; the original is untouched."""
    steps = [step.text for step in exercise.steps.all()]
    images = list(exercise.images.all())
    links = {
        name: list(getattr(exercise, name).all())
        for name in ("regions", "categories", "equipment", "related")
    }
    copy = Exercise.objects.get(pk=exercise.pk)
    copy.pk = copy.id = None
    copy._state.adding = True
    copy.name = f"{exercise.name} (our version)"[:120]
    copy.slug = _clinic_slug(exercise.name, clinic)
    copy.clinic = clinic
    copy.moved_video_signatures = []  # the original's printed links are not the copy's
    copy.status = Exercise.Status.PUBLISHED
    copy.updated_by = by
    copy.save()
    for name, objects in links.items():
        getattr(copy, name).set(objects)
    _set_steps(copy, steps)
    written: list[str | None] = []
    try:
        _copy_images(images, copy, written)
    except BaseException:  # the copy's rows roll back: its files go too
        _delete_files(ExerciseImage._meta.get_field("image").storage, written)
        raise
    return copy


def _copy_images(images: list[ExerciseImage], copy: Exercise, written: list[str | None]) -> None:
    for image in images:
        clone = ExerciseImage(
            exercise=copy,
            alt_text=image.alt_text,
            is_main=image.is_main,
            credit=image.credit,
            order=image.order,
            side=image.side,
        )
        # The picture and, for a drawing, its moving version: the copy's own files.
        for name in ("image", "animation"):
            original = getattr(image, name)
            if original:
                with original.open("rb") as handle:
                    getattr(clone, name).save(
                        (original.name or "").rsplit("/", 1)[-1],
                        ContentFile(handle.read()),
                        save=False,
                    )
                written.append(getattr(clone, name).name)
        clone.save()


# Shown under the picture on the exercise's page: who drew it, in words a clinic reads
# (it also marks the drawings this loader may replace).
ILLUSTRATION_CREDIT = "Illustration: OpenHEP's own line drawing"


@transaction.atomic
def exercises_set_status(*, exercises, status: str, by) -> int:
    """Publish or retire exercises one by one, so each change is kept in the exercise's
    history with who made it (a bulk ``update()`` would record nothing)."""
    changed = 0
    for exercise in Exercise.objects.select_for_update().filter(pk__in=exercises.values("pk")):
        if exercise.status != status:
            exercise.status = status
            exercise.updated_by = by
            exercise.save()
            changed += 1
    return changed


def illustrations_load(*, poses: dict) -> int:
    """Give each bundled exercise its generated drawing: the still picture that prints and
    its moving version for the screen. Returns how many changed.

    The drawing becomes the main picture unless a curator chose another one.
    A drawing is replaced only when it changes (its file names carry a hash of
    both SVGs), so loading twice changes nothing. Replaced files are kept: the
    patients' pages of programs already given name them in their snapshots (a few kB
    each, and only when a drawing changes). If the change is not committed, the new
    files it wrote are deleted.
    """
    written: list[str | None] = []
    try:
        return _illustrations_load(poses, written)
    except BaseException:
        _delete_files(ExerciseImage._meta.get_field("image").storage, written)
        raise


def _stored_as(stored: str | None, name: str) -> bool:
    """Whether a stored file is the one saved as ``name``: storage may have added a suffix
    ("illustration-0a1b_Xy7kP2q.svg") when a file of that name was already there."""
    stem, suffix = name.rsplit(".", 1)
    base = (stored or "").rsplit("/", 1)[-1]
    return base == name or (base.startswith(stem + "_") and base.endswith("." + suffix))


def _delete_files(storage: Storage, names: list[str | None]) -> None:
    for name in names:
        if name:
            storage.delete(name)


@transaction.atomic
def _illustrations_load(poses: dict, written: list[str | None]) -> int:
    changed = 0
    exercises = Exercise.objects.filter(clinic__isnull=True, slug__in=poses).prefetch_related(
        "images"
    )
    for exercise in exercises:
        pose = poses[exercise.slug]
        svg = render_svg(pose, title=exercise.name).encode("utf-8")
        moving = render_animation(pose, title=exercise.name).encode("utf-8")
        digest = hashlib.sha256(svg + b"\0" + moving).hexdigest()[:12]
        name, moving_name = f"illustration-{digest}.svg", f"illustration-{digest}-moving.svg"
        side = pose.get("side", "")
        images = list(exercise.images.all())
        ours = [i for i in images if i.credit == ILLUSTRATION_CREDIT]
        if (
            len(ours) == 1
            and _stored_as(ours[0].image.name, name)
            and _stored_as(ours[0].animation.name, moving_name)
            and (ours[0].alt_text, ours[0].side) == (pose["alt"], side)
        ):
            continue
        for old in ours:
            old.delete()  # the row; its files stay for the snapshots that name them
        curator_main = any(i.is_main for i in images if i not in ours)
        drawing = ExerciseImage(
            exercise=exercise,
            alt_text=pose["alt"][:250],
            is_main=not curator_main,
            credit=ILLUSTRATION_CREDIT,
            order=99,
            side=side,
        )
        drawing.image.save(name, ContentFile(svg), save=False)
        written.append(drawing.image.name)
        drawing.animation.save(moving_name, ContentFile(moving), save=False)
        written.append(drawing.animation.name)
        drawing.save()
        changed += 1
    return changed
