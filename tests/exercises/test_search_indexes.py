"""The library search's substring matching, and on PostgreSQL the trigram index behind it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exercises.models import Exercise
from exercises.selectors import exercise_search, exercise_search_page
from tests.factories import ExerciseFactory, UserFactory

TRIGRAM_INDEX = "exercise_search_trgm_idx"


@pytest.fixture
def psoas(db):
    return ExerciseFactory(
        name="Standing psoas stretch",
        aliases="hip flexor stretch, lunge stretch",
        summary="A split-stance stretch for the front of the hip.",
        indications="tight hip flexors, anterior pelvic tilt",
    )


@pytest.fixture
def wrist(db):
    return ExerciseFactory(
        name="Wrist flexor stretch",
        aliases="forearm stretch",
        summary="For the forearm.",
        indications="tennis elbow",
    )


def found(query: str) -> list[str]:
    return [e.name for e in exercise_search(clinic=None, query=query)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("psoa", ["Standing psoas stretch"]),  # part of a word in the name
        ("PSOA", ["Standing psoas stretch"]),
        ("lunge", ["Standing psoas stretch"]),  # a word only in the aliases
        ("forearm", ["Wrist flexor stretch"]),  # aliases and summary
        ("pelvic", ["Standing psoas stretch"]),  # only in the indications
        ("tennis elb", ["Wrist flexor stretch"]),  # every word, anywhere
        ("psoas elbow", []),  # every word must match the same exercise
    ],
)
def test_substring_search_finds_the_same_exercises(psoas, wrist, query, expected):
    assert found(query) == expected


def test_a_word_never_matches_across_two_fields(psoas):
    # The fields are searched as one text joined by spaces, and a word has none:
    # the end of the name and the start of the aliases do not make a word.
    assert found("stretchhip") == []  # name, aliases
    assert found("stretchA") == []  # aliases, summary
    assert found("hip.tight") == []  # summary, indications
    assert found("stretch hip") == ["Standing psoas stretch"]


@pytest.mark.parametrize("query", ["%", "_", "\\", "50%"])
def test_like_wildcards_in_a_query_are_plain_characters(psoas, wrist, query):
    assert found(query) == []


def test_trigram_index_exists_on_postgresql_and_sqlite_is_left_alone(db):
    if connection.vendor == "sqlite":
        # The migration does nothing on SQLite (it has no trigram indexes): no index of
        # that name, and the table still has its ordinary ones.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'exercises_exercise'"
            )
            names = {row[0] for row in cursor.fetchall()}
        assert TRIGRAM_INDEX not in names and "exercise_status_name_idx" in names
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == ("pg_trgm",)
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE indexname = %s", [TRIGRAM_INDEX]
        )
        table, definition = cursor.fetchone()
    assert table == "exercises_exercise"
    assert "USING gin" in definition and "gin_trgm_ops" in definition
    for column in ("name", "aliases", "summary", "indications"):
        assert column in definition


def many_exercises(n: int) -> None:
    """``n`` published exercises, a dozen of them psoas stretches, the rest not.

    With texts as long as the bundled library's (about 530 characters of why,
    set-up, cues and cautions; rows of about 1.3 kB), so the table has the size
    of a real one: the planner weighs an index against reading all of it.
    """
    kinds = [
        ("Calf raise", "heel raise", "Rise onto the toes.", "tight calves, achilles"),
        ("Wall sit", "wall squat", "Sit against a wall.", "weak quads, knee pain"),
        ("Bird dog", "quadruped reach", "Reach opposite arm and leg.", "low back pain"),
        ("Clamshell", "side-lying clam", "Open the knees like a shell.", "weak glutes"),
        ("Chin tuck", "neck retraction", "Draw the chin straight back.", "forward head"),
    ]
    exercises = []
    for i in range(n):
        name, aliases, summary, indications = kinds[i % len(kinds)]
        exercises.append(
            Exercise(
                name=f"{name} {i}",
                slug=f"bulk-{i}",
                aliases=aliases,
                summary=summary,
                indications=indications,
                why=f"{summary} It builds strength and control where you need it most. " * 2,
                setup="Find a clear space and a sturdy chair to hold. " * 2,
                cues="Breathe out as you move.\nKeep the movement slow.\nStay tall.\n" * 2,
                cautions="Stop if the pain is sharp.\nEase off if you feel dizzy.\n" * 2,
                status=Exercise.Status.PUBLISHED,
            )
        )
    for i in range(0, n, n // 12):
        exercises[i].name = f"Standing psoas stretch {i}"
        exercises[i].aliases = "hip flexor stretch"
    Exercise.objects.bulk_create(exercises, batch_size=1000)


def plans_of_search(query: str) -> list[str]:
    """EXPLAIN of the statements the library page runs for a search (exercise_search_page):
    the page's ids with the number of matches, then the page's rows by id."""
    with CaptureQueriesContext(connection) as captured:
        list(exercise_search_page(clinic=None, query=query).object_list)
    statements = [q["sql"] for q in captured.captured_queries]
    statements = [sql for sql in statements if 'FROM "exercises_exercise" ' in sql]
    plans = []
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute("EXPLAIN " + sql)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.django_db(transaction=True)  # VACUUM cannot run inside a transaction
def test_planner_uses_the_trigram_index_for_a_selective_search():
    many_exercises(3000)
    if connection.vendor == "sqlite":
        # No index can serve a substring search on SQLite: the same searches over the
        # same 3,000 rows must still find exactly the dozen that match.
        for query in ("psoa", "flex", "hip flexor", "psoas stretch"):
            assert len(found(query)) == 12, query
        return
    with connection.cursor() as cursor:
        # What autovacuum does after a bulk load: statistics, so the planner knows
        # a dozen rows of 3,000 match, and GIN's pending list merged into the index
        # (no enable_seqscan tricks: the planner has to choose the index itself).
        cursor.execute("VACUUM ANALYZE exercises_exercise")
    for query in ("psoa", "flex", "hip flexor", "psoas stretch"):
        assert len(found(query)) == 12, query
        matches, rows = plans_of_search(query)
        assert f"Bitmap Index Scan on {TRIGRAM_INDEX}" in matches, matches
        for plan in (matches, rows):  # the page's rows: by primary key
            assert "Seq Scan" not in plan, plan


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signed_in", [False, True])
def test_browsing_reads_the_page_from_the_name_index(signed_in):
    """Also for a user without favourites: ordering by them would sort every row."""
    many_exercises(3000)
    user = UserFactory() if signed_in else None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE exercises_exercise")
    explain = "EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with CaptureQueriesContext(connection) as captured:
        list(exercise_search_page(clinic=None, user=user).object_list)
    pages = [q["sql"] for q in captured.captured_queries if "LIMIT" in q["sql"]]
    page = max(pages, key=len)  # not the favourites' EXISTS probe
    with connection.cursor() as cursor:
        cursor.execute(explain + page)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
    assert "exercise_status_name_idx" in plan, plan
    assert "Sort" not in plan and "B-TREE" not in plan, plan  # read in order, not sorted
