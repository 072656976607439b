"""Signing in: lockout, password reset by email, idle sign-out, two-factor codes."""

import re
import time
from base64 import b32decode

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import middleware
from clinic.access import client_ip
from clinic.models import AuditEntry, Membership, User
from tests.factories import PASSWORD, MembershipFactory
from tests.helpers import emailed_path


def sign_in(client, user, password=PASSWORD):
    return client.post(reverse("login"), {"username": user.email, "password": password})


def code_for(device: TOTPDevice) -> str:
    """The code an authenticator app shows now (by the same clock the device checks with,
    which the ``clock`` fixture may have moved)."""
    device.refresh_from_db()
    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    generator.time = time.time()
    return f"{generator.token():06d}"


# Lockout (django-axes)


def test_five_wrong_passwords_lock_the_account_from_that_address(client, alice):
    for _ in range(5):
        response = sign_in(client, alice, "wrong password")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert "Try again in 15 minutes" in response.content.decode()
    # Even the right password is refused while locked.
    response = sign_in(client, alice)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another person's account from the same address is not affected.
    other = MembershipFactory().user
    assert sign_in(Client(), other).status_code == 302


def test_a_wrong_password_then_the_right_one_signs_in(client, alice):
    assert sign_in(client, alice, "nope").status_code == 200
    response = sign_in(client, alice)
    assert response.status_code == 302 and response.url == reverse("dashboard")


