"""Reminder emails the patient controls: through a real SMTP server on loopback
(aiosmtpd), at the chosen time, once each, stopped by the one-click unsubscribe."""

import datetime
import re
import threading
import uuid
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.audit import Actor
from clinic.models import AuditEntry
from openhep.mailers import mailer_from_url
from patientpage import reminders
from patientpage.models import ReminderPlan, ReminderSent, SessionLog
from prescriptions import links, services
from prescriptions.services.links import program_link_turn_off
from tests.prescriptions.test_email import SMTPServer, run_worker

# Real commits, as in production: the email is queued when the run's row commits.
pytestmark = pytest.mark.django_db(transaction=True)

MELBOURNE = ZoneInfo("Australia/Melbourne")
SITE = "https://exercises.northside.example"
PATIENT = Actor(user=None, ip="203.0.113.9", name="patient (own page)")


@pytest.fixture
def smtp_server(settings):
    server = SMTPServer()
    settings.MAILERS = {"default": mailer_from_url(f"smtp://127.0.0.1:{server.port}/", timeout=5)}
    settings.DEFAULT_FROM_EMAIL = "OpenHEP <handouts@openhep.example>"
    settings.SITE_URL = SITE
    server.start()
    yield server
    server.stop()


def next_at(weekday: int, hour: int, minute: int = 0) -> datetime.datetime:
    """The next ``weekday`` (ISO) at that Melbourne time, at least a day from now."""
    day = timezone.now().astimezone(MELBOURNE).date() + datetime.timedelta(days=1)
    while day.isoweekday() != weekday:
        day += datetime.timedelta(days=1)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=MELBOURNE)


def make_plan(link, **changes) -> ReminderPlan:
    values = {
        "email": "jordan.reminders@patient.example",
        "weekdays": "135",
        "time": datetime.time(18, 0),
        "time_zone": "Australia/Melbourne",
        "nudge": False,
        "consent": True,
    }
    values.update(changes)
    return reminders.reminder_plan_save(link=link, actor=PATIENT, **values)


def test_reminder_arrives_at_the_chosen_time_once_each(link, smtp_server):
    plan = make_plan(link)
    monday = next_at(1, 18)
    assert reminders.reminders_send(now=monday - datetime.timedelta(minutes=1)) == 0
    assert reminders.reminders_send(now=monday) == 1
    assert reminders.reminders_send(now=monday) == 0
    assert reminders.reminders_send(now=monday + datetime.timedelta(minutes=5)) == 0
    [envelope] = smtp_server.recorder.envelopes
    assert envelope.rcpt_tos == ["jordan.reminders@patient.example"]
    [message] = smtp_server.messages
    assert message["Subject"] == "Time for your exercises"
    [sender] = message["From"].addresses
    assert sender.display_name == "Northside Myotherapy"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    token = links.token_of(link)
    assert f"Open your exercises: {SITE}/p/{token}/" in text
    assert f'href="{SITE}/p/{token}/"' in html
    assert "Hello Jordan," in text and "Hello Jordan," in html
    assert "Ellis" not in text + html + message["Subject"]
    row = ReminderSent.objects.get()
    assert (row.plan, row.kind, row.status, row.attempts) == (plan, "reminder", "sent", 1)
    assert row.due_at == monday and row.sent_at is not None
    assert message["Message-ID"].startswith(f"<openhep.reminder.{row.pk}@")
    # Wednesday's moment is the next one.
    wednesday = monday + datetime.timedelta(days=2)
    assert reminders.reminders_send(now=wednesday + datetime.timedelta(minutes=3)) == 1
    assert len(smtp_server.recorder.envelopes) == 2


def test_overlapping_runs_send_once(link, smtp_server, monkeypatch):
    make_plan(link)
    friday = next_at(5, 18)
    # Two schedulers read what is due at the same moment; one writes first.
    seen_by_both = reminders.reminders_due(friday)
    assert len(seen_by_both) == 1
    assert reminders.reminders_send(now=friday) == 1
    monkeypatch.setattr(reminders, "reminders_due", lambda now: seen_by_both)
    assert reminders.reminders_send(now=friday) == 0
    assert len(smtp_server.recorder.envelopes) == 1
    assert ReminderSent.objects.count() == 1


