"""Scores against the baseline, the minimal important change either way, and the
clinic's report over a period."""

import datetime
from decimal import Decimal

from outcomes.selectors import measures_for, outcomes_report, previous_activities, worse_by_mic
from tests.factories import PatientFactory
from tests.outcomes.conftest import answered

D = datetime.date


def test_change_since_baseline_and_its_verdict(patient, measures):
    pain = measures["pain-rating"]
    answered(patient, pain, {"now": 7, "average": 7, "worst": 9}, D(2026, 9, 1))
    answered(patient, pain, {"now": 6}, D(2026, 9, 8))  # one answer: not scored
    answered(patient, pain, {"now": 4, "average": 5, "worst": 6}, D(2026, 10, 1))
    [measure] = measures_for(patient)
    assert [p.score for p in measure.points] == [Decimal("7.7"), Decimal("5.0")]
    assert measure.unscored == 1
    assert measure.change == Decimal("-2.7")
    assert measure.gain == Decimal("2.7")  # pain fell: that is better
    assert measure.verdict == "better"


def test_worse_by_the_minimal_important_change(patient, measures):
    function = measures["patient-specific-function"]
    first = answered(
        patient, function, {"activities": [{"name": "Stairs", "rating": 6}]}, D(2026, 9, 1)
    )
    a_bit = answered(
        patient, function, {"activities": [{"name": "Stairs", "rating": 5}]}, D(2026, 9, 15)
    )
    much = answered(
        patient, function, {"activities": [{"name": "Stairs", "rating": 3}]}, D(2026, 9, 29)
    )
    assert not worse_by_mic(first)
    assert not worse_by_mic(a_bit)
    assert worse_by_mic(much)
    change = answered(patient, measures["global-change"], {"change": -2}, D(2026, 9, 29))
    assert worse_by_mic(change)


def test_activities_are_rated_again_as_first_named(patient, measures):
    function = measures["patient-specific-function"]
    assert previous_activities(patient, function) == {}
    answered(
        patient,
        function,
        {
            "activities": [
                {"name": "Stairs", "rating": 3},
                {"name": "Carrying shopping", "rating": 2},
            ]
        },
        D(2026, 9, 1),
    )
    answered(patient, function, {"activities": [{"name": "Stairs", "rating": 5}]}, D(2026, 9, 20))
    assert previous_activities(patient, function) == {"activities": ["Stairs", "Carrying shopping"]}


def test_the_report_counts_patients_with_a_baseline_and_a_follow_up(clinic, patient, measures):
    pain = measures["pain-rating"]
    other = PatientFactory(clinic=clinic)
    third = PatientFactory(clinic=clinic)
    # Better by 3 (7 → 4), within the period.
    answered(patient, pain, {"now": 7, "average": 7}, D(2026, 8, 1))
    answered(patient, pain, {"now": 4, "average": 4}, D(2026, 10, 1))
    # Worse by 2 (3 → 5), within the period.
    answered(other, pain, {"now": 3, "average": 3}, D(2026, 9, 2))
    answered(other, pain, {"now": 5, "average": 5}, D(2026, 10, 20))
    # A baseline only: not counted.
    answered(third, pain, {"now": 6, "average": 6}, D(2026, 10, 3))
    answered(patient, measures["global-change"], {"change": 3}, D(2026, 10, 2))
    answered(other, measures["global-change"], {"change": 0}, D(2026, 10, 21))

    rows = {
        row.questionnaire.slug: row
        for row in outcomes_report(clinic=clinic, start=D(2026, 10, 1), end=D(2026, 10, 31))
    }
    pain_row = rows["pain-rating"]
    assert pain_row.patients == 2
    assert (pain_row.mean_baseline, pain_row.mean_latest, pain_row.mean_change) == (
        Decimal("5.0"),
        Decimal("4.5"),
        Decimal("-0.5"),
    )
    assert (pain_row.improved, pain_row.worse, pain_row.improved_share) == (1, 1, 50)
    change_row = rows["global-change"]
    assert (change_row.patients, change_row.improved, change_row.mean_latest) == (
        2,
        1,
        Decimal("1.5"),
    )
    # Outside the period, nothing.
    assert outcomes_report(clinic=clinic, start=D(2026, 11, 1), end=D(2026, 11, 30)) == []


def test_the_report_is_the_clinic_s_own(clinic, other_clinic, measures):
    theirs = PatientFactory(clinic=other_clinic)
    answered(theirs, measures["pain-rating"], {"now": 7, "average": 7}, D(2026, 9, 1))
    answered(theirs, measures["pain-rating"], {"now": 2, "average": 2}, D(2026, 10, 1))
    assert outcomes_report(clinic=clinic, start=D(2026, 10, 1), end=D(2026, 10, 31)) == []


def test_the_report_counts_each_patient_only_for_what_they_answered_in_the_period(
    clinic, patient, measures
):
    other = PatientFactory(clinic=clinic)
    pain, function = measures["pain-rating"], measures["patient-specific-function"]
    stairs = {"activities": [{"name": "Stairs", "rating": 2}]}
    # Long ago, the patient answered the function scale twice; in the period, only pain.
    answered(patient, function, stairs, D(2024, 1, 1))
    answered(patient, function, {"activities": [{"name": "Stairs", "rating": 9}]}, D(2024, 2, 1))
    answered(patient, pain, {"now": 7, "average": 7}, D(2026, 9, 1))
    answered(patient, pain, {"now": 4, "average": 4}, D(2026, 10, 5))
    # The other patient answered the function scale in the period.
    answered(other, function, stairs, D(2026, 9, 1))
    answered(other, function, {"activities": [{"name": "Stairs", "rating": 3}]}, D(2026, 10, 6))
    rows = {
        row.questionnaire.slug: row
        for row in outcomes_report(clinic=clinic, start=D(2026, 10, 1), end=D(2026, 10, 31))
    }
    assert rows["pain-rating"].patients == 1
    assert rows["patient-specific-function"].patients == 1
    assert rows["patient-specific-function"].mean_change == Decimal("1.0")


def test_activities_to_rate_again_are_as_many_as_this_version_takes(patient, measures):
    function = measures["patient-specific-function"]
    five = [{"name": f"Activity {n}", "rating": 5} for n in range(5)]
    answered(patient, function, {"activities": five}, D(2026, 9, 1))
    function.definition["items"][0]["max_activities"] = 3
    assert previous_activities(patient, function) == {
        "activities": ["Activity 0", "Activity 1", "Activity 2"]
    }
