"""The builder a therapist reaches for between two patients (issue 15, "Speed"):
favourites starred on the exercise page and in the library rank first and have their
own filter, the exercises they prescribed lately are one press away, the plan shows
each exercise's picture and about how long a session takes (with a gentle word when
it grows long), and a library card dragged onto the plan is added to it."""

import re

import pytest
from playwright.sync_api import expect

from exercises.models import Exercise, Favourite
from prescriptions.models import Prescription, PrescriptionItem
from tests.browser.test_foundation_flow import demo, log_in  # noqa: F401 (fixture)


def open_draft(page, live_server, *, empty: bool = False) -> Prescription:
    drafts = Prescription.objects.filter(
        status="draft", therapist__email="therapist@clinic.example"
    )
    draft = drafts.filter(items__isnull=empty).distinct().first()
    if draft is None and empty:
        draft = drafts.first()
        draft.items.all().delete()
    page.goto(f"{live_server.url}/prescriptions/{draft.pk}/edit/")
    page.wait_for_load_state("load")  # htmx is wired by then
    return draft


def last_in_library() -> Exercise:
    """A published exercise that browsing (by name) shows on no first page."""
    return Exercise.objects.published().filter(clinic=None).order_by("-name").first()


def test_a_favourite_is_starred_and_ranks_first(browser, page, live_server, demo, axe):  # noqa: F811
    log_in(page, live_server)
    exercise = last_in_library()
    page.goto(f"{live_server.url}{exercise.get_absolute_url()}")
    # A toggle button: one name, its state in aria-pressed.
    star = page.get_by_role("button", name=f"Favourite {exercise.name}", exact=True)
    expect(star).to_have_attribute("aria-pressed", "false")
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")
    expect(star).to_be_focused()  # the swap keeps the keyboard where it was
    assert Favourite.objects.filter(exercise=exercise).count() == 1

    # In the builder the favourite comes first while nothing is searched for.
    open_draft(page, live_server)
    cards = page.locator("#library-results .exercise-card")
    expect(cards.first.get_by_role("heading")).to_have_text(exercise.name)
    # A search ranks by relevance, favourites or not.
    page.get_by_label("Search exercises").fill("psoas")
    expect(cards.first.get_by_role("heading")).to_contain_text("psoas", ignore_case=True)
    page.get_by_label("Search exercises").fill("")

    # Starred from a library card, and the Favourites filter shows just those two.
    other = cards.nth(1)
    name = other.get_by_role("heading").inner_text()
    other_star = other.get_by_role("button", name=f"Favourite {name}", exact=True)
    other_star.click()
    expect(other_star).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Favourites only").check()
    expect(cards).to_have_count(2)
    expect(page.locator("#library-results")).to_contain_text(exercise.name)
    assert set(Favourite.objects.values_list("exercise__name", flat=True)) == {exercise.name, name}

    assert axe(page) == []


def test_recently_used_exercises_are_one_press_away(page, live_server, demo):  # noqa: F811
    log_in(page, live_server)
    draft = open_draft(page, live_server, empty=True)
    used = list(
        PrescriptionItem.objects.filter(prescription__therapist=draft.therapist)
        .order_by("-pk")
        .values_list("exercise__name", flat=True)
    )
    recent = page.get_by_role("region", name="Recently used")
    expect(recent).to_be_visible()
    expect(recent.get_by_role("button").first).to_have_accessible_name(f"Add {used[0]}")
    recent.get_by_role("button", name=f"Add {used[0]}").click()
    plan = page.locator("#plan")
    expect(plan.get_by_text(f"Added {used[0]}.")).to_be_visible()
    expect(plan.locator(".plan-item legend")).to_contain_text([used[0]])
    # The chip says so at once, and keeps the focus for the next press.
    pressed = recent.get_by_role("button", name=f"In plan, add again: {used[0]}")
    expect(pressed).to_be_focused()
    # A library card of an exercise the row also shows (a favourite, so it is on the first
    # page): its press restyles the card's own button, not the chip's.
    second = used[1]
    Favourite.objects.create(user=draft.therapist, exercise=Exercise.objects.get(name=second))
    page.reload()
    card = page.locator("#library-results .exercise-card").first
    expect(card.get_by_role("heading")).to_have_text(second)
    card.get_by_role("button", name=f"Add to plan ({second})").click()
    expect(card.get_by_role("button", name=f"In plan · add again ({second})")).to_have_class(
        re.compile(r"\bbtn-outline-success\b")
    )
    expect(recent.get_by_role("button", name=f"In plan, add again: {second}")).to_be_visible()
    # Typing a search puts the results first: the row goes.
    page.get_by_label("Search exercises").fill("bridge")
    expect(recent).to_be_hidden()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_plan_shows_pictures_and_the_time_a_session_takes(
    browser,
    live_server,
    demo,  # noqa: F811
    axe,
    width,
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    log_in(page, live_server)
    draft = open_draft(page, live_server, empty=True)
    plan = page.locator("#plan")
    adds = page.locator("#library-results button[name=add_exercise]")
    adds.nth(0).click()
    expect(plan.locator(".plan-item")).to_have_count(1)
    expect(plan.get_by_text(re.compile(r"About \d+ minutes? a session"))).to_be_visible()
    thumb = plan.locator(".plan-item img").first
    expect(thumb).to_have_attribute("alt", "")
    expect(thumb).to_have_attribute("loading", "lazy")
    assert round(thumb.bounding_box()["width"]) == 56
    hint = plan.get_by_text("Patients keep up better with fewer")
    expect(hint).to_have_count(0)

    # A seventh exercise: a gentle word, not an error, and issuing is still there.
    for n in range(1, 7):
        adds.nth(n).click()
        expect(plan.locator(".plan-item")).to_have_count(n + 1)
    expect(hint).to_be_visible()
    expect(plan.locator(".alert-danger")).to_have_count(0)
    expect(plan.get_by_role("button", name="Save and issue")).to_be_enabled()
    assert draft.items.count() == 7
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert axe(page) == []
    context.close()


def test_a_library_card_dragged_onto_the_plan_is_added(page, live_server, demo):  # noqa: F811
    log_in(page, live_server)
    draft = open_draft(page, live_server, empty=True)
    card = page.locator("#library-results .exercise-card").nth(2)
    name = card.get_by_role("heading").inner_text()
    card.drag_to(page.locator("#plan"))
    plan = page.locator("#plan")
    expect(plan.get_by_text(f"Added {name}.")).to_be_visible()
    expect(plan.locator(".plan-item legend")).to_contain_text([name])
    assert list(draft.items.values_list("exercise__name", flat=True)) == [name]
    # The card's button says so, as after a press.
    expect(card.get_by_role("button", name=f"In plan · add again ({name})")).to_be_visible()
