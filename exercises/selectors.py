from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from clinic.access import clinic_of
from exercises.models import Category, Equipment, Exercise, ExerciseImage, ExerciseStep, Region

SEARCH_FIELDS = ("name", "aliases", "summary", "indications")


def _main_images():
    return Prefetch("images", queryset=ExerciseImage.objects.filter(is_main=True), to_attr="main")


def exercise_search(
    *,
    clinic,
    query: str = "",
    region: str = "",
    category: str = "",
    equipment: str = "",
    position: str = "",
) -> QuerySet[Exercise]:
    """Published exercises a clinic may prescribe, matching every word of ``query``."""
    exercises = Exercise.objects.published().visible_to(clinic)
    for word in query.split():
        match = Q()
        for field in SEARCH_FIELDS:
            match |= Q(**{f"{field}__icontains": word})
        exercises = exercises.filter(match)
    if region:
        exercises = exercises.filter(regions__slug=region)
    if category:
        exercises = exercises.filter(categories__slug=category)
    if equipment:
        exercises = exercises.filter(equipment__slug=equipment)
    if position:
        exercises = exercises.filter(position=position)
    return exercises.distinct().prefetch_related("regions", "categories", _main_images())


def exercise_filters() -> dict:
    return {
        "regions": Region.objects.all(),
        "categories": Category.objects.all(),
        "equipment": Equipment.objects.all(),
        "positions": Exercise.Position.choices,
    }


def get_exercise_for(user, slug: str) -> Exercise:
    """An exercise the user's clinic can see: shared or its own, not a draft of the library."""
    exercises = (
        Exercise.objects.visible_to(clinic_of(user))
        .exclude(status=Exercise.Status.DRAFT)
        .prefetch_related(
            Prefetch("steps", queryset=ExerciseStep.objects.order_by("order", "pk")),
            "images",
            "regions",
            "categories",
            "equipment",
            Prefetch("related", queryset=Exercise.objects.published()),
        )
    )
    return get_object_or_404(exercises, slug=slug)


def get_prescribable_exercise_for(user, pk) -> Exercise:
    exercises = Exercise.objects.published().visible_to(clinic_of(user))
    return get_object_or_404(exercises, pk=pk)
