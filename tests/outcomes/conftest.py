import datetime

import pytest
from django.utils import timezone

from outcomes.models import Questionnaire, Response
from outcomes.services import questionnaires_load


@pytest.fixture
def measures(db) -> dict[str, Questionnaire]:
    """The bundled questionnaires, by slug."""
    questionnaires_load()
    return {q.slug: q for q in Questionnaire.objects.filter(clinic=None)}


def answered(
    patient, questionnaire, answers: dict, day: datetime.date, *, source="page", prescription=None
) -> Response:
    """A response stored as if given on ``day`` (the service stamps "now")."""
    from clinic.audit import Actor
    from outcomes.services import response_record

    response = response_record(
        patient=patient,
        questionnaire=questionnaire,
        answers=answers,
        source=source,
        actor=Actor(user=None, name="test"),
        prescription=prescription,
    )
    when = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
    Response.objects.filter(pk=response.pk).update(answered_at=when)
    response.refresh_from_db()
    return response
