import pytest

from tests.factories import ClinicFactory, MembershipFactory, PatientFactory


@pytest.fixture(scope="session", autouse=True)
def _plain_http():
    """The test client and the live server speak plain HTTP. Session-wide and first:
    the live server (session-scoped) builds its middleware, which reads these, once."""
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 0


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path):
    """Media in a temp folder; plain static storage (no collectstatic manifest in tests)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # A slow password hash is the point in production and pure cost in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def clinic(db):
    return ClinicFactory(name="Northside Myotherapy")


@pytest.fixture
def other_clinic(db):
    return ClinicFactory(name="Southbank Physio")


@pytest.fixture
def alice(clinic):
    """A therapist of ``clinic``."""
    return MembershipFactory(
        clinic=clinic, user__email="alice@clinic.example", user__first_name="Alice"
    ).user


@pytest.fixture
def bob(clinic):
    """Alice's colleague in the same clinic."""
    return MembershipFactory(
        clinic=clinic, user__email="bob@clinic.example", user__first_name="Bob"
    ).user


@pytest.fixture
def charlie(other_clinic):
    """A therapist of another clinic: sees none of ``clinic``'s data."""
    return MembershipFactory(
        clinic=other_clinic, user__email="charlie@other.example", user__first_name="Charlie"
    ).user


@pytest.fixture
def patient(clinic, alice):
    return PatientFactory(
        clinic=clinic,
        first_name="Jordan",
        last_name="Ellis",
        email="jordan@patient.example",
        created_by=alice,
    )


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client
