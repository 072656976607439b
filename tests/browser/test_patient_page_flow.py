"""The patient's side in a real browser at phone width: the QR code on the handout
opens the page without logging in; a hold timer, ticks, a finished session, ticks made
offline and sent when the phone is back online; the therapist sees who needs a call."""

import pytest
import zxingcpp
from django.core.management import call_command
from playwright.sync_api import expect

from clinic.audit import Actor
from clinic.models import Patient, User
from exercises.models import Exercise
from patientpage.models import FollowUp, SessionLog
from prescriptions import services
from tests.helpers import pdf_page_images

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def program(transactional_db, live_server, settings):
    """Priya's new program, issued with the live server as the site's address: its
    handout's QR code opens the page the test browser can reach."""
    call_command("load_library", file=settings.OPENHEP_LIBRARY_DIR / "exercises.json", verbosity=0)
    call_command("demo", password="browser-test-pw", verbosity=0)
    settings.SITE_URL = live_server.url
    therapist = User.objects.get(email="therapist@clinic.example")
    patient = Patient.objects.get(first_name="Priya")
    rx = services.prescription_create(
        patient=patient, actor=Actor(therapist), title="Back on track"
    )
    for slug in ("psoas-stretch-standing", "quadriceps-stretch-standing", "glute-bridge"):
        exercise = Exercise.objects.get(slug=slug)
        services.prescription_add_exercise(
            prescription=rx, exercise=exercise, actor=Actor(therapist)
        )
    rx.items.filter(order=0).update(hold_seconds=3)  # A short hold for the timer.
    services.prescription_issue(prescription=rx, actor=Actor(therapist))
    rx.refresh_from_db()
    return rx


def scanned_link(prescription) -> str:
    """What a phone's camera reads from the handout's first page."""
    pdf = prescription.handout.pdf.open("rb").read()
    first_page = pdf_page_images(pdf, dpi=150)[0]
    codes = [code.text for code in zxingcpp.read_barcodes(first_page)]
    return next(code for code in codes if "/p/" in code)


def test_scan_tick_finish_go_offline_and_the_therapist_sees_it(browser, live_server, program, axe):
    url = scanned_link(program)
    assert url.startswith(live_server.url + "/p/")

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.set_default_timeout(15_000)
    blocked: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
    page.goto(url)
    expect(page.get_by_role("heading", name="Hello Priya")).to_be_visible()
    expect(page.get_by_text("Raman")).to_have_count(0)  # First name only.

    # The hold timer counts down and says when to let go.
    page.get_by_role("button", name="Start 3-second hold (Standing psoas stretch)").click()
    expect(page.locator(".timer-display").first).to_have_text("Done", timeout=10_000)

    # Two exercises ticked: each is stored as it is made.
    page.get_by_label("Done (Standing psoas stretch)").check()
    page.get_by_label("Done (Standing quadriceps stretch)").check()
    expect(page.locator("#sync-status")).to_contain_text("Saved.")

    # The session finished: pain 6, the first exercise too hard.
    page.locator("label[for='pain-6']").click()
    page.locator(".difficulty").nth(0).get_by_text("Too hard").click()
    page.get_by_role("button", name="Session done").click()
    expect(page.locator("#sync-status")).to_contain_text("Thank you: your session is saved.")
    # Priya's sessions only: the demo clinic's Jordan has logged his own.
    sessions = SessionLog.objects.filter(patient=program.patient)
    first = sessions.get()
    assert first.is_finished and first.pain == 6
    assert first.exercises.filter(done=True).count() == 2
    assert first.exercises.get(difficulty="hard").item.order == 0

    # Offline: the worker has a copy of the page; a tick waits on the phone.
    page.wait_for_function("caches.match(location.pathname).then(Boolean)")
    phone.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="Hello Priya")).to_be_visible()
    page.get_by_label("Done (Glute bridge)").check()
    expect(page.locator("#sync-status")).to_contain_text("when you are back online")
    assert sessions.count() == 1

    # Back online: the tick is sent and stored.
    phone.set_offline(False)
    expect(page.locator("#sync-status")).to_contain_text("Saved.", timeout=20_000)
    later = sessions.exclude(pk=first.pk).get()
    assert [row.item.order for row in later.exercises.filter(done=True)] == [2]
    assert not blocked, f"The page broke its Content Security Policy: {blocked}"
    phone.close()

    # WCAG 2.2 AA by axe-core, on the page and on the answer for a dead link.
    checker = browser.new_context(viewport=PHONE)
    scan = checker.new_page()
    for address in (url, f"{live_server.url}/p/{'a' * 26}/"):
        scan.goto(address)
        assert axe(scan) == [], address
    checker.close()

    # The therapist's dashboard lists Priya, and why.
    assert FollowUp.objects.filter(patient=program.patient, reason="too_hard").exists()
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    staff = desk.new_page()
    staff.goto(f"{live_server.url}/accounts/login/")
    staff.get_by_label("Email", exact=True).fill("therapist@clinic.example")
    staff.get_by_label("Password").fill("browser-test-pw")
    staff.get_by_role("button", name="Log in").click()
    staff.wait_for_url(f"{live_server.url}/")
    calls = staff.locator("#needs-a-call")
    expect(calls).to_contain_text("Priya Raman")
    expect(calls).to_contain_text(FollowUp.Reason.TOO_HARD.label)
    desk.close()


def test_without_script_the_birth_year_and_the_plain_form_work(browser, live_server, program):
    """Under no-referrer a browser posts forms with "Origin: null": the page's forms
    must still be taken (the birth year, then a session sent as a plain form)."""
    clinic = program.clinic
    clinic.program_link_birth_year = True
    clinic.save()
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(scanned_link(program))
    page.get_by_label("The year you were born").fill("1993")
    page.get_by_role("button", name="Show my exercises").click()
    expect(page.get_by_role("heading", name="Hello Priya")).to_be_visible()
    page.get_by_label("Done (Glute bridge)").check()
    page.locator("label[for='pain-2']").click()
    page.get_by_role("button", name="Session done").click()
    expect(page.get_by_text("your session is saved")).to_be_visible()
    session = SessionLog.objects.get(patient=program.patient)  # Not the demo's Jordan.
    assert session.pain == 2 and session.is_finished
    context.close()
