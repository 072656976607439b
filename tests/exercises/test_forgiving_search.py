"""The library search forgives: word starts, plurals, synonyms, typos and relevance,
the same on SQLite and PostgreSQL (the suite runs on both)."""

import string

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exercises.models import Exercise
from exercises.search import corrected_query, stem, terms_of, typed_words
from exercises.selectors import exercise_search, exercise_search_page
from tests.factories import ClinicFactory, ExerciseFactory

# Five exercises written as the bundled library writes them.
LIBRARY = [
    (
        "Lying chin nod",
        "cranio-cervical flexion, CCF, deep neck flexor exercise, head nod",
        "A tiny nod lying down for the deep muscles at the front of the neck.",
        "neck pain, headaches that start in the neck, recovery after whiplash",
    ),
    (
        "Half-kneeling hip flexor stretch",
        "kneeling lunge stretch, kneeling psoas stretch, hip flexors",
        "A kneeling stretch for the front of the hip.",
        "tight hips from sitting",
    ),
    (
        "Standing psoas stretch",
        "hip flexor stretch, lunge stretch, psoas",
        "A split-stance stretch for the front of the hip.",
        "tight hip flexors, anterior pelvic tilt",
    ),
    (
        "Seated hamstring stretch",
        "chair hamstring stretch, hamstrings, seated leg stretch",
        "Straightening one knee on a chair to stretch the back of the thigh.",
        "tight hamstrings, desk workers",
    ),
    (
        "Lying hamstring stretch with towel",
        "supine hamstring stretch, towel hamstring stretch, strap stretch",
        "A towel round the foot lifts the straight leg.",
        "tight hamstrings, low back stiffness",
    ),
    (
        "Doorway chest stretch",
        "pectoralis stretch, corner stretch",
        "Arms on a door frame, step through to open the chest.",
        "rounded shoulders",
    ),
    (
        "Side-lying leg raise",
        "side leg raise, hip abduction",
        "Lifting the top leg while lying on one side.",
        "weak outer hip, lateral hip pain",
    ),
    (
        "Knee to chest stretch",
        "knee hug",
        "Hugging one knee in while lying on the back.",
        "lumbar stiffness, lower back pain",
    ),
    (
        "Calf stretch (straight knee)",
        "gastrocnemius stretch, wall calf stretch",
        "A lunge against the wall with the back knee straight.",
        "tight calves",
    ),
]


@pytest.fixture
def library(db):
    for name, aliases, summary, indications in LIBRARY:
        ExerciseFactory(name=name, aliases=aliases, summary=summary, indications=indications)


def found(query: str, clinic=None) -> list[str]:
    return [e.name for e in exercise_search(clinic=clinic, query=query)]


def test_a_word_matches_only_where_a_word_starts(library):
    # "hip" is inside "whiplash" and "flexor" is in "deep neck flexor": not the chin nod.
    names = found("hip flexor")
    assert "Lying chin nod" not in names
    assert set(names) == {"Half-kneeling hip flexor stretch", "Standing psoas stretch"}
    assert found("lash") == []  # the end of "whiplash" is not a word
    assert found("psoa") == ["Standing psoas stretch", "Half-kneeling hip flexor stretch"]


def test_multi_word_results_come_best_first(library):
    # Both words in the name, then both in the aliases: not alphabetical.
    assert found("hip flexor") == ["Half-kneeling hip flexor stretch", "Standing psoas stretch"]
    names = found("hamstring stretch")
    # Both words in both names, then alphabetical; the towel stretch's aliases do not
    # lift it above the name matches of others.
    assert names[:2] == ["Lying hamstring stretch with towel", "Seated hamstring stretch"]
    assert found("towel hamstring") == ["Lying hamstring stretch with towel"]


@pytest.mark.parametrize("query", ["stretches", "stretching", "Stretches,"])
def test_plurals_and_endings_find_the_word(library, query):
    assert len(found(query)) == 7
    assert found(query) == found("stretch")


def test_stems():
    assert stem("stretches") == "stretch"
    assert stem("calves") == "calve"
    assert stem("squatting") == "squat"
    assert stem("rolling") == "roll"
    assert stem("injuries") == "injur"
    assert stem("press") == "press"
    assert stem("abs") == "abs"  # too short to guess


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hammy", {"Seated hamstring stretch", "Lying hamstring stretch with towel"}),
        ("hammies stretch", {"Seated hamstring stretch", "Lying hamstring stretch with towel"}),
        # pec means chest, so the knee-to-chest stretch comes too (after it, alphabetically)
        ("pec", {"Doorway chest stretch", "Knee to chest stretch"}),
        ("pectoral", {"Doorway chest stretch", "Knee to chest stretch"}),
        ("chest", {"Doorway chest stretch", "Knee to chest stretch"}),
        ("gastroc", {"Calf stretch (straight knee)"}),
        ("calves", {"Calf stretch (straight knee)"}),
        ("cervical", {"Lying chin nod"}),
        ("low back", {"Lying hamstring stretch with towel", "Knee to chest stretch"}),
        ("lumbar", {"Lying hamstring stretch with towel", "Knee to chest stretch"}),
    ],
)
def test_synonyms_find_the_other_words(library, query, expected):
    assert set(found(query)) == expected


def test_a_short_synonym_is_a_whole_word(library):
    # "lat" means the latissimus, not the start of "lateral".
    assert found("lat") == []
    assert found("lateral") == ["Side-lying leg raise"]


