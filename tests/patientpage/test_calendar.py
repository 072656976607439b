"""The calendar file a patient downloads instead of reminder emails, read back with
the icalendar package."""

import datetime
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from clinic.audit import Actor
from clinic.models import AuditEntry
from patientpage import calendar, reminders
from prescriptions import links
from prescriptions.services.links import program_link_turn_off

SITE = "https://exercises.northside.example"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def calendar_url(link) -> str:
    return reverse("patientpage:calendar", args=[links.token_of(link)])


def query(days=("1", "3", "5"), time="18:30", zone="Australia/Melbourne") -> dict:
    return {"cal-days": list(days), "cal-time": time, "cal-time_zone": zone}


def read(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert 'filename="home-exercises.ics"' in response["Content-Disposition"]
    return Calendar.from_ical(response.content)


def test_the_file_holds_one_weekly_event_at_the_chosen_time_and_zone(client, link, calendar_url):
    cal = read(client.get(calendar_url, query()))
    [event] = cal.walk("VEVENT")
    assert event["SUMMARY"] == "Home exercises"
    assert event["URL"] == f"{SITE}/p/{links.token_of(link)}/"
    rule = event["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["MO", "WE", "FR"]
    assert "UNTIL" not in rule  # The clinic's page has no last day without a review date.
    assert event["DTSTART"].params["TZID"] == "Australia/Melbourne"
    start = event.decoded("DTSTART")
    assert (start.hour, start.minute) == (18, 30) and start.isoweekday() in (1, 3, 5)
    melbourne = ZoneInfo("Australia/Melbourne")
    assert start.date() >= timezone.now().astimezone(melbourne).date()
    assert start.utcoffset() == start.replace(tzinfo=None).replace(tzinfo=melbourne).utcoffset()
    [alarm] = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert AuditEntry.objects.filter(detail="Calendar file downloaded").count() == 1


def test_the_time_zone_in_the_file_agrees_with_the_zone_all_year(client, link, calendar_url):
    for zone in ("Australia/Melbourne", "Europe/London", "America/New_York", "Asia/Kolkata"):
        cal = read(client.get(calendar_url, query(zone=zone)))
        [vtimezone] = cal.walk("VTIMEZONE")
        assert vtimezone["TZID"] == zone
        described = vtimezone.to_tz()
        real = ZoneInfo(zone)
        # From the event's first weeks (this year) to the years after.
        for month in range(1, 13):
            for day, year in itertools.product((1, 15), range(timezone.now().year, 2031)):
                moment = datetime.datetime(year, month, day, 12)
                assert described.utcoffset(moment) == moment.replace(tzinfo=real).utcoffset(), (
                    zone,
                    moment,
                )


def test_the_event_ends_on_the_pages_last_day(client, link, calendar_url):
    prescription = link.prescription
    prescription.review_date = datetime.date(2027, 3, 1)
    prescription.save()
    clinic = link.clinic
    clinic.program_link_days = 30
    clinic.save()
    [event] = read(client.get(calendar_url, query())).walk("VEVENT")
    until = event["RRULE"]["UNTIL"][0]
    melbourne = ZoneInfo("Australia/Melbourne")
    assert until.tzinfo is not None
    assert until.astimezone(melbourne).date() == datetime.date(2027, 3, 31)
    assert "UNTIL=20270331T125959Z" in client.get(calendar_url, query()).content.decode()


def test_without_a_query_the_file_follows_the_reminder_plan(client, link, calendar_url):
    assert client.get(calendar_url)["Location"].endswith("/reminders/#calendar")
    reminders.reminder_plan_save(
        link=link,
        email="jordan@patient.example",
        weekdays="27",
        time=datetime.time(7, 15),
        time_zone="Europe/London",
        nudge=False,
        consent=True,
        actor=Actor(user=None, ip="203.0.113.9", name="patient (own page)"),
    )
    [event] = read(client.get(calendar_url)).walk("VEVENT")
    assert event["RRULE"]["BYDAY"] == ["TU", "SU"]
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert (event.decoded("DTSTART").hour, event.decoded("DTSTART").minute) == (7, 15)


def test_a_bad_query_shows_the_errors_next_to_the_fields(client, link, calendar_url):
    response = client.get(calendar_url, query(days=(), time="later", zone="Nowhere/Else"))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_cal-days-error">Choose at least one day.' in body
    assert 'id="id_cal-time-error">Enter a time like 18:30.' in body
    assert "Choose a time zone from the list." in body


def test_a_link_that_opens_nothing_gets_no_file(client, link, alice, calendar_url):
    program_link_turn_off(link=link, actor=Actor(alice))
    assert client.get(calendar_url, query()).status_code == 404


def test_lines_end_in_crlf_and_fold_at_75_octets(client, link, calendar_url):
    clinic = link.clinic
    clinic.name = "Ōtautahi Physio, Sports; and Hand Therapy – Café Street Rooms, Level 2"
    clinic.save()
    raw = client.get(calendar_url, query()).content
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)
    for line in lines:
        line.decode()  # No character is split across a fold.
    [event] = Calendar.from_ical(raw).walk("VEVENT")
    assert str(event["DESCRIPTION"]) == (
        "Your home exercises from Ōtautahi Physio, Sports; and Hand Therapy – Café Street "
        f"Rooms, Level 2: {SITE}/p/{links.token_of(link)}/"
    )


def test_text_is_escaped_as_the_rfc_says():
    assert calendar.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_folding_never_splits_a_character():
    line = "DESCRIPTION:" + "é" * 100
    folded = calendar.fold(line)
    parts = folded.encode().split(b"\r\n")
    assert all(len(part) <= 75 for part in parts)
    assert (
        "".join(part.decode()[1:] if i else part.decode() for i, part in enumerate(parts)) == line
    )
