import factory
import pytest
from django.urls import reverse

from clinic.audit import Actor
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
    assert "Hold 30 seconds · 3 repetitions · each side · twice a day" in page


def test_exercise_page_prints_the_hold_of_the_default_dose(alice_client, db):
    """A step that says "{hold}" reads as the handout would print it with the default dose,
    never as the placeholder."""
    bridge = ExerciseFactory(
        name="Glute bridge",
        steps=["Lift your hips.", "Stay at the top for {hold}."],
        cues="Breathe out as you hold for {hold}.",
        hold_seconds=45,
    )
    page = alice_client.get(reverse("exercises:detail", args=[bridge.slug])).content.decode()
    assert "Stay at the top for 45 seconds." in page
    assert "Breathe out as you hold for 45 seconds." in page
    assert "{hold}" not in page


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


def test_short_video_link_redirects_anyone_to_a_known_video_host(client, db):
    ExerciseFactory(name="Calf raise", video_url="https://www.youtube.com/watch?v=calf-raise")
    response = client.get("/v/calf-raise")
    assert response.status_code == 302
    assert response.url == "https://www.youtube.com/watch?v=calf-raise"


def test_any_other_address_gets_a_page_naming_where_it_goes(client, db):
    """The installation's domain never silently forwards to an address someone typed."""
    ExerciseFactory(name="Calf raise", video_url="https://videos.clinic.example/calf-raise")
    response = client.get("/v/calf-raise")
    assert response.status_code == 200
    page = response.content.decode()
    assert "videos.clinic.example" in page
    assert 'href="https://videos.clinic.example/calf-raise"' in page
    assert not response.has_header("Location")


@pytest.mark.parametrize("host", ["youtube.com.evil.example", "evil-youtube.com", "vimeo.co"])
def test_look_alike_hosts_are_not_trusted(client, db, host):
    ExerciseFactory(name="Calf raise", video_url=f"https://{host}/watch")
    assert client.get("/v/calf-raise").status_code == 200  # The page, not a redirect.


def test_a_clinics_own_exercise_answers_only_with_its_printed_signature(
    client, db, clinic, settings
):
    from exercises.models import video_signature
    from prescriptions.selectors import video_link

    settings.SITE_URL = "https://hep.northside.example"
    private = ExerciseFactory(
        name="Our calf raise", clinic=clinic, video_url="https://youtu.be/our-calf"
    )
    assert client.get(f"/v/{private.slug}").status_code == 404  # Slugs cannot be probed.
    assert client.get(f"/v/{private.slug}/AAAAAAAA").status_code == 404
    printed = video_link(private)
    assert printed == f"https://hep.northside.example/v/{private.slug}/{video_signature(private)}"
    response = client.get(printed.removeprefix(settings.SITE_URL))
    assert response.status_code == 302 and response.url == "https://youtu.be/our-calf"


def test_a_shared_exercise_with_a_made_up_signature_is_404(client, db):
    ExerciseFactory(name="Calf raise", video_url="https://youtu.be/calf")
    assert client.get("/v/calf-raise/anything").status_code == 404


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


@pytest.fixture
def library(db):
    from django.conf import settings

    from exercises.services import library_load, read_library_file

    library_load(entries=read_library_file(settings.OPENHEP_LIBRARY_DIR / "exercises.json"))


def names_for(client, **params):
    response = client.get(reverse("exercises:list"), params)
    return [e.name for e in response.context["page"].object_list]


def test_search_on_the_bundled_library(alice_client, library):
    assert "Standing psoas stretch" in names_for(alice_client, q="hip flexor")
    assert "Standing psoas stretch" in names_for(alice_client, q="anterior pelvic tilt")
    quads = names_for(alice_client, q="quads")
    assert quads and all("quad" in name.lower() for name in quads[:1])
    assert names_for(alice_client, q="hammies")
    assert names_for(alice_client, q="psoas")[0] == "Standing psoas stretch"


def test_filters_narrow_the_results(alice_client, library):
    from exercises.models import Exercise

    seated = names_for(alice_client, position="sitting")
    assert seated and set(seated) <= set(
        Exercise.objects.filter(position="sitting").values_list("name", flat=True)
    )
    neck_stretches = names_for(alice_client, region="neck", category="stretch")
    for name in neck_stretches:
        exercise = Exercise.objects.get(name=name)
        assert {r.slug for r in exercise.regions.all()} >= {"neck"}
        assert {c.slug for c in exercise.categories.all()} >= {"stretch"}
    band = names_for(alice_client, equipment="resistance-band", q="row")
    assert band and all("row" in n.lower() for n in band)
    assert names_for(alice_client, q="psoas", position="lying-back") == []


