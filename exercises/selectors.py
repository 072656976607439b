from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Prefetch,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.functions import Concat
from django.shortcuts import get_object_or_404

from clinic.access import clinic_of
from exercises.models import Category, Equipment, Exercise, ExerciseImage, ExerciseStep, Region

SEARCH_FIELDS = ("name", "aliases", "summary", "indications")
# The largest OFFSET our databases take (a signed 64-bit integer).
MAX_ROWS = 2**63 - 1


def search_text() -> Concat:
    """The searched fields as one text, for one substring test per word.

    Joined by a space: a search word holds none (the query is split on
    whitespace), so it can only match inside one field, as four separate
    tests would. On PostgreSQL migration 0004 indexes exactly this expression
    (``UPPER(…) gin_trgm_ops``, what ``icontains`` compares): change both together.
    """
    parts = []
    for field in SEARCH_FIELDS:
        parts += [F(field), Value(" ")]
    return Concat(*parts[:-1], output_field=TextField())


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
    """Published exercises a clinic may prescribe, best matches first.

    Every word must appear in the name, aliases, summary or indications (so a
    partial word like "psoa" still finds). On PostgreSQL the order is full-text
    rank (name and aliases weigh most, stemmed: "stretches" finds "stretch"),
    and a full-text match alone is enough; elsewhere, name matches come first.
    """
    exercises = Exercise.objects.published().visible_to(clinic)
    query = " ".join(query.split())
    if query:
        if connection.vendor == "postgresql":
            # search_vector is the stored, GIN-indexed document (migration 0003), and
            # the substring test runs on the one expression migration 0004 indexes.
            terms = SearchQuery(query, search_type="websearch", config="english")
            every_word = Q()
            for word in query.split():
                every_word &= Q(search_text__icontains=word)
            # The full-text match first: when the planner scans the table anyway
            # (a word in a third of it), rows it finds skip the costly UPPER().
            exercises = (
                exercises.alias(search_text=search_text())
                .annotate(rank=SearchRank(F("search_vector"), terms))
                .filter(Q(search_vector=terms) | every_word)
            )
        else:
            # Without an index, four short tests beat one on the joined text:
            # a match in the name skips the other three.
            every_word = Q()
            for word in query.split():
                any_field = Q()
                for field in SEARCH_FIELDS:
                    any_field |= Q(**{f"{field}__icontains": word})
                every_word &= any_field
            exercises = exercises.filter(every_word).annotate(
                rank=Case(
                    When(name__icontains=query, then=Value(1.0)),
                    When(aliases__icontains=query, then=Value(0.8)),
                    default=Value(0.1),
                    output_field=FloatField(),
                )
            )
        exercises = exercises.order_by("-rank", "name")
    if region:
        exercises = exercises.filter(regions__slug=region)
    if category:
        exercises = exercises.filter(categories__slug=category)
    if equipment:
        exercises = exercises.filter(equipment__slug=equipment)
    if position:
        exercises = exercises.filter(position=position)
    # No distinct(): each filter matches one region, category or piece of equipment,
    # so the joins never repeat an exercise (and DISTINCT doubled the query's cost).
    return exercises.prefetch_related("regions", "categories", _main_images())


def exercise_search_page(
    *, clinic, number=None, per_page: int = 24, query: str = "", **filters: str
) -> Page:
    """One page of ``exercise_search``, as ``Paginator.get_page(number)`` gives it.

    Browsing (no search words) is ordered by name: a COUNT, then the page read in
    order from the (status, name) index, which stops after ``per_page`` rows.
    A search is ordered by a rank computed per match, so the database has to
    visit every match to find the page anyway; the page's ids and the number of
    matches then come from that one pass (``COUNT(*) OVER ()``, on the ids only),
    and just the page's rows are read in full. Two statements either way, as
    with Paginator, but a search tests its words on every row once, not twice.
    """
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
