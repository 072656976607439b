"""A score worse than the baseline by the minimal important change puts the patient on
the therapist's call list, once, whether answered on the page or entered from paper."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.audit import Actor
from patientpage.models import FollowUp
from patientpage.services import questionnaire_enter_from_paper

D = datetime.date


def test_worse_by_an_important_change_opens_one_follow_up(issued, measures, alice):
    pain = measures["pain-rating"]
    patient = issued.patient
    today = timezone.localdate()

    def paper(now, average, day):
        return questionnaire_enter_from_paper(
            patient=patient,
            questionnaire=pain,
            answers={"now": now, "average": average},
            answered_on=day,
            actor=Actor(alice),
            prescription=issued,
        )

    paper(3, 3, today - datetime.timedelta(days=20))
    paper(4, 4, today - datetime.timedelta(days=10))  # worse by 1: below the MIC of 2
    assert not FollowUp.objects.filter(patient=patient).exists()
    worse = paper(6, 5, today)  # 5.5 against 3.0: worse by 2.5
    follow_up = FollowUp.objects.get(patient=patient)
    assert (follow_up.reason, follow_up.response, follow_up.prescription) == (
        "worse",
        worse,
        issued,
    )
    paper(7, 7, today)
    assert FollowUp.objects.filter(patient=patient).count() == 1


def test_paper_answers_are_dated_and_checked(issued, measures, alice, other_clinic):
    from tests.factories import PatientFactory

    response = questionnaire_enter_from_paper(
        patient=issued.patient,
        questionnaire=measures["global-change"],
        answers={"change": "1"},
        answered_on=timezone.localdate() - datetime.timedelta(days=3),
        actor=Actor(alice),
    )
    assert (response.source, response.entered_by, response.score) == ("paper", alice, 1)
    assert response.answered_at.date() == timezone.localdate() - datetime.timedelta(days=3)
    with pytest.raises(ValidationError, match="future"):
        questionnaire_enter_from_paper(
            patient=issued.patient,
            questionnaire=measures["global-change"],
            answers={"change": 1},
            answered_on=timezone.localdate() + datetime.timedelta(days=1),
            actor=Actor(alice),
        )
    with pytest.raises(ValidationError, match="not this patient's"):
        questionnaire_enter_from_paper(
            patient=PatientFactory(clinic=issued.clinic),
            questionnaire=measures["global-change"],
            answers={"change": 1},
            answered_on=timezone.localdate(),
            actor=Actor(alice),
            prescription=issued,
        )
