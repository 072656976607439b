"""Progressions (issue 16): in the builder an exercise is one press from its harder (or
easier) version, keeping its dose and note, with the focus kept on the item; the
exercise page shows the whole chain, easiest first."""

import pytest
from playwright.sync_api import expect

from clinic.audit import Actor
from exercises.models import Exercise
from prescriptions import services
from prescriptions.models import Prescription
from tests.browser.test_foundation_flow import demo, log_in  # noqa: F401 (fixture)


@pytest.mark.parametrize("width", [1280, 390])
def test_harder_version_swaps_the_item_and_keeps_its_note(
    page,
    live_server,
    demo,  # noqa: F811
    axe,
    width,
):
    page.set_viewport_size({"width": width, "height": 900})
    draft = Prescription.objects.filter(status="draft").first()
    quad = Exercise.objects.get(slug="knee-to-chest")
    draft.items.filter(exercise__slug__in=["knee-to-chest", "double-knee-to-chest"]).delete()
    added = services.prescription_add_exercise(
        prescription=draft, exercise=quad, actor=Actor(draft.therapist)
    )
    log_in(page, live_server)
    page.goto(f"{live_server.url}/prescriptions/{draft.pk}/edit/")
    page.wait_for_load_state("load")  # htmx is wired by then
    item = page.locator("#plan .plan-item").filter(has_text="Knee to chest stretch")
    item.get_by_label("Note for the patient").fill("Towel under the knee")
    harder = item.get_by_role("button", name="Harder version (Double knee to chest stretch)")
    # The short visible text (the rest is for screen readers).
    shown = "el => Array.from(el.childNodes).filter(n => n.nodeType === 3)"
    assert harder.evaluate(shown + ".map(n => n.textContent).join('').trim()") == "Harder"
    harder.focus()
    page.keyboard.press("Enter")

    swapped = page.locator("#plan .plan-item").filter(has_text="Double knee to chest stretch")
    expect(swapped.locator("legend")).to_contain_text("Double knee to chest stretch")
    expect(
        page.locator("#plan").get_by_text("Swapped for Double knee to chest stretch.")
    ).to_be_visible()
    expect(swapped.get_by_label("Note for the patient")).to_have_value("Towel under the knee")
    # No harder version of this one: the focus is on the way back.
    expect(
        swapped.get_by_role("button", name="Easier version (Knee to chest stretch)")
    ).to_be_focused()
    saved = draft.items.get(exercise__slug="double-knee-to-chest")
    assert (saved.pk, saved.order, saved.note) == (added.pk, added.order, "Towel under the knee")
    assert saved.dose == added.dose
    assert axe(page) == []


def test_the_exercise_page_shows_the_chain(page, live_server, demo, axe):  # noqa: F811
    log_in(page, live_server)
    page.goto(f"{live_server.url}/exercises/knee-push-up/")
    chain = page.get_by_role("list", name="Easier and harder versions")
    expect(chain.get_by_role("listitem")).to_have_text(
        [
            "Wall push-up",
            "Incline push-up (hands on a table or bench)",
            "Knee push-up (this exercise)",
            "Push-up",
        ]
    )
    assert axe(page) == []
    chain.get_by_role("link", name="Push-up", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Push-up")
