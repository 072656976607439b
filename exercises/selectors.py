from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, QuerySet, Window
from django.shortcuts import get_object_or_404

from clinic.access import clinic_of
from exercises.favourites import favourite_ids, with_favourites
from exercises.models import (
    Category,
    ClinicMedia,
    Equipment,
    Exercise,
    ExerciseImage,
    ExerciseStep,
    Region,
)
from exercises.search import corrected_query, matching

# The largest OFFSET our databases take (a signed 64-bit integer).
MAX_ROWS = 2**63 - 1


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
    user=None,
    favourites: set[int] | None = None,
    favourites_only: bool = False,
) -> QuerySet[Exercise]:
    """Published exercises a clinic may prescribe, best matches first.

    Given a ``user`` (or their ``favourites``, the ids when the caller has them), their
    favourites come first while no words are searched for (a search keeps its
    relevance order), and ``favourites_only`` shows only those.

    Every word must start a word of the name, aliases, summary or indications
    (so a partial word like "psoa" still finds, and "hip" does not find
    "whiplash"); plurals, synonyms and what the ranking weighs are in
    ``exercises.search``. The same on PostgreSQL and SQLite.
    """
    exercises = Exercise.objects.published().visible_to(clinic)
    query = " ".join(query.split())
    if query:
        exercises = matching(exercises, query).order_by("-rank", "name", "pk")
    if region:
        exercises = exercises.filter(regions__slug=region)
    if category:
        exercises = exercises.filter(categories__slug=category)
    if equipment:
        exercises = exercises.filter(equipment__slug=equipment)
    if position:
        exercises = exercises.filter(position=position)
    if favourites is None and user is not None:
        favourites = favourite_ids(user)
    if favourites is not None:
        exercises = with_favourites(exercises, favourites, only=favourites_only, first=not query)
    # No distinct(): each filter matches one region, category or piece of equipment,
    # so the joins never repeat an exercise (and DISTINCT doubled the query's cost).
    return exercises.prefetch_related("regions", "categories", _main_images())


def exercise_search_page(
    *, clinic, number=None, per_page: int = 24, query: str = "", **filters
) -> Page:
    """One page of ``exercise_search``, as ``Paginator.get_page(number)`` gives it.

    A search that finds nothing is tried once more with its typos corrected
    (``exercises.search.corrected_query``); the page then carries
    ``corrected_from`` (the words as typed) and ``searched_for`` (the words its
    results are for), for the page to say so. Otherwise ``searched_for`` is the query.

    Browsing (no search words) is ordered by name: a COUNT, then the page read in
    order from the (status, name) index, which stops after ``per_page`` rows.
    A search is ordered by a rank computed per match, so the database has to
    visit every match to find the page anyway; the page's ids and the number of
    matches then come from that one pass (``COUNT(*) OVER ()``, on the ids only),
    and just the page's rows are read in full. Two statements either way, as
    with Paginator, but a search tests its words on every row once, not twice.
    """
    page = _search_page(clinic=clinic, number=number, per_page=per_page, query=query, **filters)
    # Attached to the page for its templates (the builder's view passes the page on).
    vars(page).update(searched_for=query, corrected_from="")
    if query.split() and not page.paginator.count:
        library = Exercise.objects.published().visible_to(clinic)
        correction = corrected_query(library, query)
        if correction:
            page = _search_page(
                clinic=clinic, number=number, per_page=per_page, query=correction, **filters
            )
            vars(page).update(searched_for=correction, corrected_from=query)
    return page


