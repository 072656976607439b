"""The builder saves as the therapist works (issues 15 and 19): a typed dose is kept
without pressing a button, the focus stays in the field, "Preview handout" pressed
straight after typing shows the new dose, and leaving asks first only while a save is
pending or refused."""

import pytest
from playwright.sync_api import expect

from prescriptions.models import Prescription
from tests.browser.test_foundation_flow import demo, log_in  # noqa: F401 (fixture)
from tests.helpers import pdf_text

WIDTHS = [1280, 390]


def open_builder(browser, live_server, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server)
    draft = Prescription.objects.filter(status="draft", items__isnull=False).distinct().first()
    page.goto(f"{live_server.url}/prescriptions/{draft.pk}/edit/")
    page.wait_for_load_state("load")  # The scripts are wired by then.
    return context, page, draft


def first_reps(page):
    return page.locator(".plan-item").first.locator("input[name$='-reps']")


def saved_reps(draft) -> int | None:
    return draft.items.order_by("order").first().reps


@pytest.mark.parametrize("width", WIDTHS)
def test_a_typed_dose_is_saved_and_kept_after_a_reload(browser, live_server, demo, width):  # noqa: F811
    context, page, draft = open_builder(browser, live_server, width)
    status = page.locator("#autosave-status")
    reps = first_reps(page)
    reps.click()
    reps.press("Control+a")
    reps.press_sequentially("17", delay=50)
    expect(status).to_have_text("All changes saved")
    assert saved_reps(draft) == 17
    # Saved without redrawing the plan: the therapist is still typing in the field.
    expect(reps).to_be_focused()
    with page.expect_response(lambda r: r.url.endswith("/autosave/")):
        reps.press_sequentially("5")
    expect(reps).to_have_value("175")
    expect(status).to_have_text("All changes saved")
    assert saved_reps(draft) == 175
    # The dose in words under the fields follows what was saved.
    expect(page.locator(".plan-item").first.locator("[data-dose]")).to_contain_text(
        "175 repetitions"
    )

    page.reload()
    expect(first_reps(page)).to_have_value("175")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_preview_right_after_typing_shows_the_new_dose(browser, live_server, demo, width):  # noqa: F811
    context, page, draft = open_builder(browser, live_server, width)
    reps = first_reps(page)
    reps.fill("23")  # No pause: the save is still waiting for the typing to stop.
    handout = f"/prescriptions/{draft.pk}/handout.pdf"
    received = []

    def keep(route):
        """What the new tab receives (its PDF viewer keeps the body to itself)."""
        response = route.fetch()
        received.append(response.body())
        route.fulfill(response=response)

    context.route(f"**{handout}", keep)
    with context.expect_page() as opened:
        page.get_by_role("button", name="Preview handout").click()
    preview = opened.value
    preview.wait_for_url(f"**{handout}")
    for _ in range(100):
        if received:
            break
        page.wait_for_timeout(100)
    assert "23 repetitions" in pdf_text(received[0])
    assert saved_reps(draft) == 23
    expect(page.locator("#autosave-status")).to_have_text("All changes saved")
    context.close()


def test_leaving_asks_while_a_save_is_pending_and_not_once_saved(browser, live_server, demo):  # noqa: F811
    context, page, draft = open_builder(browser, live_server, 1280)
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()  # Stay on the page.

    page.on("dialog", answer)
    builder = page.url
    reps = first_reps(page)
    reps.click()
    reps.fill("31")
    page.get_by_role("link", name="Patients", exact=True).first.click()  # Within the second.
    expect(page.locator("#autosave-status")).to_have_text("All changes saved")
    assert asked == ["beforeunload"] and page.url == builder
    assert saved_reps(draft) == 31  # Saved while asking.

    page.get_by_role("link", name="Patients", exact=True).first.click()
    page.wait_for_url(f"{live_server.url}/patients/")
    assert asked == ["beforeunload"]  # Everything was saved: not asked again.
    context.close()


def test_a_refused_dose_is_not_saved_says_why_and_leaving_asks(browser, live_server, demo):  # noqa: F811
    context, page, draft = open_builder(browser, live_server, 1280)
    before = saved_reps(draft)
    asked = []
    page.on("dialog", lambda dialog: asked.append(dialog.type) or dialog.dismiss())
    reps = first_reps(page)
    reps.click()
    reps.fill("-4")
    status = page.locator("#autosave-status")
    expect(status).to_contain_text("Not saved: ")
    expect(status).to_contain_text("reps")
    assert saved_reps(draft) == before
    page.get_by_role("link", name="Patients", exact=True).first.click()
    expect(page.locator("#plan-heading")).to_be_visible()
    assert asked == ["beforeunload"]

    # "Preview handout" shows the refused field instead of a stale preview.
    page.get_by_role("button", name="Preview handout").click()
    expect(page.locator("#plan .is-invalid").first).to_be_focused()
    assert len(context.pages) == 1
    context.close()


def test_a_choice_made_while_a_button_posts_the_plan_is_kept(browser, live_server, demo):  # noqa: F811
    """A change made while "Move down" is on its way: neither is lost. (The save it set
    off carried the old order back over the move, or the move's answer redrew the old
    side over the change.)"""
    context, page, draft = open_builder(browser, live_server, 1280)
    first, second = draft.items.order_by("order")[:2]
    status = page.locator("#autosave-status")
    page.evaluate(
        """([first, second]) => {
            document.querySelector(`button[name="move"][value="${first}:down"]`).click();
            const side = document.querySelectorAll(".plan-item select[name$='-side']")[1];
            side.value = side.value === "left" ? "right" : "left";
            side.dispatchEvent(new Event("input", {bubbles: true}));
            side.dispatchEvent(new Event("change", {bubbles: true}));
            window.chosen = side.value;
        }""",
        [first.pk, second.pk],
    )
    chosen = page.evaluate("window.chosen")
    expect(page.locator(".plan-item legend").first).to_contain_text(second.exercise.name)
    expect(status).to_have_text("All changes saved")
    # The redrawn plan shows the choice, on the exercise it was made for (now first).
    expect(page.locator(".plan-item").first.locator("select[name$='-side']")).to_have_value(chosen)
    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.order, first.order) == (0, 1)
    assert second.side == chosen
    context.close()
