"""A curator adds an exercise with two pictures in the admin and publishes it;
a therapist finds it by a word from its indications."""

import pytest
from playwright.sync_api import expect

from exercises.models import Exercise
from tests.clinic.test_images import picture
from tests.factories import PASSWORD, MembershipFactory


@pytest.fixture
def people(transactional_db, django_user_model):
    django_user_model.objects.create_superuser("curator@site.example", PASSWORD)
    MembershipFactory(user__email="therapist@clinic.example", user__first_name="Sam")


def log_in(page, live_server, email, url):
    page.goto(f"{live_server.url}{url}")
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("[type=submit]").click()


def test_curator_publishes_and_therapist_finds_it(page, live_server, people, tmp_path):
    first, second = tmp_path / "start.png", tmp_path / "finish.jpg"
    first.write_bytes(picture("PNG", size=(800, 600)).read())
    second.write_bytes(picture("JPEG", size=(800, 600)).read())

    log_in(page, live_server, "curator@site.example", "/admin/exercises/exercise/add/")
    page.get_by_label("Name:", exact=True).fill("Seated ankle pumps")
    page.get_by_label("Summary:").fill("Point and flex the feet while sitting.")
    page.get_by_label("Status:").select_option("published")
    page.get_by_label("Who it is for:").fill("swollen ankles after long flights")
    page.locator("#id_steps-0-text").fill("Sit tall with feet flat.")
    page.locator("#steps-group .add-row a").click()
    page.locator("#id_steps-1-text").fill("Point your toes, then pull them up.")
    page.get_by_label("Reps:").fill("20")
    for n, (path, alt) in enumerate([(first, "Feet flat"), (second, "Toes pulled up")]):
        page.locator("#images-group .add-row a").click()
        page.locator(f"#id_images-{n}-image").set_input_files(str(path))
        page.locator(f"#id_images-{n}-alt_text").fill(alt)
    page.locator("#id_images-0-is_main").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was added successfully")).to_be_visible()

    exercise = Exercise.objects.get(name="Seated ankle pumps")
    assert exercise.status == "published" and exercise.images.count() == 2
    assert exercise.steps.count() == 2

    page.context.clear_cookies()
    log_in(page, live_server, "therapist@clinic.example", "/exercises/?q=flights")
    expect(page.get_by_role("link", name="Seated ankle pumps")).to_be_visible()
    expect(page.get_by_role("img", name="Feet flat")).to_be_visible()


@pytest.fixture
def library(people):
    from django.conf import settings
    from django.core.management import call_command

    call_command("load_library", file=settings.OPENHEP_LIBRARY_DIR / "exercises.json", verbosity=0)


def test_the_curators_pages_meet_wcag_22_aa(browser, live_server, library, axe):
    """axe-core on the admin pages a curator works in, at desk and phone widths. Django's
    two-box filter, its autocomplete search and the inline tables' unnamed boxes
    failed here before."""
    exercise = Exercise.objects.filter(steps__isnull=False, images__isnull=False).first()
    pages = [
        "/admin/",
        "/admin/exercises/exercise/",
        "/admin/exercises/exercise/add/",
        f"/admin/exercises/exercise/{exercise.pk}/change/",
        "/admin/exercises/exercise/import/",
        "/admin/exercises/region/",
        "/admin/prescriptions/programtemplate/",
        "/admin/prescriptions/programtemplate/add/",
    ]
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        context = browser.new_context(viewport=viewport)
        scan = context.new_page()
        log_in(scan, live_server, "curator@site.example", "/admin/")
        for path in pages:
            scan.goto(f"{live_server.url}{path}")
            expect(scan.locator("#content")).to_be_visible()
            assert axe(scan) == [], (path, viewport["width"])
        context.close()
