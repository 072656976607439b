"""When a program asks for a questionnaire: now, at issue, at the review date, every N
weeks, carried on to a new version; answered ones are not asked again. Time moves by
the ``now`` the selector is given and by dates set on the rows, never by sleeping."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.audit import Actor
from clinic.models import AuditEntry
from outcomes.models import Schedule
from outcomes.selectors import due_for
from outcomes.services import schedule_add, schedule_stop
from prescriptions import services as rx_services
from prescriptions.models import Prescription
from tests.outcomes.conftest import answered


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


ISSUE_DAY = datetime.date(2026, 10, 5)


@pytest.fixture
def program(issued):
    Prescription.objects.filter(pk=issued.pk).update(
        issued_at=at(ISSUE_DAY, 8), review_date=ISSUE_DAY + datetime.timedelta(weeks=6)
    )
    issued.refresh_from_db()
    return issued


def slugs(prescription, day, hour=12):
    return [due.questionnaire.slug for due in due_for(prescription, now=at(day, hour))]


def test_at_issue_is_due_from_the_issue_until_answered(program, measures, alice):
    schedule_add(
        prescription=program,
        questionnaire=measures["pain-rating"],
        when="issue",
        actor=Actor(alice),
    )
    assert slugs(program, ISSUE_DAY - datetime.timedelta(days=1)) == []
    assert slugs(program, ISSUE_DAY) == ["pain-rating"]
    answered(
        program.patient,
        measures["pain-rating"],
        {"now": 5, "average": 4},
        ISSUE_DAY + datetime.timedelta(days=3),
    )
    assert slugs(program, ISSUE_DAY + datetime.timedelta(days=30)) == []


def test_a_paper_answer_at_the_visit_just_before_issue_counts(program, measures, alice):
    schedule_add(
        prescription=program,
        questionnaire=measures["pain-rating"],
        when="issue",
        actor=Actor(alice),
    )
    answered(
        program.patient,
        measures["pain-rating"],
        {"now": 5, "average": 4},
        ISSUE_DAY - datetime.timedelta(days=1),
        source="paper",
    )
    assert slugs(program, ISSUE_DAY) == []


def test_at_review_waits_for_the_review_date(program, measures, alice):
    schedule_add(
        prescription=program,
        questionnaire=measures["global-change"],
        when="review",
        actor=Actor(alice),
    )
    review = program.review_date
    assert slugs(program, review - datetime.timedelta(days=1)) == []
    assert slugs(program, review) == ["global-change"]
    answered(program.patient, measures["global-change"], {"change": 1}, review)
    assert slugs(program, review + datetime.timedelta(days=5)) == []


def test_every_n_weeks_asks_again_after_each_answer(program, measures, alice):
    schedule_add(
        prescription=program,
        questionnaire=measures["patient-specific-function"],
        when="every",
        every_weeks=2,
        actor=Actor(alice),
    )
    activities = {"activities": [{"name": "Stairs", "rating": 3}]}
    assert slugs(program, ISSUE_DAY) == ["patient-specific-function"]
    answered(program.patient, measures["patient-specific-function"], activities, ISSUE_DAY)
    assert slugs(program, ISSUE_DAY + datetime.timedelta(days=13)) == []
    assert slugs(program, ISSUE_DAY + datetime.timedelta(days=14)) == ["patient-specific-function"]
    answered(
        program.patient,
        measures["patient-specific-function"],
        activities,
        ISSUE_DAY + datetime.timedelta(days=15),
    )
    assert slugs(program, ISSUE_DAY + datetime.timedelta(days=20)) == []
    assert slugs(program, ISSUE_DAY + datetime.timedelta(days=28)) == ["patient-specific-function"]


def test_now_asks_at_once_and_stopping_asks_no_more(program, measures, alice):
    schedule = schedule_add(
        prescription=program, questionnaire=measures["pain-rating"], when="now", actor=Actor(alice)
    )
    assert [d.questionnaire.slug for d in due_for(program)] == ["pain-rating"]
    schedule_stop(schedule=schedule, actor=Actor(alice))
    assert due_for(program) == []
    details = list(
        AuditEntry.objects.filter(target=f"prescription {program.pk}").values_list(
            "detail", flat=True
        )
    )
    assert f"Questionnaire {measures['pain-rating'].pk} asked for: now" in details
    assert f"Questionnaire {measures['pain-rating'].pk} no longer asked for" in details


def test_bad_schedules_are_refused(program, measures, alice, clinic, other_clinic):
    with pytest.raises(ValidationError, match="every 1 to 52 weeks"):
        schedule_add(
            prescription=program,
            questionnaire=measures["pain-rating"],
            when="every",
            every_weeks=0,
            actor=Actor(alice),
        )
    Prescription.objects.filter(pk=program.pk).update(review_date=None)
    program.refresh_from_db()
    with pytest.raises(ValidationError, match="no review date"):
        schedule_add(
            prescription=program,
            questionnaire=measures["pain-rating"],
            when="review",
            actor=Actor(alice),
        )
    from outcomes.services import questionnaire_import
    from tests.outcomes.test_definitions import NECK_CSV

    theirs = questionnaire_import(
        clinic=other_clinic, name="n.csv", content=NECK_CSV.encode(), actor=Actor(alice)
    )
    with pytest.raises(ValidationError, match="not one this clinic uses"):
        schedule_add(prescription=program, questionnaire=theirs, when="now", actor=Actor(alice))


def test_adding_the_same_schedule_twice_keeps_one(program, measures, alice):
    first = schedule_add(
        prescription=program,
        questionnaire=measures["pain-rating"],
        when="every",
        every_weeks=2,
        actor=Actor(alice),
    )
    second = schedule_add(
        prescription=program,
        questionnaire=measures["pain-rating"],
        when="every",
        every_weeks=4,
        actor=Actor(alice),
    )
    assert first.pk == second.pk and second.every_weeks == 4
    assert Schedule.objects.filter(prescription=program).count() == 1


def test_a_new_version_carries_the_schedules_on(program, measures, alice):
    schedule_add(
        prescription=program,
        questionnaire=measures["pain-rating"],
        when="issue",
        actor=Actor(alice),
    )
    answered(program.patient, measures["pain-rating"], {"now": 6, "average": 6}, ISSUE_DAY)
    version = rx_services.prescription_new_version(prescription=program, actor=Actor(alice))
    rx_services.prescription_issue(prescription=version, actor=Actor(alice))
    version.refresh_from_db()
    carried = Schedule.objects.get(prescription=version)
    assert (carried.questionnaire, carried.when) == (measures["pain-rating"], "issue")
    # The new version's issue is a new moment to ask at: the follow-up.
    assert [d.questionnaire.slug for d in due_for(version)] == ["pain-rating"]


def test_asking_now_asks_even_after_an_answer_yesterday(program, measures, alice):
    answered(
        program.patient,
        measures["pain-rating"],
        {"now": 5, "average": 4},
        timezone.localdate() - datetime.timedelta(days=1),
    )
    schedule_add(
        prescription=program, questionnaire=measures["pain-rating"], when="now", actor=Actor(alice)
    )
    assert [d.questionnaire.slug for d in due_for(program)] == ["pain-rating"]


def test_asking_less_often_is_in_the_trail(program, measures, alice):
    pain = measures["pain-rating"]
    schedule_add(
        prescription=program, questionnaire=pain, when="every", every_weeks=2, actor=Actor(alice)
    )
    schedule_add(
        prescription=program, questionnaire=pain, when="every", every_weeks=4, actor=Actor(alice)
    )
    details = AuditEntry.objects.filter(target=f"prescription {program.pk}").values_list(
        "detail", flat=True
    )
    assert f"Questionnaire {pain.pk} now asked for: every 4 weeks" in details


def test_a_retired_bundled_version_is_asked_for_no_more(program, measures, alice):
    from outcomes.services import questionnaires_load

    pain = measures["pain-rating"]
    schedule = schedule_add(
        prescription=program, questionnaire=pain, when="now", actor=Actor(alice)
    )
    # As if the bundled file had moved on to version 2: version 1 is retired.
    pain.version = "0"
    pain.save()
    questionnaires_load()
    schedule.refresh_from_db()
    assert schedule.stopped_at is not None
    assert due_for(program) == []