def _search_page(*, clinic, number, per_page: int, query: str, **filters) -> Page:
    exercises = exercise_search(clinic=clinic, query=query, **filters)
    paginator = Paginator(exercises, per_page)
    if not query.split():
        return paginator.get_page(number)
    try:
        number = int(number)
    except (TypeError, ValueError):
        number = 1  # as get_page: not a number, the first page
    if number < 1 or number * per_page > MAX_ROWS:
        # Before the first page, or past any table a database can hold (an OFFSET that
        # large is an error): the last page, as get_page gives it, after a COUNT.
        return paginator.get_page(number)
    start = (number - 1) * per_page
    window = (
        exercises.prefetch_related(None)
        .annotate(matches=Window(Count("*")))
        .values_list("pk", "matches")
    )
    ids_and_matches = list(window[start : start + per_page])
    if not ids_and_matches:
        if number > 1:
            return paginator.get_page(number)  # past the end: get_page gives the last page
        paginator.count = 0
        return Page([], 1, paginator)
    paginator.count = ids_and_matches[0][1]  # what paginator's own COUNT would say
    ids = [pk for pk, _ in ids_and_matches]
    # The same queryset (same annotations, prefetching) for just these rows, in
    # the window's order. A row changed in between is left out, never an error.
    rows = {exercise.pk: exercise for exercise in exercises.filter(pk__in=ids).order_by()}
    return Page([rows[pk] for pk in ids if pk in rows], number, paginator)


def taxonomy_choices() -> dict[str, list[tuple[str, str]]]:
    """(slug, name) of every region, category and piece of equipment, in their order."""
    return {
        "region": list(Region.objects.values_list("slug", "name")),
        "category": list(Category.objects.values_list("slug", "name")),
        "equipment": list(Equipment.objects.values_list("slug", "name")),
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


def get_clinic_exercise_for(user, slug: str) -> Exercise:
    """One of the user's clinic's own exercises (shared library ones are not editable here)."""
    return get_object_or_404(
        Exercise.objects.filter(clinic=clinic_of(user)).prefetch_related("steps"), slug=slug
    )


# Chains of easier and harder versions are short (a few steps); the walk stops at this
# many steps all the same, whatever the data.
CHAIN_STEPS = 10


def progression(exercise: Exercise, clinic) -> list[list[Exercise]]:
    """The exercise's chain of versions, easiest first, one list per step: the easier
    versions one below the other, the exercise itself, then its harder versions step by
    step (a step may have more than one: two ways to make the same exercise harder).
    Only published exercises the clinic can see; ``[[exercise]]`` when there is no chain."""
    visible = Exercise.objects.published().visible_to(clinic)
    seen = {exercise.pk}
    below: list[list[Exercise]] = []
    pk = exercise.easier_id
    while pk is not None and pk not in seen and len(below) < CHAIN_STEPS:
        easier = visible.filter(pk=pk).first()
        if easier is None:
            break
        seen.add(pk)
        below.insert(0, [easier])
        pk = easier.easier_id
    above: list[list[Exercise]] = []
    step = [exercise]
    while step and len(above) < CHAIN_STEPS:
        step = list(visible.filter(easier__in=step).exclude(pk__in=seen).order_by("name", "pk"))
        if step:
            seen.update(e.pk for e in step)
            above.append(step)
    return [*below, [exercise], *above]


def versions_for(exercises, clinic) -> dict[int, tuple[Exercise | None, Exercise | None]]:
    """For each exercise's pk: its easier and its harder version (the first by name when
    there are several), published and visible to the clinic, or ``None``. Two queries."""
    exercises = list(exercises)
    visible = Exercise.objects.published().visible_to(clinic)
    easier = {e.pk: e for e in visible.filter(pk__in={e.easier_id for e in exercises})}
    harder: dict[int, Exercise] = {}
    for found in visible.filter(easier__in=exercises).order_by("name", "pk"):
        harder.setdefault(found.easier_id, found)
    return {e.pk: (easier.get(e.easier_id), harder.get(e.pk)) for e in exercises}


def clinic_media_of(clinic, exercise: Exercise) -> list[ClinicMedia]:
    """The clinic's own photos and video for ``exercise``: never another clinic's."""
    return list(ClinicMedia.objects.filter(clinic=clinic, exercise=exercise))


def get_clinic_media_for(user, exercise: Exercise, pk) -> ClinicMedia:
    """One of the user's clinic's media for ``exercise``; another clinic's is a 404."""
    return get_object_or_404(
        ClinicMedia.objects.select_related("exercise", "clinic"),
        clinic=clinic_of(user),
        exercise=exercise,
        pk=pk,
    )


def get_public_clinic_media(key: str) -> ClinicMedia:
    """A clinic's video (file or link) or photo by the key its printed link carries."""
    return get_object_or_404(ClinicMedia.objects.select_related("exercise"), key=key)
