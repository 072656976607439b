"""The clinic's outcomes report, as a page and as a CSV: counts and means only."""

import csv
import datetime
import io

from django.urls import reverse
from django.utils import timezone

from tests.factories import PatientFactory
from tests.outcomes.conftest import answered

REPORT = "outcomes:report"


def pain(now: int) -> dict:
    return {"now": now, "average": now, "worst": now}


def two_patients(clinic, measures):
    today = timezone.localdate()
    better = PatientFactory(clinic=clinic, last_name="Better")
    worse = PatientFactory(clinic=clinic, last_name="Worse")
    answered(better, measures["pain-rating"], pain(8), today - datetime.timedelta(days=120))
    answered(better, measures["pain-rating"], pain(4), today - datetime.timedelta(days=10))
    answered(worse, measures["pain-rating"], pain(3), today - datetime.timedelta(days=30))
    answered(worse, measures["pain-rating"], pain(6), today - datetime.timedelta(days=5))
    return better, worse


def test_the_report_counts_the_last_90_days_by_default(alice_client, clinic, measures):
    two_patients(clinic, measures)
    response = alice_client.get(reverse(REPORT))
    assert response.status_code == 200
    [row] = response.context["rows"]
    assert row.patients == 2 and row.improved == 1 and row.worse == 1
    assert (row.mean_baseline, row.mean_latest, row.mean_change) == (5.5, 5, -0.5)
    page = response.content.decode()
    assert "Pain rating" in page and "1 (50%)" in page and "How it is counted" in page
    assert "Better" not in page.split("How it is counted")[0].split("<tbody>")[1]


def test_another_clinics_answers_are_not_counted(client, charlie, clinic, measures):
    two_patients(clinic, measures)
    client.force_login(charlie)
    assert client.get(reverse(REPORT)).context["rows"] == []


def test_a_period_can_be_chosen(alice_client, clinic, measures):
    two_patients(clinic, measures)
    today = timezone.localdate()
    start = (today - datetime.timedelta(days=7)).isoformat()
    response = alice_client.get(reverse(REPORT), {"start": start, "end": today.isoformat()})
    [row] = response.context["rows"]
    assert row.patients == 1 and row.worse == 1


def test_bad_dates_get_a_clear_error(alice_client, measures):
    response = alice_client.get(reverse(REPORT), {"start": "yesterday", "end": "2026-13-01"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter the first day as a date" in page and "Enter the last day as a date" in page
    response = alice_client.get(reverse(REPORT), {"start": "2026-05-01", "end": "2026-04-01"})
    assert "The first day comes after the last." in response.content.decode()
    csv_response = alice_client.get(reverse("outcomes:report_csv"), {"start": "nope"})
    assert csv_response.status_code == 400


def test_the_csv_holds_the_same_rows_and_no_patient(alice_client, clinic, measures):
    two_patients(clinic, measures)
    response = alice_client.get(reverse("outcomes:report_csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="outcomes-')
    text = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["questionnaire"] == "Pain rating (0 to 10)" and row["patients"] == "2"
    assert (row["mean_baseline"], row["mean_latest"], row["mean_change"]) == ("5.5", "5.0", "-0.5")
    assert (row["improved_by_mic"], row["improved_percent"]) == ("1", "50")
    assert (row["worse_by_mic"], row["worse_percent"]) == ("1", "50")
    assert "Better" not in text and "Worse" not in text  # The patients' last names.
