import pytest

from prescriptions import links
from prescriptions.models import ProgramLink


def token_of(prescription) -> str:
    """The token printed on an issued prescription's handout."""
    link = ProgramLink.objects.get(prescription=prescription)
    token = links.token_of(link)
    assert token is not None
    return token


@pytest.fixture
def link(issued) -> ProgramLink:
    return ProgramLink.objects.get(prescription=issued)


@pytest.fixture
def page_url(issued) -> str:
    """The patient page's path for the ``issued`` prescription."""
    return f"/p/{token_of(issued)}/"


@pytest.fixture
def measures(db):
    """The bundled questionnaires, by slug (as ``tests/outcomes/conftest.py`` has them)."""
    from outcomes.models import Questionnaire
    from outcomes.services import questionnaires_load

    questionnaires_load()
    return {q.slug: q for q in Questionnaire.objects.filter(clinic=None)}


@pytest.fixture
def ask(issued, alice, measures):
    """``ask("pain-rating")``: the issued program asks for that measure now."""
    from clinic.audit import Actor
    from outcomes.services import schedule_add

    def add(slug: str, when: str = "now"):
        return schedule_add(
            prescription=issued, questionnaire=measures[slug], when=when, actor=Actor(alice)
        )

    return add
