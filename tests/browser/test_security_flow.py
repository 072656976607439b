"""A clinic admin invites a physio, who joins from the emailed link, turns on
two-factor sign-in and signs in with a code; the admin reads it all in the audit
trail. In a real browser, with the Content Security Policy checked on every page."""

import re
import time

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect


@pytest.fixture
def demo(transactional_db):
    call_command("load_library", file=settings.OPENHEP_LIBRARY_DIR / "exercises.json", verbosity=0)
    call_command("demo", password="browser-test-pw", verbosity=0)


def sign_in(page, base, email, password):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def current_code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    generator.time = time.time()
    return f"{generator.token():06d}"


def test_invite_join_two_factor_and_audit(page, browser, live_server, demo):
    base = live_server.url
    sign_in(page, base, "admin@clinic.example", "browser-test-pw")
    page.wait_for_url(f"{base}/")
    page.get_by_role("button", name="Clinic").click()
    page.get_by_role("link", name="Staff").click()
    page.get_by_label("Email").fill("nia.okafor@clinic.example")
    page.get_by_label("Job title (printed on handouts)").fill("Physiotherapist")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to nia.okafor@clinic.example.")).to_be_visible()

    [message] = mail.outbox
    link = re.search(r"https?://\S+/accounts/invitation/\S+/", message.body).group(0)

    newcomer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    blocked = []  # The ``page`` fixture checks its own pages; this second browser too.
    newcomer.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
    newcomer.goto(link)
    expect(newcomer).to_have_url(f"{base}/accounts/invitation/accept/")  # Token out of the bar.
    newcomer.get_by_label("First name").fill("Nia")
    newcomer.get_by_label("Last name").fill("Okafor")
    newcomer.locator("#id_password1").fill("knee-rehab-in-june")
    newcomer.locator("#id_password2").fill("knee-rehab-in-june")
    newcomer.get_by_role("button", name="Join the clinic").click()
    expect(newcomer.get_by_text("Welcome to Northside")).to_be_visible()

    # Two-factor sign-in from the account page.
    newcomer.goto(f"{base}/accounts/")
    newcomer.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(
        newcomer.get_by_role("img", name="QR code to scan with your authenticator app")
    ).to_be_visible()
    device = TOTPDevice.objects.get(user__email="nia.okafor@clinic.example")
    newcomer.get_by_label("6-digit code").fill(current_code(device))
    newcomer.get_by_role("button", name="Turn on").click()
    expect(newcomer.get_by_text("Two-factor sign-in is on.")).to_be_visible()
    expect(newcomer.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(newcomer.locator(".recovery-codes li")).to_have_count(10)
    newcomer.get_by_role("button", name="Log out").click()

    # Next sign-in: the password, then the code, then the patients.
    sign_in(newcomer, base, "nia.okafor@clinic.example", "knee-rehab-in-june")
    newcomer.goto(f"{base}/patients/")
    expect(newcomer.get_by_role("heading", name="Enter your code")).to_be_visible()
    device.refresh_from_db()
    device.last_t = -1  # The code used at set-up may still be the current one.
    device.save(update_fields=["last_t"])
    newcomer.get_by_label("Code from your app, or a recovery code").fill(current_code(device))
    newcomer.get_by_role("button", name="Continue").click()
    expect(newcomer.get_by_role("heading", name="Patients")).to_be_visible()
    newcomer.get_by_role("link", name=re.compile("Becker")).first.click()
    expect(newcomer.get_by_role("heading", name=re.compile("Becker"))).to_be_visible()

    # The admin sees the invitation and Nia's look at the record in the audit trail.
    page.goto(f"{base}/clinic/audit/")
    table = page.locator("table")
    expect(table.get_by_text("Invited nia.okafor@clinic.example as therapist")).to_be_visible()
    expect(table.get_by_text("nia.okafor@clinic.example").first).to_be_visible()
    expect(table.get_by_text("Viewed").first).to_be_visible()
    assert not blocked, blocked
    newcomer.context.close()
