"""The patient turns on reminders from their page, on a phone, in a real browser."""

import datetime

import pytest
from playwright.sync_api import expect

from patientpage.models import ReminderPlan
from prescriptions import links
from prescriptions.models import ProgramLink


@pytest.fixture
def phone(browser):
    # A phone in London: its time zone is offered instead of the clinic's.
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, timezone_id="Europe/London", is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_reminders_from_the_phone(phone, live_server, transactional_db, issued):
    token = links.token_of(ProgramLink.objects.get(prescription=issued))
    phone.goto(f"{live_server.url}/p/{token}/")
    phone.get_by_role("link", name="Reminders").click()
    expect(phone.get_by_role("heading", name="Reminders", exact=True)).to_be_visible()
    expect(phone.get_by_label("Time zone").first).to_have_value("Europe/London")
    # Nothing ticked: the errors are next to their fields and nothing is saved.
    phone.get_by_role("button", name="Turn on reminders").click()
    expect(phone.get_by_text("Choose at least one day.").first).to_be_visible()
    expect(phone.get_by_text("Tick this box to agree")).to_be_visible()
    assert not ReminderPlan.objects.exists()

    phone.get_by_text("Tuesday", exact=True).first.click()
    phone.get_by_text("Thursday", exact=True).first.click()
    phone.get_by_label("Time", exact=True).first.fill("07:45")
    phone.get_by_label("The address Northside Myotherapy has for me").check()
    phone.get_by_label("I agree that Northside Myotherapy").check()
    phone.get_by_role("button", name="Turn on reminders").click()
    expect(phone.get_by_text("Every Tuesday and Thursday at 07:45 (Europe/London)")).to_be_visible()
    expect(phone.get_by_text("jordan@patient.example")).to_have_count(0)
    plan = ReminderPlan.objects.get()
    assert (plan.weekdays, plan.time) == ("24", datetime.time(7, 45))
    assert plan.time_zone == "Europe/London"

    phone.get_by_role("button", name="Stop reminder emails").click()
    expect(phone.get_by_text("Reminder emails are off.")).to_be_visible()
    plan.refresh_from_db()
    assert plan.stopped_at is not None
