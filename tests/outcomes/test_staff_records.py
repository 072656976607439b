"""Outcome measures on the patient's record, in their export, and erased with them."""

import datetime
import io
import json
import zipfile

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as FhirResponse

from clinic.audit import Actor
from clinic.models import AuditEntry
from outcomes.models import Response, Schedule
from outcomes.services import schedule_add
from tests.outcomes.conftest import answered


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


def pain(n: int) -> dict:
    return {"now": n, "average": n, "worst": n}


def test_the_record_shows_each_measure_with_its_change_and_verdict(alice_client, patient, measures):
    answered(patient, measures["pain-rating"], pain(7), days_ago(30), source="paper")
    answered(patient, measures["pain-rating"], pain(4), days_ago(2))
    answered(patient, measures["global-change"], {"change": 0}, days_ago(2))
    answered(patient, measures["pain-rating"], {"now": 4}, days_ago(1))  # Too few answered.
    page = alice_client.get(patient.get_absolute_url()).content.decode()
    assert "Outcome measures" in page and "Enter a paper questionnaire" in page
    assert "Better by the minimal important change" in page
    assert "No important change yet" in page
    assert "-3.0" in page and "7.0 <span" in page  # The change and the first score.
    assert 'id="outcome-' in page and "scores over time" in page
    assert "1 answer with too few questions answered" in page
    assert "About the same (0)" in page  # A rating of change in its words.
    assert ">Paper<" in page.replace("\n", "").replace(" ", "")


def test_the_panel_costs_the_same_queries_for_one_answer_or_many(alice_client, patient, measures):
    answered(patient, measures["pain-rating"], pain(7), days_ago(40))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert alice_client.get(patient.get_absolute_url()).status_code == 200
        return len(queries)

    few = count()
    for n in range(1, 8):
        answered(patient, measures["pain-rating"], pain(n), days_ago(30 - n))
    answered(patient, measures["global-change"], {"change": 2}, days_ago(1))
    answered(
        patient,
        measures["patient-specific-function"],
        {"activities": [{"name": "Stairs", "rating": 5}]},
        days_ago(1),
    )
    assert count() == few


def test_one_response_shows_its_answers_and_is_audited(alice_client, patient, measures):
    response = answered(
        patient,
        measures["patient-specific-function"],
        {"activities": [{"name": "Stairs", "rating": 4}]},
        days_ago(3),
    )
    change = answered(patient, measures["global-change"], {"change": 2}, days_ago(3))
    url = reverse("patients:response", args=[patient.pk, response.pk])
    page = alice_client.get(url).content.decode()
    assert "Stairs: 4" in page and "score <strong>4.0</strong>" in page
    assert AuditEntry.objects.filter(
        patient=patient, action="view", target=f"questionnaire response {response.pk}"
    ).exists()
    page = alice_client.get(reverse("patients:response", args=[patient.pk, change.pk]))
    assert "Much better (2)" in page.content.decode()


def test_a_response_of_another_patient_or_clinic_is_a_404(
    client, alice, charlie, patient, clinic, measures
):
    from tests.factories import PatientFactory

    response = answered(patient, measures["global-change"], {"change": 1}, days_ago(1))
    other = PatientFactory(clinic=clinic)
    client.force_login(alice)
    assert client.get(reverse("patients:response", args=[other.pk, response.pk])).status_code == 404
    client.force_login(charlie)
    assert (
        client.get(reverse("patients:response", args=[patient.pk, response.pk])).status_code == 404
    )


def test_the_export_holds_the_answers_readable_and_as_fhir(
    clinic_admin_client, alice, patient, issued, measures
):
    schedule_add(
        prescription=issued,
        questionnaire=measures["pain-rating"],
        when="every",
        every_weeks=4,
        actor=Actor(alice),
    )
    response = answered(patient, measures["pain-rating"], pain(5), days_ago(2), source="paper")
    archive = zipfile.ZipFile(
        io.BytesIO(clinic_admin_client.post(reverse("patients:export", args=[patient.pk])).content)
    )
    record = json.loads(archive.read("patient.json"))
    [answer] = record["questionnaire_responses"]
    assert answer["questionnaire"] == "Pain rating (0 to 10)" and answer["score"] == "5.0"
    assert answer["source"] == "paper"
    assert answer["answers"][0] == {"question": "How much pain do you have right now?", "answer": 5}
    [asked] = record["questionnaire_schedules"]
    assert asked["when"] == "every 4 weeks" and asked["asked_by"] == alice.email
    resource = json.loads(archive.read(answer["fhir"]))
    assert FhirResponse.model_validate(resource).status == "completed"
    assert resource["resourceType"] == "QuestionnaireResponse"
    assert resource["id"] == f"response-{response.pk}" and resource["status"] == "completed"
    assert [item["linkId"] for item in resource["item"]] == ["now", "average", "worst"]


def test_erasing_the_patient_erases_their_questionnaires(
    clinic_admin_client, alice, patient, issued, measures
):
    schedule_add(
        prescription=issued, questionnaire=measures["pain-rating"], when="now", actor=Actor(alice)
    )
    answered(patient, measures["pain-rating"], pain(5), days_ago(2))
    answered(patient, measures["global-change"], {"change": 1}, days_ago(1))
    response = clinic_admin_client.post(
        reverse("patients:erase", args=[patient.pk]),
        {"confirm_name": patient.full_name},
        follow=True,
    )
    assert "and 2 questionnaire answers" in response.content.decode()
    assert not Response.objects.exists() and not Schedule.objects.exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ERASE)
    assert "2 questionnaire responses erased" in entry.detail