def test_stop_words_are_left_out(library):
    assert found("stretch for the hip") == found("stretch hip")
    # Only little words: searched for after all.
    assert "Lying chin nod" in found("the")


@pytest.mark.parametrize("query", ["%", "_", "\\", "50%", "(", "a+b", "[x]", "hip)", "€", "^$"])
def test_regular_expression_characters_are_plain(library, query):
    # A word of punctuation matches nothing; punctuation around a word is dropped.
    expected = found("hip") if query == "hip)" else []
    assert found(query) == expected


def test_a_typo_is_corrected_when_nothing_matches(library):
    page = exercise_search_page(clinic=None, query="hamstring strech")
    assert page.corrected_from == "hamstring strech"
    assert page.searched_for == "hamstring stretch"
    names = [e.name for e in page.object_list]
    assert names == ["Lying hamstring stretch with towel", "Seated hamstring stretch"]
    assert page.paginator.count == 2


@pytest.mark.parametrize(
    ("query", "correction"),
    [
        ("hamstirng", "hamstring"),
        ("sholder", "shoulders"),
        ("gastrocnemuis", "gastrocnemius"),
        ("psoas strech", "psoas stretch"),
        ("streching for hips", "stretch for hips"),
    ],
)
def test_corrections(library, query, correction):
    assert corrected_query(Exercise.objects.published(), query) == correction


def test_no_correction_when_a_word_matches_or_nothing_is_close(library):
    library_ = Exercise.objects.published()
    assert corrected_query(library_, "hip") is None
    assert corrected_query(library_, "zzzzqqq") is None
    assert corrected_query(library_, "hip knitting") is None
    page = exercise_search_page(clinic=None, query="zzzzqqq")
    assert page.paginator.count == 0 and page.corrected_from == ""


def test_a_search_that_finds_keeps_its_words(library):
    page = exercise_search_page(clinic=None, query="psoas")
    assert page.searched_for == "psoas" and page.corrected_from == ""


def test_another_clinics_exercises_are_never_found_nor_suggested(library):
    ours, theirs = ClinicFactory(), ClinicFactory()
    ExerciseFactory(name="Ours: wobble board", clinic=ours)
    ExerciseFactory(name="Theirs: trampoline bounce", clinic=theirs)
    assert found("wobble", clinic=ours) == ["Ours: wobble board"]
    assert found("trampoline", clinic=ours) == []
    # A typo never brings another clinic's word back as a suggestion.
    library_ = Exercise.objects.published().visible_to(ours)
    assert corrected_query(library_, "trampolin") is None
    assert corrected_query(library_, "wobbel") == "wobble"
    assert found("trampoline", clinic=theirs) == ["Theirs: trampoline bounce"]
    # The words to correct against follow the library at once (on SQLite they are
    # cached until an exercise is added, changed or retired).
    assert corrected_query(library_, "trampolene") is None
    ExerciseFactory(name="Ours: trampoline jog", clinic=ours)
    assert corrected_query(library_.all(), "trampolene") == "trampoline"
    Exercise.objects.filter(name="Ours: trampoline jog").update(status=Exercise.Status.RETIRED)
    assert corrected_query(library_.all(), "trampolene") is None


def test_the_query_is_read_into_terms():
    assert typed_words("  (Hip,  FLEXOR)  ") == ["hip", "flexor"]
    terms = terms_of("stretch for the lower back")
    assert [t.typed for t in terms] == ["stretch", "lower back"]
    assert {a.text for a in terms[1].alternatives} == {"low back", "lower back", "lumbar"}


def test_a_search_page_is_still_two_statements(library):
    with CaptureQueriesContext(connection) as captured:
        page = exercise_search_page(clinic=None, per_page=2, query="hamstring stretch")
        list(page.object_list)
    sql = [q["sql"] for q in captured.captured_queries]
    assert len([s for s in sql if 'FROM "exercises_exercise" ' in s]) == 2


def test_library_page_offers_the_correction(alice_client, library):
    page = alice_client.get(reverse("exercises:list"), {"q": "hamstring strech"})
    text = " ".join(page.content.decode().split())
    assert "No exercise matches “hamstring strech”." in text
    assert 'Did you mean <a href="?q=hamstring+stretch">hamstring stretch</a>?' in text
    assert "Seated hamstring stretch" in text


def test_the_correction_is_escaped(alice_client, library):
    page = alice_client.get(reverse("exercises:list"), {"q": "<b>strech</b>"}).content.decode()
    assert "<b>strech" not in page
    assert "&lt;b&gt;strech&lt;/b&gt;" in page


# Any text a form lets through (no NUL byte, no lone surrogate) is a search, never an
# error: the regular expressions are built from it on both databases.
TYPED = st.text(
    st.one_of(
        st.sampled_from(list(string.punctuation + " éÉß€ǅ٣\u0301\u200b“”’")),
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
    ),
    max_size=30,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=TYPED)
def test_any_text_is_a_search_not_an_error(library, query):
    page = exercise_search_page(clinic=None, query=query, per_page=50)
    names = [e.name for e in page.object_list]
    if not page.corrected_from:
        assert names == found(query)


@pytest.mark.parametrize("written", ["low  back ache", "low\nback ache", "lower\tback ache"])
def test_a_phrase_matches_whatever_its_spacing(db, written):
    """Curators type double spaces and line breaks; "low back" still finds the text."""
    ExerciseFactory(name="Pelvic tilt", aliases="", summary="Tilting.", indications=written)
    assert found("low back") == ["Pelvic tilt"]
    assert found("lumbar") == ["Pelvic tilt"]
