"""Definitions export as FHIR R4 ``Questionnaire`` and answers as
``QuestionnaireResponse``, checked by the FHIR models' own validation (required
elements, cardinality, value types; R4B, whose two resources match R4's)."""

import datetime
import json

from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse as FhirResponse,
)

from clinic.audit import Actor
from outcomes import fhir
from outcomes.services import questionnaire_import
from tests.outcomes.conftest import answered
from tests.outcomes.test_definitions import NECK_CSV


def test_every_bundled_measure_is_a_valid_questionnaire(measures):
    for questionnaire in measures.values():
        resource = fhir.questionnaire_resource(questionnaire)
        parsed = FhirQuestionnaire.model_validate(resource)
        assert parsed.status == "active"
        assert parsed.url == f"urn:openhep:questionnaire:{questionnaire.slug}"
        assert parsed.copyright == questionnaire.licence
        assert [i.linkId for i in parsed.item] == [
            i["id"] for i in questionnaire.definition["items"]
        ]
        scoring = next(e for e in resource["extension"] if e["url"] == fhir.SCORING)
        assert json.loads(scoring["valueString"]) == questionnaire.definition["scoring"]


def test_item_types_map_to_fhir(measures):
    pain = FhirQuestionnaire.model_validate(fhir.questionnaire_resource(measures["pain-rating"]))
    assert pain.item[0].type == "integer"
    assert {
        e.url: e.valueInteger for e in pain.item[0].extension if e.valueInteger is not None
    } == {
        fhir.MIN_VALUE: 0,
        fhir.MAX_VALUE: 10,
    }
    change = FhirQuestionnaire.model_validate(
        fhir.questionnaire_resource(measures["global-change"])
    )
    options = change.item[0].answerOption
    assert [(o.valueCoding.code, o.valueCoding.display) for o in options][0] == (
        "-3",
        "Very much worse",
    )
    function = FhirQuestionnaire.model_validate(
        fhir.questionnaire_resource(measures["patient-specific-function"])
    )
    group = function.item[0]
    assert (group.type, group.repeats) == ("group", True)
    assert [(i.linkId, i.type) for i in group.item] == [
        ("activities.name", "string"),
        ("activities.rating", "integer"),
    ]


def test_an_imported_questionnaire_exports_with_its_clinic_and_licence(clinic, clinic_admin):
    neck = questionnaire_import(
        clinic=clinic, name="neck.csv", content=NECK_CSV.encode(), actor=Actor(clinic_admin)
    )
    parsed = FhirQuestionnaire.model_validate(fhir.questionnaire_resource(neck))
    assert parsed.publisher == clinic.name
    assert parsed.url == f"urn:openhep:clinic:{clinic.pk}:questionnaire:neck-questionnaire"
    assert parsed.copyright == "Used under the clinic's licence no. 1234"
    assert parsed.item[3].type == "text"


def test_responses_are_valid_questionnaire_responses(measures, patient):
    day = datetime.date(2026, 11, 2)
    pain = answered(patient, measures["pain-rating"], {"now": 5, "worst": 8}, day)
    function = answered(
        patient,
        measures["patient-specific-function"],
        {"activities": [{"name": "Stairs", "rating": 4}, {"name": "Gardening", "rating": None}]},
        day,
        source="paper",
    )
    change = answered(patient, measures["global-change"], {"change": 2}, day)

    parsed = FhirResponse.model_validate(fhir.response_resource(pain))
    assert parsed.status == "completed"
    assert parsed.questionnaire == "urn:openhep:questionnaire:pain-rating|1"
    assert parsed.subject.reference == f"Patient/{patient.pk}"
    # The unanswered question is left out, not sent empty.
    assert [(i.linkId, i.answer[0].valueInteger) for i in parsed.item] == [("now", 5), ("worst", 8)]
    assert fhir.response_resource(pain)["extension"] == [{"url": fhir.SCORE, "valueDecimal": 6.5}]

    parsed = FhirResponse.model_validate(fhir.response_resource(function))
    assert parsed.author.display.startswith("Entered from a paper form")
    first, second = parsed.item
    assert [
        (i.linkId, i.answer[0].valueString or i.answer[0].valueInteger) for i in first.item
    ] == [
        ("activities.name", "Stairs"),
        ("activities.rating", 4),
    ]
    assert [i.linkId for i in second.item] == ["activities.name"]

    parsed = FhirResponse.model_validate(fhir.response_resource(change))
    assert parsed.item[0].answer[0].valueCoding.display == "Much better"
