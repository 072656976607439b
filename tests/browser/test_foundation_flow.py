"""The foundation's path, as a new user would take it, in a real browser."""

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from prescriptions.models import Delivery, Prescription
from tests.helpers import pdf_text


@pytest.fixture
def demo(transactional_db):
    call_command("load_library", file=settings.OPENHEP_LIBRARY_DIR / "exercises.json", verbosity=0)
    call_command("demo", password="browser-test-pw", verbosity=0)


def log_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email", exact=True).fill("therapist@clinic.example")
    page.get_by_label("Password").fill("browser-test-pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_search_prescribe_download_and_email(page, live_server, demo):
    log_in(page, live_server)

    # Find the psoas stretch in the library.
    page.get_by_role("link", name="Exercise library").click()
    page.get_by_label("Search exercises").fill("psoas")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Standing psoas stretch").click()
    expect(
        page.get_by_text("Hold 30 seconds · 3 repetitions · each side · twice a day")
    ).to_be_visible()

    # A new patient who agreed to email.
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="New patient").click()
    page.get_by_label("First name").fill("Casey")
    page.get_by_label("Last name").fill("Nguyen")
    page.get_by_label("Email", exact=True).fill("casey@patient.example")
    page.get_by_label("Consents to handouts by email").check()
    page.get_by_role("button", name="Save patient").click()
    expect(page.get_by_text("Patient Casey Nguyen added.")).to_be_visible()

    # Build the prescription: search, add, 45-second hold, issue.
    page.get_by_role("button", name="New prescription").click()
    page.get_by_label("Search exercises").fill("psoas")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Add to plan (Standing psoas stretch)").click()
    expect(page.get_by_text("Added Standing psoas stretch.")).to_be_visible()
    page.get_by_label("Search exercises").fill("quadriceps")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Add to plan (Standing quadriceps stretch)").click()
    expect(page.get_by_text("Added Standing quadriceps stretch.")).to_be_visible()
    page.locator("#id_items-0-hold_seconds").fill("45")
    page.get_by_role("button", name="Save and issue").click()
    expect(page.get_by_text("Prescription issued.")).to_be_visible()

    # The handout reads 45 seconds.
    rx = Prescription.objects.get(patient__last_name="Nguyen")
    assert rx.status == "issued"
    response = page.request.get(f"{live_server.url}/prescriptions/{rx.pk}/handout.pdf")
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body())
    assert "Hold 45 seconds · 3 repetitions · twice a day" in text
    assert "Both sides, one after the other" in text
    assert "Casey Nguyen" in text and "Standing quadriceps stretch" in text

    # Email it.
    expect(page.get_by_text("To casey@patient.example")).to_be_visible()
    page.get_by_role("button", name="Email handout").click()
    expect(page.get_by_text("Handout emailed to casey@patient.example.")).to_be_visible()
    assert Delivery.objects.get(prescription=rx).status == "sent"
    [message] = mail.outbox
    assert message.to == ["casey@patient.example"]
    assert message.attachments[0][1] == rx.handout.pdf.open("rb").read()
