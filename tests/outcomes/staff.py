"""Helpers of the staff side's tests: a clinic's imported questionnaire."""

import json
from pathlib import Path

from clinic.audit import Actor
from outcomes.models import Questionnaire, Schedule
from outcomes.services import questionnaire_import, questionnaires_load, schedule_add

MEASURES = Path(__file__).resolve().parents[2] / "outcomes" / "measures"


def pain_definition(**changes) -> dict:
    definition = json.loads((MEASURES / "pain-rating.json").read_text("utf-8"))
    definition.update(
        slug="clinic-pain",
        title="Clinic pain scale",
        short_title="Clinic pain",
        licence="Used under the clinic's licence.",
    )
    definition.update(changes)
    return definition


def import_pain_copy(clinic, user, **changes):
    """A copy of the bundled pain scale, imported by ``clinic`` as its own."""
    content = json.dumps(pain_definition(**changes)).encode()
    return questionnaire_import(clinic=clinic, name="pain.json", content=content, actor=Actor(user))


def bundled_pain() -> Questionnaire:
    questionnaires_load()
    return Questionnaire.objects.get(clinic=None, slug="pain-rating")


def asked(prescription, user) -> Schedule:
    """A schedule to stop, made by ``user`` from their address."""
    actor = Actor(user, ip="10.0.0.2")
    return schedule_add(
        prescription=prescription, questionnaire=bundled_pain(), when="now", actor=actor
    )
