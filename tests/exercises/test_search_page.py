"""exercise_search_page: the library's page, the same as Paginator.get_page would give.

A search counts its matches in the same pass that finds the page (COUNT(*) OVER
()); these tests hold it to Paginator's answer for every kind of page number.
"""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exercises.selectors import exercise_search, exercise_search_page
from tests.factories import ExerciseFactory

PER_PAGE = 4


@pytest.fixture
def stretches(db):
    # 10 that match "stretch" (3 pages of 4), ranked by where the word is, and 3 that don't.
    for i in range(4):
        ExerciseFactory(name=f"Calf stretch {i}")
    for i in range(3):
        ExerciseFactory(name=f"Hip opener {i}", aliases="hip flexor stretch")
    for i in range(3):
        ExerciseFactory(name=f"Neck tilt {i}", summary="A gentle stretch for the neck.")
    for i in range(3):
        ExerciseFactory(name=f"Wall sit {i}", summary="Strength for the quads.")


def as_paginator(query: str, number) -> tuple:
    page = Paginator(exercise_search(clinic=None, query=query), PER_PAGE).get_page(number)
    return described(page)


def described(page) -> tuple:
    return (
        [e.name for e in page.object_list],
        page.number,
        page.paginator.count,
        page.paginator.num_pages,
        page.has_previous(),
        page.has_next(),
    )


@pytest.mark.parametrize("query", ["stretch", "STRETCH", "stretch hip", "", "nothing-like-it"])
@pytest.mark.parametrize(
    "number",
    [None, "", "1", "2", "3", "4", "99", "0", "-1", "abc", "2.0", str(2**62), str(10**30)],
)
def test_page_is_what_paginator_gives(stretches, query, number):
    page = exercise_search_page(clinic=None, number=number, per_page=PER_PAGE, query=query)
    assert described(page) == as_paginator(query, number)


def test_filters_apply_to_the_page_and_its_count(stretches):
    page = exercise_search_page(clinic=None, per_page=PER_PAGE, query="stretch", position="sitting")
    assert page.paginator.count == 0 and list(page.object_list) == []


def test_search_page_takes_two_statements_at_most(stretches):
    # The ids with the number of matches, then the page's rows (the prefetches
    # of regions, categories and pictures come on top, as before).
    with CaptureQueriesContext(connection) as captured:
        page = exercise_search_page(clinic=None, number="2", per_page=PER_PAGE, query="stretch")
        list(page.object_list)
        assert page.paginator.num_pages == 3  # 10 matches, 4 a page
    sql = [q["sql"] for q in captured.captured_queries]
    from_exercise_table = [s for s in sql if 'FROM "exercises_exercise" ' in s]
    assert len(from_exercise_table) == 2
    assert "OVER ()" in from_exercise_table[0]