def test_retired_exercises_leave_search_but_not_old_prescriptions(
    alice_client, library, alice, patient
):
    from exercises.models import Exercise
    from prescriptions import services
    from prescriptions.models import Prescription

    psoas = Exercise.objects.get(slug="psoas-stretch-standing")
    rx = Prescription.objects.create(clinic=patient.clinic, patient=patient, therapist=alice)
    services.prescription_add_exercise(prescription=rx, exercise=psoas, actor=Actor(rx.therapist))
    services.prescription_issue(prescription=rx, actor=Actor(alice))
    Exercise.objects.filter(pk=psoas.pk).update(status="retired")
    assert "Standing psoas stretch" not in names_for(alice_client, q="psoas")
    page = alice_client.get(reverse("prescriptions:detail", args=[rx.pk])).content.decode()
    assert "Standing psoas stretch" in page
    assert alice_client.get(psoas.get_absolute_url()).status_code == 200


def test_page_links_keep_the_search_and_filters(alice_client, db):
    ExerciseFactory.create_batch(30, name=factory.Sequence(lambda n: f"Calf stretch {n}"))
    ExerciseFactory(name="Calf stretch lying", position="lying-back")
    url = reverse("exercises:list")
    page = alice_client.get(url, {"q": "calf stretch", "position": "standing"}).content.decode()
    assert 'href="?q=calf+stretch&amp;position=standing&amp;page=2">Next' in page
    page = alice_client.get(url, {"q": "calf", "page": "2", "position": "standing"}).content
    assert 'href="?q=calf&amp;page=1&amp;position=standing">Previous' in page.decode()


@pytest.fixture
def neck_and_calf(db):
    from exercises.models import Region

    neck = Region.objects.create(slug="neck", name="Neck")
    ExerciseFactory(name="Neck tilt", position="sitting").regions.add(neck)
    ExerciseFactory(name="Calf raise", position="standing")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"region": "nowhere"}, "Unknown body region: showing all."),
        ({"region": "neck\x00"}, "Unknown body region: showing all."),
        ({"category": "9" * 40}, "Unknown category: showing all."),
        ({"equipment": "<b>band</b>"}, "Unknown equipment: showing all."),
        ({"position": "upside-down"}, "Unknown position: showing all."),
        ({"q": "neck\x00"}, "Null characters are not allowed."),
    ],
)
def test_a_search_term_that_names_nothing_is_left_out_with_a_message(
    alice_client, neck_and_calf, params, error
):
    response = alice_client.get(reverse("exercises:list"), params)
    assert response.status_code == 200
    assert f'<div class="invalid-feedback" id="{next(iter(params))}_error">{error}</div>' in (
        response.content.decode()
    )
    assert {e.name for e in response.context["page"]} == {"Neck tilt", "Calf raise"}


def test_the_valid_filters_still_apply_beside_one_in_error(alice_client, neck_and_calf):
    assert names_for(alice_client, region="nowhere", position="sitting") == ["Neck tilt"]
    assert names_for(alice_client, region="neck", position="sitting") == ["Neck tilt"]
    assert names_for(alice_client, region="neck", position="standing") == []


@pytest.mark.parametrize("q", ["", "a"])
@pytest.mark.parametrize(("number", "shown"), [("abc", 1), ("0", 2), (str(10**30), 2), ("2", 2)])
def test_any_page_number_gives_a_page(alice_client, db, q, number, shown):
    ExerciseFactory.create_batch(30, name=factory.Sequence(lambda n: f"Calf raise {n}"))
    response = alice_client.get(reverse("exercises:list"), {"q": q, "page": number})
    assert response.status_code == 200
    assert response.context["page"].number == shown


def test_the_builder_library_answers_a_bad_filter_without_a_500(alice_client, draft):
    response = alice_client.get(
        reverse("prescriptions:edit", args=[draft.pk]),
        {"q": "x\x00", "region": "nowhere", "page": str(10**30)},
        headers={"HX-Request": "true", "HX-Target": "library-results"},
    )
    assert response.status_code == 200
    assert 'id="library-results"' in response.content.decode()