def test_racing_schedulers_send_one_email(link, smtp_server):
    make_plan(link)
    friday = next_at(5, 18)
    if connection.vendor != "postgresql":
        # SQLite's database-wide write lock serialises the runs.
        assert [reminders.reminders_send(now=friday) for _ in range(3)] == [1, 0, 0]
        assert len(smtp_server.recorder.envelopes) == 1
        return
    start = threading.Barrier(4)
    results = []

    def scheduler():
        start.wait()
        try:
            results.append(reminders.reminders_send(now=friday))
        finally:
            connection.close()

    runs = [threading.Thread(target=scheduler) for _ in range(4)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert sorted(results) == [0, 0, 0, 1]
    assert len(smtp_server.recorder.envelopes) == 1


def test_a_missed_moment_goes_within_two_hours_and_older_ones_are_skipped(link, smtp_server):
    make_plan(link, weekdays="13")
    monday = next_at(1, 18)
    # The scheduler was down at six; it runs again at a quarter to eight.
    assert reminders.reminders_send(now=monday + datetime.timedelta(minutes=105)) == 1
    # Down all Wednesday evening: by 21:00 that moment is too old to be useful.
    wednesday = monday + datetime.timedelta(days=2)
    assert reminders.reminders_send(now=wednesday + datetime.timedelta(hours=3)) == 0
    assert [row.due_at for row in ReminderSent.objects.all()] == [monday]
    assert len(smtp_server.recorder.envelopes) == 1


def test_the_time_is_the_plans_time_zone(link, smtp_server):
    make_plan(link, weekdays="1234567", time=datetime.time(7, 30), time_zone="Europe/London")
    london = ZoneInfo("Europe/London")
    day = timezone.now().astimezone(london).date() + datetime.timedelta(days=1)
    moment = datetime.datetime.combine(day, datetime.time(7, 30), tzinfo=london)
    assert reminders.reminders_send(now=moment - datetime.timedelta(seconds=1)) == 0
    assert reminders.reminders_send(now=moment) == 1
    assert ReminderSent.objects.get().due_at == moment


def test_headers_offer_one_click_unsubscribe_without_the_program_token(link, smtp_server):
    make_plan(link)
    reminders.reminders_send(now=next_at(1, 18))
    [message] = smtp_server.messages
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = message["List-Unsubscribe"]
    assert re.fullmatch(rf"<{re.escape(SITE)}/p/unsubscribe/[^>\s]+/>", header)
    token = links.token_of(link)
    assert token not in header and links.hash_token(token) not in header
    assert token not in urlsplit(header.strip("<>")).path
    assert header.strip("<>") in message.get_body(("plain",)).get_content()


def test_one_click_unsubscribe_stops_the_emails(link, smtp_server):
    plan = make_plan(link)
    monday = next_at(1, 18)
    reminders.reminders_send(now=monday)
    [message] = smtp_server.messages
    path = urlsplit(message["List-Unsubscribe"].strip("<>")).path
    # What a mail program sends: no cookie, no CSRF token, the RFC 8058 body.
    mail_program = Client(enforce_csrf_checks=True)
    response = mail_program.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "Reminder emails stopped" in response.content.decode()
    plan.refresh_from_db()
    assert plan.stopped_at is not None
    entry = AuditEntry.objects.filter(target=f"reminder plan {plan.pk}").latest("pk")
    assert (entry.action, entry.detail) == ("change", "Reminder emails stopped")
    assert entry.actor_email == "patient (unsubscribe link)" and entry.ip_address
    # Sent again by the mail program: nothing more happens.
    assert (
        mail_program.post(
            path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 200
    )
    assert AuditEntry.objects.filter(detail="Reminder emails stopped").count() == 1
    assert reminders.reminders_send(now=monday + datetime.timedelta(days=2)) == 0
    assert len(smtp_server.recorder.envelopes) == 1


def test_the_unsubscribe_link_asks_before_stopping(link, client):
    plan = make_plan(link)
    path = urlsplit(reminders.unsubscribe_url(plan)).path
    page = client.get(path)
    assert page.status_code == 200
    assert "Stop reminder emails?" in page.content.decode()
    plan.refresh_from_db()
    assert plan.stopped_at is None  # A link scanner's GET stops nothing.
    assert "jordan" not in page.content.decode().lower()


@pytest.mark.parametrize(
    "code",
    [
        "1:tampered",
        "MQ:1kQ6xH:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "not-a-code",
    ],
)
def test_a_wrong_or_tampered_signature_gets_404(link, client, code):
    plan = make_plan(link)
    assert client.get(f"/p/unsubscribe/{code}/").status_code == 404
    assert client.post(f"/p/unsubscribe/{code}/").status_code == 404
    plan.refresh_from_db()
    assert plan.stopped_at is None


def test_a_signature_of_another_purpose_gets_404(link, client):
    from django.core import signing

    plan = make_plan(link)
    code = signing.dumps(plan.pk, salt="openhep.patientpage.birth-year")
    assert client.post(f"/p/unsubscribe/{code}/").status_code == 404
    plan.refresh_from_db()
    assert plan.stopped_at is None


def test_no_reminders_without_consent(link, smtp_server):
    with pytest.raises(ValidationError):
        make_plan(link, consent=False)
    assert not ReminderPlan.objects.exists()
    assert reminders.reminders_send(now=next_at(1, 18)) == 0
    assert smtp_server.recorder.envelopes == []


def test_consent_is_stored_word_for_word(link):
    plan = make_plan(link)
    assert plan.consent_text == (
        "I agree that Northside Myotherapy may email me reminders to do my home exercises, "
        "at the days and time I chose. I can stop them at any time."
    )
    assert timezone.now() - plan.consent_at < datetime.timedelta(minutes=1)
    entry = AuditEntry.objects.get(target=f"reminder plan {plan.pk}")
    assert (entry.action, entry.detail) == ("change", "Reminder emails turned on, with consent")
    assert "patient.example" not in entry.detail + entry.target


def nudges():
    return ReminderSent.objects.filter(kind=ReminderSent.Kind.NUDGE)


def test_nudge_once_after_quiet_days_and_not_again_until_activity(link, smtp_server):
    assert link.clinic.reminder_nudge_days == 4
    plan = make_plan(link, weekdays="6", time=datetime.time(9, 0), nudge=True)
    earliest = plan.consent_at + datetime.timedelta(days=4)
    day = earliest.astimezone(MELBOURNE).date()
    nudge_at = datetime.datetime.combine(day, datetime.time(9, 0), tzinfo=MELBOURNE)
    if nudge_at < earliest:
        nudge_at += datetime.timedelta(days=1)
    reminders.reminders_send(now=nudge_at - datetime.timedelta(minutes=1))
    assert not nudges().exists()
    reminders.reminders_send(now=nudge_at)
    assert [row.due_at for row in nudges()] == [nudge_at]
    nudge_mail = [
        m for m in smtp_server.messages if "waiting" in m.get_body(("plain",)).get_content()
    ]
    assert len(nudge_mail) == 1
    assert (
        "Nothing has been logged on your exercise page for 4 days"
        in nudge_mail[0].get_body(("plain",)).get_content()
    )
    # Still nothing logged: no second nudge, however long it stays quiet.
    for days in (1, 4, 9, 20):
        reminders.reminders_send(now=nudge_at + datetime.timedelta(days=days))
    assert nudges().count() == 1
    # The patient logs a session, then goes quiet again: one more nudge, 4 days on.
    logged = nudge_at + datetime.timedelta(days=21)
    SessionLog.objects.create(
        clinic=link.clinic,
        patient=link.patient,
        prescription=link.prescription,
        link=link,
        client_ref=uuid.uuid4(),
        started_at=logged,
    )
    reminders.reminders_send(now=logged + datetime.timedelta(days=3))
    assert nudges().count() == 1
    second = logged.astimezone(MELBOURNE).date() + datetime.timedelta(days=4)
    second_at = datetime.datetime.combine(second, datetime.time(9, 0), tzinfo=MELBOURNE)
    if second_at < logged + datetime.timedelta(days=4):
        second_at += datetime.timedelta(days=1)
    reminders.reminders_send(now=second_at)
    reminders.reminders_send(now=second_at + datetime.timedelta(minutes=5))
    assert [row.due_at for row in nudges()] == [second_at, nudge_at]


def test_no_nudge_when_the_clinic_sends_none_or_the_patient_said_no(link, smtp_server):
    plan = make_plan(link, weekdays="6", nudge=False)
    later = plan.consent_at + datetime.timedelta(days=10)
    reminders.reminders_send(now=later)
    assert not nudges().exists()
    clinic = link.clinic
    clinic.reminder_nudge_days = 0
    clinic.save()
    make_plan(link, weekdays="6", nudge=True)
    reminders.reminders_send(now=later + datetime.timedelta(days=10))
    assert not nudges().exists()


def test_no_reminder_once_the_link_is_turned_off(link, alice, smtp_server):
    make_plan(link)
    program_link_turn_off(link=link, actor=Actor(alice))
    assert reminders.reminders_send(now=next_at(1, 18)) == 0
    assert smtp_server.recorder.envelopes == []


def test_no_reminder_for_an_archived_patient_or_a_stopped_plan(link, smtp_server):
    plan = make_plan(link)
    reminders.reminder_plan_stop(plan=plan, actor=PATIENT)
    assert reminders.reminders_send(now=next_at(1, 18)) == 0
    make_plan(link)  # On again, with consent.
    link.patient.archived = True
    link.patient.save()
    assert reminders.reminders_send(now=next_at(3, 18)) == 0
    assert smtp_server.recorder.envelopes == []


def test_no_reminder_after_the_page_expires(link, smtp_server):
    prescription = link.prescription
    prescription.review_date = timezone.localdate()
    prescription.save()
    clinic = link.clinic
    clinic.program_link_days = 1
    clinic.save()
    make_plan(link, weekdays="1234567")
    in_three_days = timezone.now() + datetime.timedelta(days=3)
    assert reminders.reminders_send(now=in_three_days) == 0


def test_a_queued_reminder_is_not_sent_once_the_link_is_off(link, alice, smtp_server, db_tasks):
    make_plan(link)
    monday = next_at(1, 18)
    assert reminders.reminders_send(now=monday) == 1
    program_link_turn_off(link=link, actor=Actor(alice))
    run_worker()
    row = ReminderSent.objects.get()
    assert (row.status, row.attempts) == ("failed", 0)
    assert row.last_error == "Not sent: reminders stopped or page closed."
    assert smtp_server.recorder.envelopes == []


def test_a_refused_email_is_failed_with_the_error_class_and_no_personal_data(link, smtp_server):
    make_plan(link)
    smtp_server.recorder.reply = "554 Transaction failed"
    reminders.reminders_send(now=next_at(1, 18))
    row = ReminderSent.objects.get()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith("SMTPDataError: ")
    assert "patient.example" not in row.last_error and "Jordan" not in row.last_error


def test_a_temporary_failure_is_retried_and_sent_once(link, smtp_server, db_tasks):
    make_plan(link)
    smtp_server.stop()
    reminders.reminders_send(now=next_at(1, 18))
    run_worker()
    row = ReminderSent.objects.get()
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error.startswith("SMTPServerDisconnected") or "reached" in row.last_error
    smtp_server.start()
    run_worker()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    run_worker()
    assert len(smtp_server.recorder.envelopes) == 1


# The page: /p/<token>/reminders/


@pytest.fixture
def reminders_url(link) -> str:
    return reverse("patientpage:reminders", args=[links.token_of(link)])


def form_data(**changes) -> dict:
    data = {
        "days": ["1", "3", "5"],
        "time": "18:30",
        "time_zone": "Australia/Melbourne",
        "address": "clinic",
        "email": "",
        "nudge": "on",
        "consent": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_page_turns_reminders_on_with_the_clinics_address_without_showing_it(
    client, link, reminders_url
):
    page = client.get(reminders_url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "The address Northside Myotherapy has for me" in body
    assert "jordan@patient.example" not in body
    assert '<label class="form-check-label" for="id_consent">I agree' in body
    response = client.post(reminders_url, form_data())
    assert response.status_code == 302 and response["Location"] == reminders_url + "?saved=1"
    plan = ReminderPlan.objects.get()
    assert (plan.email, plan.weekdays, plan.time, plan.time_zone, plan.nudge) == (
        "jordan@patient.example",
        "135",
        datetime.time(18, 30),
        "Australia/Melbourne",
        True,
    )
    after = client.get(reminders_url + "?saved=1").content.decode()
    assert "Every Monday, Wednesday and Friday at 18:30" in after
    assert "jordan@patient.example" not in after and "Stop reminder emails" in after
    entry = AuditEntry.objects.get(target=f"reminder plan {plan.pk}")
    assert entry.actor_email == "patient (own page)" and entry.ip_address


def test_the_page_takes_an_address_the_patient_types(client, link, reminders_url):
    response = client.post(
        reminders_url, form_data(address="other", email="jordan.phone@mail.example")
    )
    assert response.status_code == 302
    assert ReminderPlan.objects.get().email == "jordan.phone@mail.example"
    again = client.get(reminders_url).content.decode()
    assert "jordan.phone@mail.example" not in again
    assert "The address my reminders go to now" in again


def test_errors_are_shown_next_to_their_fields(client, link, reminders_url):
    response = client.post(
        reminders_url,
        form_data(days=None, time="25:99", address="other", email="", consent=None),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_days-error">Choose at least one day.' in body
    assert 'id="id_time-error">Enter a time like 18:30.' in body
    assert 'id="email-error">Enter the email address for your reminders.' in body
    assert 'id="consent-error">Tick this box to agree, or we cannot send reminders.' in body
    assert 'aria-describedby="consent-error"' in body
    assert not ReminderPlan.objects.exists()


def test_an_unknown_time_zone_is_refused(client, link, reminders_url):
    response = client.post(reminders_url, form_data(time_zone="Mars/Olympus_Mons"))
    assert response.status_code == 400
    assert "Choose a time zone from the list." in response.content.decode()
    with pytest.raises(ValidationError):
        make_plan(link, time_zone="Mars/Olympus_Mons")


def test_the_stop_button_stops_and_the_form_turns_them_on_again(client, link, reminders_url):
    client.post(reminders_url, form_data())
    response = client.post(reminders_url, {"stop": "1"})
    assert response["Location"] == reminders_url + "?stopped=1"
    plan = ReminderPlan.objects.get()
    assert plan.stopped_at is not None
    page = client.get(reminders_url + "?stopped=1").content.decode()
    assert "Reminder emails are off" in page and "Your reminders are on" not in page
    client.post(reminders_url, form_data(address="clinic"))
    plan.refresh_from_db()
    assert plan.stopped_at is None
    details = list(
        AuditEntry.objects.filter(target=f"reminder plan {plan.pk}")
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert details == [
        "Reminder emails turned on, with consent",
        "Reminder emails stopped",
        "Reminder emails turned on again, with consent",
    ]


def test_the_stop_button_works_as_a_browser_posts_it_under_no_referrer(link, reminders_url):
    # No CSRF token and "Origin: null" (patientpage.views.patient_form says why).
    make_plan(link)
    browser = Client(enforce_csrf_checks=True, HTTP_ORIGIN="null")
    assert browser.post(reminders_url, {"stop": "1"}).status_code == 302
    assert ReminderPlan.objects.get().stopped_at is not None


def test_a_link_that_opens_nothing_gets_the_plain_404(client, link, alice, reminders_url):
    assert client.get("/p/abcdefghijklmnopqrstuvwxyz/reminders/").status_code == 404
    program_link_turn_off(link=link, actor=Actor(alice))
    assert client.get(reminders_url).status_code == 404
    assert client.post(reminders_url, form_data()).status_code == 404
    assert not ReminderPlan.objects.exists()


def test_the_birth_year_check_comes_first(client, link, reminders_url):
    clinic = link.clinic
    clinic.program_link_birth_year = True
    clinic.save()
    patient = link.patient
    patient.date_of_birth = datetime.date(1970, 5, 1)
    patient.save()
    response = client.post(reminders_url, form_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("patientpage:page", args=[links.token_of(link)])
    assert not ReminderPlan.objects.exists()


def test_the_patient_page_links_to_reminders(client, link, page_url, reminders_url):
    body = client.get(page_url).content.decode()
    assert f'href="{reminders_url}"' in body


def test_the_handout_email_gives_the_page_link(alice, issued, link, smtp_server):
    services.delivery_request(prescription=issued, actor=Actor(alice), request_key=uuid.uuid4())
    [message] = smtp_server.messages
    url = f"{SITE}/p/{links.token_of(link)}/"
    assert f"Open your exercises on your phone: {url}" in message.get_body(("plain",)).get_content()
    assert f'href="{url}"' in message.get_body(("html",)).get_content()


def test_the_handout_email_has_no_page_link_once_it_is_off(alice, issued, link, smtp_server):
    program_link_turn_off(link=link, actor=Actor(alice))
    services.delivery_request(prescription=issued, actor=Actor(alice), request_key=uuid.uuid4())
    [message] = smtp_server.messages
    assert "/p/" not in message.get_body(("plain",)).get_content()


def test_a_reminder_whose_task_was_lost_is_queued_again_and_sent_once(link, smtp_server, db_tasks):
    from django_tasks_db.models import DBTaskResult

    make_plan(link)
    monday = next_at(1, 18)
    reminders.reminders_send(now=monday)
    DBTaskResult.objects.all().delete()  # The queue was lost before a worker ran it.
    reminders.reminders_send(now=monday + datetime.timedelta(minutes=5))
    assert not DBTaskResult.objects.exists()  # Too soon to call it lost.
    reminders.reminders_send(now=monday + datetime.timedelta(minutes=15))
    reminders.reminders_send(now=monday + datetime.timedelta(minutes=20))  # Two tasks now.
    run_worker()
    row = ReminderSent.objects.get()
    assert (row.status, row.attempts) == ("sent", 1)
    assert len(smtp_server.recorder.envelopes) == 1


def test_staff_see_the_reminders_on_the_prescription_page_never_the_address(
    alice_client, link, issued
):
    page = alice_client.get(issued.get_absolute_url()).content.decode()
    assert "No reminders asked for." in page
    plan = make_plan(link)
    ReminderSent.objects.create(
        plan=plan, kind="reminder", due_at=timezone.now(), status="sent", sent_at=timezone.now()
    )
    ReminderSent.objects.create(
        plan=plan,
        kind="reminder",
        due_at=timezone.now() - datetime.timedelta(days=2),
        status="failed",
    )
    page = alice_client.get(issued.get_absolute_url()).content.decode()
    assert "Reminder emails: Monday, Wednesday and Friday at 18:00 (Australia/Melbourne)" in page
    assert "Last sent" in page and "1 failed in the last 30 days" in page
    assert plan.email not in page
    reminders.reminder_plan_stop(plan=plan, actor=PATIENT)
    assert (
        "Reminder emails stopped on" in alice_client.get(issued.get_absolute_url()).content.decode()
    )
