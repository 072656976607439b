"""Questionnaires and answers as FHIR R4 resources (``Questionnaire``,
``QuestionnaireResponse``), for another system or an insurer's portal to read.

What FHIR has no element for travels in extensions under our own ``urn:openhep:``
names: the scoring rules, the words at the ends of a 0-10 scale, a response's score.
"""

from __future__ import annotations

import json
import re

from outcomes.models import Questionnaire, Response

MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
SCORING = "urn:openhep:fhir:scoring"
ANCHORS = "urn:openhep:fhir:scale-anchors"
SCORE = "urn:openhep:fhir:score"


def canonical_url(questionnaire: Questionnaire) -> str:
    if questionnaire.clinic_id is None:
        return f"urn:openhep:questionnaire:{questionnaire.slug}"
    return f"urn:openhep:clinic:{questionnaire.clinic_id}:questionnaire:{questionnaire.slug}"


def _name(title: str) -> str:
    """FHIR's computer-friendly name: letters and digits, starting with a capital."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    name = "".join(word[:1].upper() + word[1:] for word in words) or "Questionnaire"
    return name if name[0].isalpha() else f"Q{name}"


def _scale(item: dict) -> list[dict]:
    extensions = [
        {"url": MIN_VALUE, "valueInteger": item["min"]},
        {"url": MAX_VALUE, "valueInteger": item["max"]},
    ]
    anchors = [
        f"{item[key.replace('_label', '')]} = {item[key]}"
        for key in ("min_label", "max_label")
        if item.get(key)
    ]
    if anchors:
        extensions.append({"url": ANCHORS, "valueString": "; ".join(anchors)})
    return extensions


def _item(questionnaire: Questionnaire, item: dict) -> dict:
    out: dict = {"linkId": item["id"], "text": item["text"], "required": item["required"]}
    if item["type"] == "integer":
        out.update(type="integer", extension=_scale(item))
    elif item["type"] == "text":
        out["type"] = "text"
    elif item["type"] == "choice":
        out["type"] = "choice"
        out["answerOption"] = [
            {
                "extension": [{"url": ORDINAL_VALUE, "valueDecimal": option["value"]}],
                "valueCoding": {
                    "system": f"{canonical_url(questionnaire)}:{item['id']}",
                    "code": str(option["value"]),
                    "display": option["label"],
                },
            }
            for option in item["options"]
        ]
    else:  # activities: a repeating group, an activity and its rating each time.
        out.update(
            type="group",
            repeats=True,
            extension=[
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs",
                    "valueInteger": item["max_activities"],
                }
            ],
            item=[
                {
                    "linkId": f"{item['id']}.name",
                    "text": "Activity",
                    "type": "string",
                    "required": True,
                },
                {
                    "linkId": f"{item['id']}.rating",
                    "text": "How well you can do it",
                    "type": "integer",
                    "extension": _scale(item),
                },
            ],
        )
    return out


def questionnaire_resource(questionnaire: Questionnaire) -> dict:
    definition = questionnaire.definition
    resource = {
        "resourceType": "Questionnaire",
        "id": f"{questionnaire.slug}-{re.sub(r'[^A-Za-z0-9.-]', '-', questionnaire.version)}"[:64],
        "extension": [{"url": SCORING, "valueString": json.dumps(definition["scoring"])}],
        "url": canonical_url(questionnaire),
        "version": questionnaire.version,
        "name": _name(questionnaire.title),
        "title": questionnaire.title,
        "status": "active" if questionnaire.is_active else "retired",
        "subjectType": ["Patient"],
        "publisher": questionnaire.clinic.name if questionnaire.clinic else "OpenHEP",
        "item": [_item(questionnaire, item) for item in definition["items"]],
    }
    if definition.get("description"):
        resource["description"] = definition["description"]
    if questionnaire.licence:
        resource["copyright"] = questionnaire.licence
    if questionnaire.citation:
        resource["purpose"] = f"Source: {questionnaire.citation}"
    return resource


def _answer_items(response: Response) -> list[dict]:
    items = []
    for item in response.questionnaire.definition["items"]:
        value = response.answers.get(item["id"])
        if value in (None, "", []):
            continue
        base = {"linkId": item["id"], "text": item["text"]}
        if item["type"] == "integer":
            items.append(base | {"answer": [{"valueInteger": value}]})
        elif item["type"] == "text":
            items.append(base | {"answer": [{"valueString": value}]})
        elif item["type"] == "choice":
            label = next((o["label"] for o in item["options"] if o["value"] == value), "")
            coding = {
                "system": f"{canonical_url(response.questionnaire)}:{item['id']}",
                "code": str(value),
                "display": label,
            }
            items.append(base | {"answer": [{"valueCoding": coding}]})
        else:
            for activity in value:
                parts = [
                    {
                        "linkId": f"{item['id']}.name",
                        "text": "Activity",
                        "answer": [{"valueString": activity["name"]}],
                    }
                ]
                if activity["rating"] is not None:
                    parts.append(
                        {
                            "linkId": f"{item['id']}.rating",
                            "text": "How well you can do it",
                            "answer": [{"valueInteger": activity["rating"]}],
                        }
                    )
                items.append(base | {"item": parts})
    return items


def response_resource(response: Response) -> dict:
    questionnaire = response.questionnaire
    if response.source == Response.Source.PAGE:
        author = {"display": "The patient, on their program page"}
    else:
        who = response.entered_by.email if response.entered_by else "staff"
        author = {"display": f"Entered from a paper form by {who}"}
    resource: dict = {
        "resourceType": "QuestionnaireResponse",
        "id": f"response-{response.pk}",
        "questionnaire": f"{canonical_url(questionnaire)}|{questionnaire.version}",
        "status": "completed",
        "subject": {"reference": f"Patient/{response.patient_id}"},
        "authored": response.answered_at.isoformat(),
        "author": author,
        "source": {"reference": f"Patient/{response.patient_id}"},
        "item": _answer_items(response),
    }
    if response.score is not None:
        resource["extension"] = [{"url": SCORE, "valueDecimal": float(response.score)}]
    return resource
