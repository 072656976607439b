import pytest
from asgiref.local import Local
from django.tasks import task_backends
from django.test import Client

from clinic.audit import Actor
from clinic.models import Membership
from prescriptions import services
from tests.factories import (
    ClinicFactory,
    ExerciseFactory,
    MembershipFactory,
    PatientFactory,
    PrescriptionFactory,
)


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


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with empty caches (draft previews, limits, throttles)."""
    from django.core.cache import caches

    for alias in ("default", "previews"):
        caches[alias].clear()
    yield
    for alias in ("default", "previews"):
        caches[alias].clear()


def reset_task_backends():
    task_backends._settings = None
    task_backends.__dict__.pop("settings", None)
    task_backends._connections = Local(False)


@pytest.fixture
def db_tasks(settings):
    """The production task backend: django-tasks-db, with tasks run by its db_worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # The suite runs the worker on SQLite too, on purpose (openhep/checks.py).
    settings.OPENHEP_ALLOW_SQLITE_IN_PRODUCTION = True
    reset_task_backends()
    yield
    reset_task_backends()


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
def clinic_admin(clinic):
    """An admin of ``clinic`` (settings, staff, audit trail, export and erase)."""
    return MembershipFactory(
        clinic=clinic, role=Membership.Role.ADMIN, user__email="admin@clinic.example"
    ).user


@pytest.fixture
def clinic_admin_client(clinic_admin):
    """A browser of its own, signed in as ``clinic_admin`` (``alice_client`` is ``client``)."""
    browser = Client()
    browser.force_login(clinic_admin)
    return browser


@pytest.fixture
def curator_client(client, django_user_model):
    """A superuser who curates the shared library in the Django admin."""
    curator = django_user_model.objects.create_superuser("curator@site.example", "pw-curator-1")
    client.force_login(curator)
    return client


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


# A draft and an issued prescription of three exercises, for any test that needs one.
@pytest.fixture
def exercises(db):
    psoas = ExerciseFactory(
        name="Standing psoas stretch",
        slug="psoas-stretch-standing",
        summary="A stretch for the front of the hip.",
        indications="tight hip flexors",
        steps=["Stand side-on to a wall.", "Step the outside leg back.", "Brace your tummy."],
        cues="Keep your back from arching.",
        cautions="Stop if you feel pinching.",
    )
    quads = ExerciseFactory(name="Standing quadriceps stretch", hold_seconds=30, reps=2)
    bridge = ExerciseFactory(
        name="Glute bridge",
        hold_seconds=None,
        reps=12,
        sets=3,
        side="none",
        times_per_day=1,
        days_per_week=4,
    )
    return [psoas, quads, bridge]


@pytest.fixture
def draft(patient, alice, exercises):
    rx = PrescriptionFactory(patient=patient, therapist=alice, title="Hips and back")
    for exercise in exercises:
        services.prescription_add_exercise(
            prescription=rx, exercise=exercise, actor=Actor(rx.therapist)
        )
    return rx


@pytest.fixture
def issued(draft, alice):
    services.prescription_issue(prescription=draft, actor=Actor(alice))
    draft.refresh_from_db()
    return draft
