"""A questionnaire filled in on paper, typed in from the patient's record."""

import datetime

from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEntry
from outcomes.models import Response
from patientpage.models import FollowUp
from tests.outcomes.conftest import answered

PAPER = "loop:paper_questionnaire"


def url(patient, questionnaire=None) -> str:
    base = reverse(PAPER, args=[patient.pk])
    return f"{base}?questionnaire={questionnaire.pk}" if questionnaire else base


def test_the_form_is_built_from_the_definition(alice_client, patient, measures):
    page = alice_client.get(url(patient, measures["pain-rating"])).content.decode()
    assert "1. How much pain do you have right now?" in page
    assert 'name="q_now"' in page and 'name="q_average"' in page and 'name="q_worst"' in page
    assert 'name="answered_on"' in page
    page = alice_client.get(url(patient, measures["global-change"])).content.decode()
    assert "Much better" in page


def test_the_activities_named_before_are_filled_in(alice_client, patient, measures):
    function = measures["patient-specific-function"]
    answered(
        patient,
        function,
        {"activities": [{"name": "Lifting my toddler", "rating": 3}]},
        timezone.localdate() - datetime.timedelta(days=30),
    )
    response = alice_client.get(url(patient, function))
    page = response.content.decode()
    assert 'value="Lifting my toddler"' in page
    assert page.count('name="q_activities_') == 2 * 5  # A name and a rating, five rows.
    assert AuditEntry.objects.filter(
        patient=patient, action="view", detail="Opened the paper questionnaire entry"
    ).exists()


def test_a_paper_form_is_stored_with_its_date_and_who_entered_it(
    alice_client, alice, patient, measures
):
    day = timezone.localdate() - datetime.timedelta(days=3)
    response = alice_client.post(
        url(patient),
        {
            "questionnaire": measures["pain-rating"].pk,
            "answered_on": day.isoformat(),
            "q_now": "3",
            "q_average": "4",
            "q_worst": "",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == patient.get_absolute_url() + "#outcomes"
    assert "entered from paper (score 3.5)" in response.content.decode()
    stored = Response.objects.get(patient=patient)
    assert stored.source == "paper" and stored.entered_by == alice
    assert timezone.localdate(stored.answered_at) == day
    assert stored.answers == {"now": 3, "average": 4, "worst": None}
    assert AuditEntry.objects.filter(
        patient=patient, action="create", detail="Entered from a paper form"
    ).exists()


def test_activities_are_stored_by_row(alice_client, patient, measures):
    function = measures["patient-specific-function"]
    alice_client.post(
        url(patient),
        {
            "questionnaire": function.pk,
            "answered_on": timezone.localdate().isoformat(),
            "q_activities_0_name": "Stairs",
            "q_activities_0_rating": "4",
            "q_activities_1_name": "Gardening",
            "q_activities_1_rating": "6",
        },
    )
    stored = Response.objects.get(patient=patient)
    assert stored.answers["activities"] == [
        {"name": "Stairs", "rating": 4},
        {"name": "Gardening", "rating": 6},
    ]
    assert stored.score == 5


def test_errors_are_shown_at_their_question_and_nothing_is_stored(alice_client, patient, measures):
    function = measures["patient-specific-function"]
    response = alice_client.post(
        url(patient),
        {
            "questionnaire": function.pk,
            "answered_on": timezone.localdate().isoformat(),
            "q_activities_0_name": "",
            "q_activities_0_rating": "4",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was stored" in page and "Name the activity you rated." in page
    response = alice_client.post(
        url(patient),
        {
            "questionnaire": measures["global-change"].pk,
            "answered_on": timezone.localdate().isoformat(),
            "q_change": "",
        },
    )
    assert "Please answer this one." in response.content.decode()
    assert not Response.objects.exists()


def test_a_date_in_the_future_is_refused(alice_client, patient, measures):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = alice_client.post(
        url(patient),
        {
            "questionnaire": measures["global-change"].pk,
            "answered_on": tomorrow.isoformat(),
            "q_change": "1",
        },
    )
    assert response.status_code == 400
    assert "in the future or over a year ago" in response.content.decode()
    assert not Response.objects.exists()


def test_a_worse_score_on_paper_opens_a_follow_up(alice_client, patient, issued, measures):
    pain = measures["pain-rating"]
    earlier = timezone.localdate() - datetime.timedelta(days=20)
    answered(patient, pain, {"now": 2, "average": 2, "worst": 2}, earlier)
    alice_client.post(
        url(patient),
        {
            "questionnaire": pain.pk,
            "answered_on": timezone.localdate().isoformat(),
            "q_now": "6",
            "q_average": "6",
            "q_worst": "6",
        },
    )
    assert FollowUp.objects.filter(patient=patient, reason=FollowUp.Reason.WORSE).exists()


def test_another_clinic_cannot_enter_or_open_it(client, charlie, patient, measures):
    client.force_login(charlie)
    assert client.get(url(patient, measures["pain-rating"])).status_code == 404
    data = {"questionnaire": measures["global-change"].pk, "q_change": "1"}
    assert client.post(url(patient), data).status_code == 404
    assert not Response.objects.exists()


def test_a_blank_questionnaire_prints_with_the_activities_to_rate_again(
    alice_client, patient, measures
):
    from tests.helpers import pdf_text

    function = measures["patient-specific-function"]
    answered(
        patient,
        function,
        {"activities": [{"name": "Lifting my toddler", "rating": 3}]},
        timezone.localdate() - datetime.timedelta(days=30),
    )
    url = reverse("loop:questionnaire_blank", args=[patient.pk, function.pk])
    response = alice_client.get(url)
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Activities you find hard" in text and patient.display_name in text
    assert "Lifting my toddler" in text and "rate them again" in text
    assert AuditEntry.objects.filter(
        patient=patient, action="print", detail="Blank questionnaire"
    ).exists()
    pain = reverse("loop:questionnaire_blank", args=[patient.pk, measures["pain-rating"].pk])
    text = pdf_text(alice_client.get(pain).content)
    assert "How much pain do you have right now?" in text and "0 = No pain" in text


def test_another_clinic_cannot_print_a_patients_blank_form(client, charlie, patient, measures):
    client.force_login(charlie)
    url = reverse("loop:questionnaire_blank", args=[patient.pk, measures["pain-rating"].pk])
    assert client.get(url).status_code == 404
