"""Favourites: the exercises a staff member starred, found first in the builder.

A favourite is the user's own bookmark of library data, not patient data, so it
writes no audit entry. Only an exercise the user's clinic may see can be starred:
the view finds it through ``get_exercise_for`` (another clinic's is a 404).
"""

from django.db import transaction
from django.db.models import Case, QuerySet, Value, When

from exercises.models import Exercise, Favourite


def favourite_set(*, user, exercise: Exercise, on: bool) -> bool:
    """Star (``on``) or unstar ``exercise`` for ``user``; returns whether it is now a
    favourite. Says the state wanted rather than flipping it, so a double click or a
    repeated request leaves the star as the user last saw it."""
    with transaction.atomic():
        if on:
            Favourite.objects.get_or_create(user=user, exercise=exercise)
        else:
            Favourite.objects.filter(user=user, exercise=exercise).delete()
    return on


def favourite_ids(user) -> set[int]:
    """The ids of the exercises ``user`` starred (one query), for the stars on cards."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(Favourite.objects.filter(user=user).values_list("exercise_id", flat=True))


def is_favourite(user, exercise: Exercise) -> bool:
    return Favourite.objects.filter(user=user, exercise=exercise).exists()


def with_favourites(exercises: QuerySet[Exercise], starred: set[int], *, only: bool, first: bool):
    """``exercises`` narrowed to the ``starred`` ids (``only``), or with them ordered
    before the rest, each part by name (``first``: browsing, where no rank orders them).
    Without favourites browsing keeps its order by name, read a page at a time from the
    name index; ordering by them sorts every exercise the clinic may see."""
    if only:
        return exercises.filter(pk__in=starred)
    if first and starred:
        first_ones = Case(When(pk__in=starred, then=Value(0)), default=Value(1))
        return exercises.alias(starred=first_ones).order_by("starred", "name", "pk")
    return exercises
