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