def test_password_reset_by_email(client, alice):
    response = client.post(reverse("password_reset"), {"email": alice.email})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [alice.email]
    path = emailed_path(message, "/accounts/reset/")
    response = client.get(path)  # Django swaps the token for a session and redirects.
    assert response.status_code == 302
    form_url = response.url
    response = client.post(
        form_url,
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-passphrase")
    # The link worked once.
    assert "already been used" in Client().get(path, follow=True).content.decode()


def test_password_reset_does_not_reveal_unknown_addresses(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@nowhere.example"})
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert not mail.outbox


def test_password_reset_is_limited_per_address_the_same_whether_it_exists(client, alice, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 3
    url = reverse("password_reset")
    answers = {}
    for address in ("alice@clinic.example", "nobody@nowhere.example"):
        for _ in range(3):
            assert client.post(url, {"email": address}).status_code == 302
        # Letter case does not make a new address.
        response = client.post(url, {"email": address.upper()})
        assert response.status_code == 429
        page = response.content.decode()
        assert "Too many password reset requests" in page and "try again in 60 minutes" in page
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
        answers[address] = page.replace(address.upper(), "ADDRESS")
    assert answers["alice@clinic.example"] == answers["nobody@nowhere.example"]
    assert len(mail.outbox) == 3  # Alice's three; the refused request sent nothing.


def test_password_reset_is_limited_per_client_address(client, alice, settings):
    settings.PASSWORD_RESET_LIMIT_PER_IP = 4
    url = reverse("password_reset")
    for n in range(4):
        response = client.post(url, {"email": f"someone{n}@nowhere.example"})
        assert response.status_code == 302
    response = client.post(url, {"email": alice.email})
    assert response.status_code == 429 and not mail.outbox
    # Another client is not held back by this one.
    other = Client(REMOTE_ADDR="203.0.113.7")
    assert other.post(url, {"email": alice.email}).status_code == 302
    assert len(mail.outbox) == 1


# Real commits: the task worker runs as in production, outside a test transaction.
@pytest.mark.django_db(transaction=True)
def test_password_reset_takes_the_same_path_for_unknown_addresses(client, alice, db_tasks):
    """The email is sent by the task worker: the request queues one task whatever the
    address, with the same database statements, and sends nothing itself."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tasks_db.models import DBTaskResult

    statements = {}
    for address in ("Alice@clinic.example", "nobody@nowhere.example"):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(reverse("password_reset"), {"email": address})
        assert response.status_code == 302 and response.url == reverse("password_reset_done")
        statements[address] = [
            q["sql"].split(" VALUES ")[0].split(" WHERE ")[0] for q in queries.captured_queries
        ]
    assert statements["Alice@clinic.example"] == statements["nobody@nowhere.example"]
    assert not mail.outbox
    assert DBTaskResult.objects.count() == 2
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    [message] = mail.outbox
    assert message.to == ["alice@clinic.example"]
    assert emailed_path(message, "/accounts/reset/").startswith("/accounts/reset/")


def test_a_new_password_lifts_a_lockout(client, alice):
    for _ in range(5):
        sign_in(client, alice, "wrong")
    client.post(reverse("password_reset"), {"email": alice.email})
    response = client.get(emailed_path(mail.outbox[0], "/accounts/reset/"))
    client.post(
        response.url,
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert sign_in(client, alice, "a-new-long-passphrase").status_code == 302


def test_change_password_needs_the_old_one(alice_client, alice):
    response = alice_client.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": "a-new-long-passphrase",
            "new_password2": "a-new-long-passphrase",
        },
    )
    assert response.status_code == 200 and "incorrectly" in response.content.decode()
    response = alice_client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase",
            "new_password2": "a-new-long-passphrase",
        },
    )
    assert response.status_code == 302
    assert alice_client.get(reverse("dashboard")).status_code == 200  # Still signed in here.


# Sessions


@pytest.fixture
def clock(monkeypatch):
    now = [1_800_000_000]
    monkeypatch.setattr(middleware.time, "time", lambda: now[0])
    monkeypatch.setattr("clinic.signals.time.time", lambda: now[0])
    return now


def test_signed_out_after_idle_minutes(client, alice, clock, settings):
    settings.SESSION_IDLE_MINUTES = 30
    sign_in(client, alice)
    clock[0] += 29 * 60
    assert client.get(reverse("patients:list")).status_code == 200
    clock[0] += 29 * 60  # Activity above moved the clock of idleness.
    assert client.get(reverse("patients:list")).status_code == 200
    clock[0] += 31 * 60
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    page = client.get(response.url).content.decode()
    assert "signed out after 30 minutes without activity" in page
    assert client.get(reverse("patients:list")).status_code == 302


def test_session_ends_after_its_maximum_age_even_when_active(client, alice, clock, settings):
    settings.SESSION_IDLE_MINUTES = 30
    settings.SESSION_COOKIE_AGE = 2 * 60 * 60
    sign_in(client, alice)
    for _ in range(4):
        clock[0] += 25 * 60
        assert client.get(reverse("dashboard")).status_code == 200
    clock[0] += 25 * 60
    assert client.get(reverse("dashboard")).status_code == 302


def test_htmx_requests_are_sent_to_login_as_a_whole_page(client, alice, clock, settings):
    settings.SESSION_IDLE_MINUTES = 30
    sign_in(client, alice)
    clock[0] += 31 * 60
    response = client.get(reverse("exercises:list"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_the_session_is_not_written_on_every_request(client, alice, clock):
    """One write a minute at most: a page view must not cost a database write."""
    from django.contrib.sessions.models import Session

    sign_in(client, alice)
    key = client.session.session_key
    before = Session.objects.get(session_key=key).expire_date
    clock[0] += 20
    client.get(reverse("dashboard"))
    assert Session.objects.get(session_key=key).expire_date == before


def test_client_ip_behind_a_proxy(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # Not the forgeable left-most address.


# Two-factor sign-in


def set_up_two_factor(client) -> TOTPDevice:
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.content.decode()
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(reverse("two_factor_setup"), {"code": "000000"})
    assert "did not match" in response.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(reverse("two_factor_setup"), {"code": code_for(device)})
    assert response.status_code == 200
    assert "Two-factor sign-in is on." in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    device.recovery_codes = recovery_codes_in(response)
    return device


def recovery_codes_in(response) -> list[str]:
    """The recovery codes as the page shows them (once)."""
    return re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", response.content.decode())


def test_two_factor_is_asked_after_the_password(client, alice):
    client.force_login(alice)
    device = set_up_two_factor(client)
    client.post(reverse("logout"))

    response = sign_in(client, alice)
    assert response.status_code == 302
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_verify"))
    # Nothing else is reachable, the Django admin included.
    assert client.get(reverse("patients:detail", args=[1])).status_code == 302
    assert client.get("/admin/").status_code == 302
    response = client.post(reverse("two_factor_verify") + "?next=/patients/", {"code": "123456"})
    assert "did not match" in response.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.last_t = -1  # The setup used this time step's code already.
    device.save()
    response = client.post(
        reverse("two_factor_verify"), {"code": code_for(device), "next": "/patients/"}
    )
    assert response.status_code == 302 and response.url == "/patients/"
    assert client.get(reverse("patients:list")).status_code == 200


def test_clinic_can_require_two_factor_for_admins_only(client, alice, bob, clinic):
    Membership.objects.filter(user=alice).update(role=Membership.Role.ADMIN)
    client.force_login(alice)
    # The admin turning it on must have it first.
    data = {
        "name": clinic.name,
        "brand_colour": "#0f5e6e",
        "paper_size": "A4",
        "email_subject": "Your program",
        "program_link_days": 90,
        "reminder_nudge_days": 4,
        "email_message": "Attached.",
        "require_two_factor": "on",
    }
    response = client.post(reverse("clinic_settings"), data)
    assert "Set up two-factor sign-in for your own account first" in response.content.decode()
    set_up_two_factor(client)
    assert client.post(reverse("clinic_settings"), data).status_code == 302
    clinic.refresh_from_db()
    assert clinic.require_two_factor

    other_admin = MembershipFactory(clinic=clinic, role=Membership.Role.ADMIN).user
    admin_browser = Client()
    sign_in(admin_browser, other_admin)
    response = admin_browser.get(reverse("dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_setup"))
    # Therapists are not affected.
    therapist_browser = Client()
    sign_in(therapist_browser, bob)
    assert therapist_browser.get(reverse("dashboard")).status_code == 200
    # And an admin who must have it cannot turn it off.
    response = client.get(reverse("two_factor_remove"), follow=True)
    assert "cannot be turned off" in response.content.decode()
    assert TOTPDevice.objects.filter(user=alice, confirmed=True).exists()


def test_turning_two_factor_off_needs_the_password(alice_client, alice):
    set_up_two_factor(alice_client)
    response = alice_client.post(reverse("two_factor_remove"), {"password": "wrong"})
    assert "not your password" in response.content.decode()
    assert TOTPDevice.objects.filter(user=alice).exists()
    alice_client.post(reverse("two_factor_remove"), {"password": PASSWORD})
    assert not TOTPDevice.objects.filter(user=alice).exists()
    alice_client.post(reverse("logout"))
    sign_in(alice_client, alice)
    assert alice_client.get(reverse("dashboard")).status_code == 200


def test_account_page(alice_client, alice):
    page = alice_client.get(reverse("account")).content.decode()
    assert alice.email in page and "Set up two-factor sign-in" in page


def test_an_older_session_must_verify_once_two_factor_is_turned_on(client, alice, clock):
    """Turning two-factor on because a password leaked must shut out a session signed
    in before, within a minute, and that session cannot add a device of its own."""
    older = Client()
    sign_in(older, alice)
    clock[0] += 5
    client.force_login(alice)
    set_up_two_factor(client)
    clock[0] += 61
    response = older.get(reverse("patients:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_verify"))
    response = older.get(reverse("two_factor_setup"))
    assert response.status_code == 302 and response.url == reverse("two_factor_verify")
    assert older.get(reverse("two_factor_remove")).status_code == 302
    assert TOTPDevice.objects.filter(user=alice).count() == 1


def test_a_session_is_not_stuck_when_its_device_is_deleted(client, alice, clock):
    client.force_login(alice)
    set_up_two_factor(client)
    TOTPDevice.objects.filter(user=alice).delete()  # A site admin, for a lost phone.
    clock[0] += 61
    response = client.get(reverse("patients:list"))
    assert response.status_code == 200
    response = client.get(reverse("two_factor_verify"))
    assert response.status_code == 302


def test_throttled_codes_say_so(client, alice):
    client.force_login(alice)
    device = set_up_two_factor(client)
    client.post(reverse("logout"))
    sign_in(client, alice)
    for _ in range(3):
        client.post(reverse("two_factor_verify"), {"code": "000000"})
    device.last_t = -1
    device.save(update_fields=["last_t"])
    response = client.post(reverse("two_factor_verify"), {"code": code_for(device)})
    assert "Too many wrong codes" in response.content.decode()


def test_signed_in_visit_to_login_with_next_login_goes_to_the_dashboard(alice_client):
    response = alice_client.get(reverse("login") + "?next=" + reverse("login"))
    assert response.status_code == 302 and response.url == reverse("dashboard")


def test_idle_sign_out_of_a_form_post_comes_back_to_the_dashboard(client, alice, clock, patient):
    sign_in(client, alice)
    clock[0] += 31 * 60
    response = client.post(reverse("patients:edit", args=[patient.pk]), {"first_name": "X"})
    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=/"


# E-mail addresses are one account whatever their letter case


NO_INLINES = {"membership-TOTAL_FORMS": "0", "membership-INITIAL_FORMS": "0"}


def test_sign_in_with_the_address_in_another_letter_case(client, clinic):
    user = User.objects.create_user("Mixed.Case@Clinic.example", PASSWORD)
    assert user.email == "mixed.case@clinic.example"
    for typed in ("mixed.case@clinic.example", "MIXED.CASE@CLINIC.EXAMPLE", " Mixed.Case@…"):
        browser = Client()
        response = browser.post(reverse("login"), {"username": typed, "password": PASSWORD})
        if typed.endswith("…"):
            assert response.status_code == 200  # Not an address at all: a wrong login.
            continue
        assert response.status_code == 302, typed
        assert browser.session["_auth_user_id"] == str(user.pk)


def test_an_account_made_in_the_admin_signs_in_in_any_case(client, django_user_model):
    curator = django_user_model.objects.create_superuser("curator@site.example", "pw-curator-1")
    client.force_login(curator)
    response = client.post(
        reverse("admin:clinic_user_add"),
        {"email": "New.Person@Clinic.example", "password1": PASSWORD, "password2": PASSWORD}
        | NO_INLINES,
    )
    assert response.status_code == 302
    assert User.objects.filter(email="new.person@clinic.example").exists()
    browser = Client()
    response = browser.post(
        reverse("login"), {"username": "new.person@clinic.example", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_a_second_account_differing_only_in_case_is_a_form_error(client, alice, django_user_model):
    curator = django_user_model.objects.create_superuser("curator@site.example", "pw-curator-1")
    client.force_login(curator)
    response = client.post(
        reverse("admin:clinic_user_add"),
        {"email": "ALICE@Clinic.Example", "password1": PASSWORD, "password2": PASSWORD}
        | NO_INLINES,
    )
    assert response.status_code == 200
    assert "with this Email address already exists" in response.content.decode()
    assert User.objects.with_email("alice@clinic.example").count() == 1
    # Changing another account's address to Alice's in another case: the same.
    bob = MembershipFactory(user__email="bob@clinic.example").user
    response = client.post(
        reverse("admin:clinic_user_change", args=[bob.pk]),
        {
            "email": "Alice@clinic.example",
            "first_name": "Bob",
            "last_name": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        }
        | NO_INLINES,
    )
    assert response.status_code == 200
    assert "with this Email address already exists" in response.content.decode()
    bob.refresh_from_db()
    assert bob.email == "bob@clinic.example"


def test_the_database_refuses_a_second_account_differing_only_in_case(alice):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="Alice@Clinic.Example")


def test_lockout_counts_every_letter_case_of_an_address_as_one(client, alice):
    for typed in (
        "alice@clinic.example",
        "Alice@clinic.example",
        "ALICE@clinic.example",
        "alice@CLINIC.example",
        "aLiCe@clinic.example",
    ):
        response = client.post(reverse("login"), {"username": typed, "password": "wrong"})
    assert response.status_code == 429
    assert sign_in(client, alice).status_code == 429


def test_password_reset_finds_the_account_in_any_case(client, alice):
    client.post(reverse("password_reset"), {"email": "ALICE@Clinic.Example"})
    [message] = mail.outbox
    assert message.to == ["alice@clinic.example"]


# Two-factor set-up belongs to the session that shows it


def key_on(page) -> bytes:
    """The secret as the set-up page shows it to whoever opens it."""
    [key] = re.findall(r'<code class="user-select-all[^"]*">([A-Z2-7 ]+)</code>', page)
    return b32decode(key.replace(" ", ""))


def code_from_key(key: bytes, *, steps_ahead: int = 0) -> str:
    """What an authenticator app holding ``key`` shows (``steps_ahead`` × 30 s later)."""
    generator = TOTP(key)
    generator.time = time.time() + 30 * steps_ahead
    return f"{generator.token():06d}"


def test_a_key_seen_in_another_session_never_becomes_the_owners(alice):
    # Someone who knows Alice's password opens set-up and notes the key...
    attacker = Client()
    sign_in(attacker, alice)
    planted = key_on(attacker.get(reverse("two_factor_setup")).content.decode())
    # ...Alice, in her own browser, sets up her phone and confirms...
    owner = Client()
    sign_in(owner, alice)
    page = owner.get(reverse("two_factor_setup")).content.decode()
    assert key_on(page) != planted
    assert key_on(owner.get(reverse("two_factor_setup")).content.decode()) == key_on(page)
    response = owner.post(
        reverse("two_factor_setup"), {"code": code_from_key(key_on(page))}, follow=True
    )
    assert "Two-factor sign-in is on." in response.content.decode()
    assert list(TOTPDevice.objects.filter(user=alice).values_list("confirmed", flat=True)) == [True]
    # ...and a third session with the password and codes from the noted key gets no further.
    third = Client()
    assert sign_in(third, alice).status_code == 302
    # The next time step's code: the current step's was just used by the owner, and the
    # device would refuse it as a replay whatever its key.
    response = third.post(
        reverse("two_factor_verify"), {"code": code_from_key(planted, steps_ahead=1)}
    )
    assert "did not match" in response.content.decode()
    response = third.get(reverse("patients:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_verify"))
    # Nor can the noted session confirm its key now.
    response = attacker.post(
        reverse("two_factor_setup"), {"code": code_from_key(planted, steps_ahead=1)}
    )
    assert response.status_code == 302 and response.url == reverse("two_factor_verify")


# Recovery codes for a lost phone


def fresh_sign_in(user) -> Client:
    browser = Client()
    assert sign_in(browser, user).status_code == 302
    return browser


def test_turning_two_factor_on_shows_ten_recovery_codes_once(alice_client, alice):
    device = set_up_two_factor(alice_client)
    assert len(device.recovery_codes) == 10 == len(set(device.recovery_codes))
    page = alice_client.get(reverse("account")).content.decode()
    assert "10 left" in page
    assert not any(code in page for code in device.recovery_codes)


def test_a_recovery_code_signs_in_once(alice_client, alice, clinic):
    codes = set_up_two_factor(alice_client).recovery_codes
    browser = fresh_sign_in(alice)
    # As someone might type it off paper: capitals, spaces instead of the dash.
    typed = codes[3].upper().replace("-", " ")
    response = browser.post(reverse("two_factor_verify"), {"code": typed}, follow=True)
    page = response.content.decode()
    assert "You signed in with a recovery code; it will not work again (9 left)" in page
    assert browser.get(reverse("patients:list")).status_code == 200
    again = fresh_sign_in(alice)
    response = again.post(reverse("two_factor_verify"), {"code": codes[3]})
    assert "That recovery code did not match, or it was used already." in (
        response.content.decode()
    )
    assert again.get(reverse("patients:list")).status_code == 302
    assert "9 left" in browser.get(reverse("account")).content.decode()
    assert AuditEntry.objects.filter(
        clinic=clinic, detail="Signed in with a recovery code (9 left)"
    ).exists()


def test_ordinary_sign_ins_do_not_use_up_the_recovery_codes_tries(alice_client, alice):
    device = set_up_two_factor(alice_client)
    for _ in range(4):
        browser = fresh_sign_in(alice)
        device.refresh_from_db()
        device.last_t = -1
        device.save(update_fields=["last_t"])
        assert browser.post(reverse("two_factor_verify"), {"code": code_for(device)}).status_code
    browser = fresh_sign_in(alice)
    response = browser.post(reverse("two_factor_verify"), {"code": device.recovery_codes[0]})
    assert response.status_code == 302


def test_new_recovery_codes_need_the_password_or_a_code_and_replace_the_old(alice_client, alice):
    device = set_up_two_factor(alice_client)
    url = reverse("two_factor_recovery_codes")
    response = alice_client.post(url, {"secret": "not my password"})
    assert "That is not your password." in response.content.decode()
    response = alice_client.post(url, {"secret": PASSWORD})
    new_codes = recovery_codes_in(response)
    assert len(new_codes) == 10 and not set(new_codes) & set(device.recovery_codes)
    assert "Your old recovery codes no longer work." in response.content.decode()
    # With a code from the app instead of the password.
    device.refresh_from_db()
    device.last_t = -1
    device.save(update_fields=["last_t"])
    newest = recovery_codes_in(alice_client.post(url, {"secret": code_for(device)}))
    assert len(newest) == 10
    browser = fresh_sign_in(alice)
    for old in (device.recovery_codes[0], new_codes[0]):
        response = browser.post(reverse("two_factor_verify"), {"code": old})
        assert "did not match" in response.content.decode()
        StaticDevice.objects.filter(user=alice).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )
    assert browser.post(reverse("two_factor_verify"), {"code": newest[0]}).status_code == 302


def test_new_recovery_codes_need_a_session_that_entered_its_code(alice_client, alice):
    set_up_two_factor(alice_client)
    browser = Client()
    sign_in(browser, alice)  # Password only.
    response = browser.post(reverse("two_factor_recovery_codes"), {"secret": PASSWORD})
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_verify"))
    assert StaticToken.objects.filter(device__user=alice).count() == 10


def test_turning_two_factor_off_removes_the_recovery_codes(alice_client, alice):
    set_up_two_factor(alice_client)
    alice_client.post(reverse("two_factor_remove"), {"password": PASSWORD})
    assert not StaticDevice.objects.filter(user=alice).exists()


def test_two_factor_changes_are_in_the_clinic_audit_trail(alice_client, alice, clinic):
    set_up_two_factor(alice_client)
    alice_client.post(reverse("two_factor_recovery_codes"), {"secret": PASSWORD})
    alice_client.post(reverse("two_factor_remove"), {"password": PASSWORD})
    entries = AuditEntry.objects.filter(clinic=clinic, action="staff").order_by("pk")
    assert [(e.actor, e.target, e.detail) for e in entries] == [
        (alice, "member alice@clinic.example", "Turned on two-factor sign-in"),
        (alice, "member alice@clinic.example", "Made new recovery codes"),
        (alice, "member alice@clinic.example", "Turned off two-factor sign-in"),
    ]
