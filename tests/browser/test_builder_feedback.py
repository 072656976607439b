"""The builder answers every press where the therapist is looking (issue 15): the plan
stays in view beside a scrolled library with its "Added …" message, the pressed Add
button says "In plan · add again" and keeps the focus, a moved exercise's Move button
keeps the focus, and a refused dose puts the focus on the field that needs fixing."""

from playwright.sync_api import expect

from prescriptions.models import Prescription
from tests.browser.test_foundation_flow import demo, log_in  # noqa: F401 (fixture)


def focused(page) -> str:
    return page.evaluate(
        "() => { const el = document.activeElement;"
        " return (el.name || el.id || el.tagName) + '=' + (el.value || ''); }"
    )


def test_the_builder_answers_where_you_look(page, live_server, demo):  # noqa: F811
    log_in(page, live_server)
    draft = Prescription.objects.filter(status="draft", items__isnull=False).distinct().first()
    page.goto(f"{live_server.url}/prescriptions/{draft.pk}/edit/")
    page.wait_for_load_state("load")  # htmx is wired by then
    plan = page.locator("#plan")

    # Far down the library, the plan is still beside it.
    add = page.locator("#library-results button[name=add_exercise]").nth(9)
    add.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 500
    add.focus()
    page.keyboard.press("Enter")
    message = plan.get_by_text("Added ")
    expect(message).to_be_visible()
    assert 0 <= message.bounding_box()["y"] < page.viewport_size["height"]
    expect(add).to_contain_text("In plan · add again")
    assert focused(page).startswith("add_exercise=")

    # Moving an exercise down keeps the focus on its Move button, now one place lower.
    first = plan.locator(".plan-item").first
    name = first.locator("legend").inner_text().split(". ", 1)[1]
    down = first.get_by_role("button", name="Move down")
    down.focus()
    page.keyboard.press("Enter")
    moved = plan.locator(".plan-item").nth(1)
    expect(moved.locator("legend")).to_contain_text(name)
    expect(moved.get_by_role("button", name="Move down")).to_be_focused()

    # A refused dose: the focus goes to the field, which is then on screen.
    reps = plan.locator(".plan-item").last.locator("input[name$='-reps']")
    reps.fill("0")
    plan.get_by_role("button", name="Move up").last.click()
    invalid = plan.locator(".is-invalid").first
    expect(invalid).to_be_focused()
    box = invalid.bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"]


def test_a_draft_is_deleted_after_asking(page, live_server, demo):  # noqa: F811
    log_in(page, live_server)
    draft = Prescription.objects.filter(status="draft").first()
    page.goto(f"{live_server.url}/prescriptions/{draft.pk}/edit/")
    confirm = page.get_by_role("button", name="Delete the draft")
    expect(confirm).to_be_hidden()
    page.get_by_text("Delete this draft…").click()
    expect(page.get_by_text("go for good")).to_be_visible()
    assert Prescription.objects.filter(pk=draft.pk).exists()
    confirm.click()
    expect(page.get_by_text(f"Draft “{draft.title}” deleted.")).to_be_visible()
    assert page.url.endswith(draft.patient.get_absolute_url())
    assert not Prescription.objects.filter(pk=draft.pk).exists()


def test_a_new_version_is_not_doubled_and_the_templates_box_stays_open(
    page,
    live_server,
    demo,  # noqa: F811
):
    log_in(page, live_server)
    issued = Prescription.objects.filter(status="issued").first()
    page.goto(f"{live_server.url}{issued.get_absolute_url()}")
    page.get_by_role("button", name="Change (new version)").click()
    page.wait_for_load_state("load")
    draft = Prescription.objects.get(supersedes=issued)
    count = draft.items.count()
    page.get_by_text("Templates", exact=True).click()
    page.get_by_role("button", name="Add the exercises of").click()
    expect(page.get_by_text("Already in the plan, left as they are:")).to_be_visible()
    assert draft.items.count() == count
    # The box the button sits in is still open for the next one.
    expect(page.get_by_label("Start from a template")).to_be_visible()
