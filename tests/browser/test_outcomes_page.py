"""Outcome measures on the patient's side, in a real browser at phone width: two
questionnaires waiting, answered by tapping the scale and naming activities, "Your
progress" on the page, and a second answer weeks later moving the chart. Each screen
is scanned by axe-core."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.audit import Actor
from outcomes.models import Questionnaire, Response, Schedule
from outcomes.services import questionnaires_load, schedule_add
from tests.factories import PASSWORD
from tests.patientpage.conftest import token_of

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def asked(transactional_db, issued, alice):
    """Jordan's issued program asks for the pain rating and his own activities, now."""
    questionnaires_load()
    for slug in ("pain-rating", "patient-specific-function"):
        schedule_add(
            prescription=issued,
            questionnaire=Questionnaire.objects.get(clinic=None, slug=slug),
            when="now",
            actor=Actor(alice),
        )
    return issued


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def rate(scope, value: int) -> None:
    """Tap a number on a 0-10 row of buttons."""
    scope.locator("label.btn").nth(value).click()


def answer(waiting, title: str) -> None:
    waiting.locator("li", has_text=title).get_by_role(
        "link", name="Answer (about 1 minute)"
    ).click()


def test_answer_two_questionnaires_then_see_progress_move(live_server, asked, phone, axe):
    page = phone
    url = f"{live_server.url}/p/{token_of(asked)}/"
    page.goto(url)
    waiting = page.locator("#questionnaires")
    expect(waiting.get_by_role("heading", name="Questionnaires waiting")).to_be_visible()
    expect(waiting.get_by_role("link", name="Answer (about 1 minute)")).to_have_count(2)
    assert axe(page) == []

    # Pain: three rows of numbers, tapped.
    answer(waiting, "Pain rating")
    expect(page.get_by_role("heading", name="Pain rating (0 to 10)")).to_be_visible()
    assert axe(page) == []
    rate(page.get_by_role("group", name="How much pain do you have right now?"), 7)
    rate(page.get_by_role("group", name="on average"), 8)
    rate(page.get_by_role("group", name="at its worst"), 8)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Thank you: your answers are saved")).to_be_visible()
    expect(waiting.get_by_role("link", name="Answer (about 1 minute)")).to_have_count(1)

    # Function: a refused send first (a rating with no activity), then two activities.
    answer(waiting, "Activities you find hard")
    rate(page.get_by_role("group", name="How well you can do activity 1 today"), 3)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("alert")).to_contain_text("Activity 1: write what the activity is.")
    assert axe(page) == []
    page.get_by_label("Activity 1").fill("Climbing the stairs")
    page.get_by_label("Activity 2").fill("Lifting my grandson")
    rate(page.get_by_role("group", name="How well you can do activity 2 today"), 4)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Thank you: your answers are saved")).to_be_visible()
    expect(page.locator("#questionnaires")).to_have_count(0)

    progress = page.locator("#your-progress")
    expect(progress.get_by_role("heading", name="Your progress")).to_be_visible()
    expect(progress).to_contain_text("Pain: 7.7 on")
    expect(progress).to_contain_text("Function: 3.5 on")
    assert axe(page) == []
    scores = Response.objects.filter(patient=asked.patient, source="page")
    assert sorted(scores.values_list("score", flat=True)) == [Decimal("3.5"), Decimal("7.7")]

    # Two weeks later the program asks again (as an "every 2 weeks" schedule would).
    Response.objects.update(answered_at=timezone.now() - datetime.timedelta(days=14))
    Schedule.objects.update(starts_at=timezone.now() - datetime.timedelta(hours=1))
    page.goto(url)
    pain_chart = progress.locator("figure").nth(1)
    expect(pain_chart.locator("circle")).to_have_count(1)
    answer(waiting, "Activities you find hard")
    # The same activities, by name, to rate again.
    expect(page.locator("legend", has_text="Climbing the stairs")).to_be_visible()
    expect(page.get_by_label("Activity 1")).to_have_count(0)
    rate(page.get_by_role("group", name="Climbing the stairs"), 6)
    rate(page.get_by_role("group", name="Lifting my grandson"), 6)
    page.get_by_role("button", name="Send my answers").click()
    answer(waiting, "Pain rating")
    for name, value in (("right now", 4), ("on average", 5), ("at its worst", 5)):
        rate(page.get_by_role("group", name=name), value)
    page.get_by_role("button", name="Send my answers").click()

    expect(progress).to_contain_text("Pain: 7.7 at the start, 4.7 now — better by 3.0")
    expect(progress).to_contain_text("Function: 3.5 at the start, 6.0 now — better by 2.5")
    expect(pain_chart.locator("circle")).to_have_count(2)
    expect(pain_chart.locator("polyline")).to_have_count(1)
    assert axe(page) == []

    # The therapist, at a desk, sees the same scores on Jordan's record: a chart per
    # measure with both points, the change, and the verdict against the minimal
    # important change.
    desk = page.context.browser.new_context(viewport={"width": 1280, "height": 900})
    staff = desk.new_page()
    staff.goto(f"{live_server.url}/accounts/login/")
    staff.get_by_label("Email", exact=True).fill("alice@clinic.example")
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Log in").click()
    staff.wait_for_url(f"{live_server.url}/")
    staff.goto(f"{live_server.url}/patients/{asked.patient.pk}/")
    outcomes = staff.locator("#outcomes")
    pain = outcomes.locator("article", has_text="Pain rating (0 to 10)")
    expect(pain.locator("svg circle")).to_have_count(2)
    expect(pain).to_contain_text("Better by the minimal important change")
    expect(pain.locator("dd").nth(2)).to_have_text("-3.0")
    function = outcomes.locator("article", has_text="Activities you find hard")
    expect(function.locator("svg circle")).to_have_count(2)
    expect(function).to_contain_text("Better by the minimal important change")
    expect(function.locator("dd").nth(2)).to_have_text("+2.5")
    assert axe(staff) == []
    desk.close()
