"""Favourites: the exercises a staff member starred, found first in the builder.

A favourite is the user's own bookmark of library data, not patient data, so it
writes no audit entry. Only an exercise the user's clinic may see can be starred:
the view finds it through ``get_exercise_for`` (another clinic's is a 404).
"""

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

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


def with_favourites(exercises: QuerySet[Exercise], user, *, only: bool, first: bool):
    """``exercises`` narrowed to ``user``'s favourites (``only``), or with them ordered
    before the rest, each part by name (``first``: browsing, where no rank orders them)."""
    starred = Favourite.objects.filter(user=user, exercise=OuterRef("pk"))
    if only:
        exercises = exercises.filter(Exists(starred))
    elif first and Favourite.objects.filter(user=user).exists():
        # Only with favourites to put first: ordering by them sorts every exercise the
        # clinic may see, where browsing by name reads one page from the name index
        # (47 ms against 17 at 10,000 exercises in the bench).
        exercises = exercises.alias(starred=Exists(starred)).order_by("-starred", "name", "pk")
    return exercises
