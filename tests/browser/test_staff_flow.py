"""A clinic admin manages the staff on a phone: changing a role, deactivating someone
and inviting an address a second time each ask first and say what will happen, and
nothing changes until the second press. axe-core checks each open question."""

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from clinic.models import Invitation, Membership, User


@pytest.fixture
def demo(transactional_db):
    call_command("load_library", file=settings.OPENHEP_LIBRARY_DIR / "exercises.json", verbosity=0)
    call_command("demo", password="browser-test-pw", verbosity=0)


def test_staff_changes_ask_first(browser, live_server, demo, axe):
    base = live_server.url
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email", exact=True).fill("admin@clinic.example")
    page.get_by_label("Password").fill("browser-test-pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/clinic/staff/")
    sam = User.objects.get(email="therapist@clinic.example")

    # A role: the first press opens the question, the choice and the second press change it.
    page.get_by_text("Change role…").click()
    page.get_by_label("New role for Sam Taylor").select_option("admin")
    expect(page.get_by_text("A clinic admin also manages")).to_be_visible()
    assert axe(page) == []
    sam.membership.refresh_from_db()
    assert sam.membership.role == Membership.Role.THERAPIST
    page.get_by_role("button", name="Change the role").click()
    expect(page.get_by_text("is now clinic admin")).to_be_visible()
    sam.membership.refresh_from_db()
    assert sam.membership.role == Membership.Role.ADMIN

    # Deactivating: the question says what happens; nothing happens before the second press.
    page.get_by_text("Deactivate…").click()
    expect(page.get_by_text("is signed out at once and can no longer sign in")).to_be_visible()
    assert axe(page) == []
    sam.refresh_from_db()
    assert sam.is_active
    page.get_by_role("button", name="Deactivate Sam Taylor").click()
    expect(page.get_by_text("is deactivated and signed out")).to_be_visible()
    sam.refresh_from_db()
    assert not sam.is_active

    # Inviting the same address twice: the second time asks before replacing the link.
    page.get_by_label("Email").fill("nia.okafor@clinic.example")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to nia.okafor@clinic.example.")).to_be_visible()
    page.get_by_label("Email").fill("nia.okafor@clinic.example")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("has not answered yet")).to_be_visible()
    assert axe(page) == []
    assert len(mail.outbox) == 1 and Invitation.objects.count() == 1
    page.get_by_label("Send a new invitation: the link in the earlier one stops working").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("The link in the earlier invitation no longer works.")).to_be_visible()
    assert len(mail.outbox) == 2

    # Sending again from the list asks too.
    page.get_by_text("Send again…").click()
    expect(page.get_by_text("the link in the earlier email stops working")).to_be_visible()
    page.get_by_role("button", name="Send a new link").click()
    expect(page.get_by_text("The link in the earlier invitation no longer works.")).to_be_visible()
    assert len(mail.outbox) == 3
    # Nothing on the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe(page) == []
    context.close()
