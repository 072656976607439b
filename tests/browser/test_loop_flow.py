"""The therapist's side of the loop in a real browser, on the demo clinic: who needs a
call, what the patient did, a change in one click, and the page's link turned off."""

from playwright.sync_api import expect

from patientpage.models import FollowUp
from prescriptions.models import Prescription, ProgramLink
from tests.browser.test_foundation_flow import demo, log_in  # noqa: F401 (fixture)


def test_call_see_the_loop_and_make_an_exercise_easier(page, live_server, demo):  # noqa: F811
    log_in(page, live_server)

    # The dashboard says who needs a call, and why.
    calls = page.get_by_role("region", name="Who needs a call")
    line = calls.get_by_role("listitem").filter(has_text="Jordan Ellis").first
    expect(line).to_contain_text("Found an exercise too hard")
    expect(line).to_contain_text("Pain 7 or more")

    # What Jordan did, from the program's link on the line.
    line.get_by_role("link", name="Hip flexors and lower back").click()
    expect(page.get_by_role("heading", name="How it is going")).to_be_visible()
    adherence = page.get_by_role("img", name="Sessions done per week")
    expect(adherence).to_be_visible()
    expect(page.get_by_role("img", name="Pain reported after sessions")).to_be_visible()
    expect(page.get_by_text("The bridge hurt my lower back today")).to_be_visible()

    # The bridge was too hard: one click starts the new version, opened in the builder.
    page.get_by_role("button", name="Make easier (Glute bridge)").click()
    expect(page.get_by_text("New version started")).to_be_visible()
    assert Prescription.objects.filter(status=Prescription.Status.DRAFT, supersedes__isnull=False)

    # Back on the dashboard, marked handled in place (htmx): the line and count update.
    page.goto(f"{live_server.url}/")
    calls.get_by_role("button", name="Mark handled (Jordan Ellis)").click()
    expect(calls.get_by_role("status")).to_contain_text("Jordan Ellis: marked handled.")
    expect(page.locator("#calls-count")).to_be_empty()
    assert not FollowUp.objects.filter(handled_at__isnull=True).exists()


def test_turn_off_the_page_asks_first(page, live_server, demo):  # noqa: F811
    log_in(page, live_server)
    rx = Prescription.objects.get(title="Hip flexors and lower back", status="issued")
    page.goto(f"{live_server.url}{rx.get_absolute_url()}")
    confirm = page.get_by_role("button", name="Turn off the patient page")
    expect(confirm).to_be_hidden()
    page.get_by_text("Turn off…").click()
    confirm.click()
    expect(page.get_by_text("Patient page turned off.")).to_be_visible()
    assert not ProgramLink.objects.get(prescription=rx).is_on


def test_the_loop_pages_meet_wcag_22_aa(browser, live_server, demo, axe):  # noqa: F811
    """axe-core on every page the loop adds to, at desk and phone widths."""
    rx = Prescription.objects.get(title="Hip flexors and lower back", status="issued")
    pages = ["/", rx.get_absolute_url(), rx.patient.get_absolute_url(), "/patients/"]
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        context = browser.new_context(viewport=viewport)
        scan = context.new_page()
        log_in(scan, live_server)
        for path in pages:
            scan.goto(f"{live_server.url}{path}")
            assert axe(scan) == [], (path, viewport["width"])
            # Nothing wider than the screen (the charts' tables are hidden, not clipped).
            overflow = scan.evaluate("document.documentElement.scrollWidth")
            assert overflow <= viewport["width"], (path, overflow)
        context.close()
