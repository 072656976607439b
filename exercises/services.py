"""Writes to the exercise library: loading the bundled library."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from exercises.models import Category, Equipment, Exercise, ExerciseStep, Region

REGIONS = [
    ("neck", "Neck"),
    ("shoulders", "Shoulders"),
    ("upper-back", "Upper back"),
    ("chest", "Chest"),
    ("lower-back", "Lower back"),
    ("core", "Core"),
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
    ("table", "Table"),
    ("dumbbell", "Dumbbell"),
    ("pillow", "Pillow"),
    ("doorway", "Doorway"),
]
TEXT_FIELDS = ("name", "summary", "indications", "why", "setup", "video_url")


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
        hold_seconds=dose.get("hold_seconds"),
        reps=dose.get("reps"),
        sets=dose.get("sets"),
        side=dose.get("side") or "none",
        times_per_day=dose.get("times_per_day"),
        days_per_week=dose.get("days_per_week"),
    )
    return values


def _lookup(taxa: dict, slugs: list[str], what: str, slug: str) -> set:
    unknown = sorted(set(slugs) - set(taxa))
    if unknown:
        raise ValueError(f"{slug}: unknown {what} {', '.join(unknown)}")
    return {taxa[s].pk for s in slugs}


@transaction.atomic
def library_load(*, path: Path) -> LoadReport:
    """Load or update the bundled library; a second run with the same file changes nothing.

    Only the shared library (exercises with no clinic) is touched. A curator's
    status change (retiring an exercise) is kept; texts and doses follow the file.
    """
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    regions = _taxonomy(Region, REGIONS)
    categories = _taxonomy(Category, CATEGORIES)
    equipment = _taxonomy(Equipment, EQUIPMENT)
    existing = {
        e.slug: e
        for e in Exercise.objects.filter(clinic__isnull=True).prefetch_related(
            "steps", "regions", "categories", "equipment", "related"
        )
    }
    taken = set(Exercise.objects.filter(clinic__isnull=False).values_list("slug", flat=True))
    report = LoadReport(total=len(entries))
    loaded: dict[str, Exercise] = {}
    for entry in entries:
        slug = entry["slug"]
        if slug in taken:
            raise ValueError(f"{slug}: a clinic's own exercise already uses this slug")
        wanted = _wanted_fields(entry)
        links = {
            "regions": _lookup(regions, entry.get("regions", []), "region", slug),
            "categories": _lookup(categories, entry.get("categories", []), "category", slug),
            "equipment": _lookup(equipment, entry.get("equipment", []), "equipment", slug),
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
        missing = [s for s in entry.get("related", []) if s not in loaded]
        if missing:
            raise ValueError(f"{entry['slug']}: related exercise(s) not in the file: {missing}")
        wanted = {loaded[s].pk for s in entry.get("related", [])}
        if {e.pk for e in exercise.related.all()} != wanted:
            exercise.related.set(wanted)
            if entry["slug"] not in report.created:
                report.updated.add(entry["slug"])
    return report
