"""A patient's questionnaires in their export: each response readable (questions and
answers, the score, who entered it) and as a FHIR ``QuestionnaireResponse``, and the
schedules their programs asked by."""

from __future__ import annotations

from clinic.models import Patient
from outcomes.fhir import response_resource
from outcomes.models import Response, Schedule
from outcomes.selectors import shown


def _when(value):
    return value.isoformat() if value else None


def patient_responses(patient: Patient) -> list[Response]:
    return list(
        Response.objects.filter(patient=patient)
        .select_related("questionnaire__clinic", "entered_by")
        .order_by("answered_at", "pk")
    )


def fhir_member(response: Response) -> str:
    return f"questionnaires/response-{response.pk}.fhir.json"


def response_record(response: Response) -> dict:
    questionnaire = response.questionnaire
    return {
        "id": response.pk,
        "questionnaire": questionnaire.title,
        "questionnaire_version": questionnaire.version,
        "source": response.source,
        "entered_by": response.entered_by.email if response.entered_by else None,
        "answered_at": _when(response.answered_at),
        "recorded_at": _when(response.created_at),
        "prescription": response.prescription_id,
        "score": None if response.score is None else str(shown(response)),
        "answers": [
            {"question": item["text"], "answer": response.answers.get(item["id"])}
            for item in questionnaire.definition["items"]
        ],
        "fhir": fhir_member(response),
    }


def questionnaire_record(patient: Patient, responses: list[Response]) -> dict:
    schedules = (
        Schedule.objects.filter(patient=patient)
        .select_related("questionnaire", "created_by")
        .order_by("pk")
    )
    return {
        "questionnaire_responses": [response_record(r) for r in responses],
        "questionnaire_schedules": [
            {
                "id": schedule.pk,
                "prescription": schedule.prescription_id,
                "questionnaire": schedule.questionnaire.title,
                "questionnaire_version": schedule.questionnaire.version,
                "when": schedule.describe(),
                "asked_by": schedule.created_by.email if schedule.created_by else None,
                "created_at": _when(schedule.created_at),
                "stopped_at": _when(schedule.stopped_at),
            }
            for schedule in schedules
        ],
    }


def fhir_documents(responses: list[Response]) -> list[tuple[str, dict]]:
    return [(fhir_member(r), response_resource(r)) for r in responses]
