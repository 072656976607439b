import pytest
from django.urls import reverse

from tests.factories import ExerciseFactory


@pytest.fixture
def psoas(db):
    return ExerciseFactory(
        name="Standing psoas stretch",
        slug="psoas-stretch-standing",
        aliases="hip flexor stretch, lunge stretch",
        summary="A split-stance stretch for the front of the hip.",
        indications="tight hip flexors, anterior pelvic tilt",
    )


@pytest.mark.parametrize("query", ["psoas", "PSOAS", "hip flexor", "pelvic tilt", "lunge"])
def test_search_finds_the_psoas_stretch(alice_client, psoas, query):
    ExerciseFactory(name="Wrist flexor stretch", summary="For the forearm.")
    response = alice_client.get(reverse("exercises:list"), {"q": query})
    page = response.content.decode()
    assert "Standing psoas stretch" in page
    assert "Wrist flexor stretch" not in page


def test_search_hides_drafts_retired_and_other_clinics(alice_client, psoas, clinic, other_clinic):
    ExerciseFactory(name="Psoas draft", status="draft")
    ExerciseFactory(name="Psoas retired", status="retired")
    ExerciseFactory(name="Psoas of another clinic", clinic=other_clinic)
    ExerciseFactory(name="Psoas of our clinic", clinic=clinic)
    page = alice_client.get(reverse("exercises:list"), {"q": "psoas"}).content.decode()
    assert "Standing psoas stretch" in page and "Psoas of our clinic" in page
    for hidden in ("Psoas draft", "Psoas retired", "Psoas of another clinic"):
        assert hidden not in page


def test_exercise_page_shows_steps_and_dose(alice_client, psoas):
    page = alice_client.get(reverse("exercises:detail", args=[psoas.slug])).content.decode()
    assert "Move gently." in page
    assert "Hold 30 seconds · 3 times · each side · twice a day" in page


def test_other_clinics_private_exercise_is_404(client, charlie, clinic):
    private = ExerciseFactory(name="Private", clinic=clinic)
    client.force_login(charlie)
    assert client.get(reverse("exercises:detail", args=[private.slug])).status_code == 404


def test_search_query_count_does_not_grow_with_results(alice_client, django_assert_max_num_queries):
    ExerciseFactory.create_batch(3)
    with django_assert_max_num_queries(20) as few:
        alice_client.get(reverse("exercises:list"))
    ExerciseFactory.create_batch(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice_client.get(reverse("exercises:list"))


def test_short_video_link_redirects_anyone_to_the_video(client, db):
    ExerciseFactory(name="Calf raise", video_url="https://videos.clinic.example/calf-raise")
    response = client.get("/v/calf-raise")
    assert response.status_code == 302
    assert response.url == "https://videos.clinic.example/calf-raise"


@pytest.mark.parametrize(
    ("status", "video"),
    [
        ("draft", "https://videos.clinic.example/x"),
        ("published", ""),
        ("published", "ftp://videos.clinic.example/x"),
    ],
)
def test_short_video_link_is_404_without_a_public_video(client, db, status, video):
    ExerciseFactory(name="Calf raise", status=status, video_url=video)
    assert client.get("/v/calf-raise").status_code == 404
