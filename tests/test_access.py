"""Every staff URL that takes an object id, walked from the URLconf.

A new view is covered automatically: another clinic's user gets 404 on GET and
POST, an anonymous visitor is sent to login, and colleagues in the same clinic
get in.
"""

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from clinic.access import ClinicAdminMixin
from clinic.audit import Actor
from clinic.models import Invitation, Membership
from exercises.models import ClinicMedia
from outcomes.models import Questionnaire
from outcomes.services import response_record, schedule_add
from prescriptions import services
from prescriptions.models import Delivery
from tests.exercises.video_files import mp4
from tests.factories import (
    ExerciseFactory,
    MembershipFactory,
    PatientFactory,
    PrescriptionFactory,
)
from tests.openhep.test_backup import PNG
from tests.outcomes.staff import import_pain_copy

SKIP_NAMESPACES = {"admin"}
# Public on purpose, each with its own tests: the short video link printed under
# a handout's QR code (patients never log in; it reveals only a video address).
# The links sent by email to join a clinic and to reset a password: their token is
# the credential (tests/clinic/test_staff.py and test_accounts.py).
# Library pictures and logos (tests/openhep/test_media.py walks every stored file).
# The monitoring URLs: counts and ages only, the queue and metrics behind HEALTH_TOKEN
# (tests/openhep/test_health.py and test_metrics.py).
PUBLIC_ROUTES = {
    "video",
    "video_signed",
    # A clinic's own video under the random key printed on its handouts
    # (tests/exercises/test_clinic_media.py: unknown and removed keys are the plain 404).
    "clinic_media",
    "invitation_accept",
    "password_reset_confirm",
    "media",
    "healthz",
    "readyz",
    "health_queue",
    "metrics",
    # The patient's page and what it posts: the token in the URL is the credential
    # (tests/patientpage/test_page.py: wrong, revoked and expired tokens, the rate limit).
    "patientpage:page",
    "patientpage:check",
    "patientpage:session",
    "patientpage:manifest",
    # Reminders (tests/patientpage/test_reminders.py, test_calendar.py): the page and the
    # calendar file under the token as above; the unsubscribe link in each reminder
    # email, where a signed plan id is the credential and a wrong one is the plain 404.
    "patientpage:reminders",
    "patientpage:calendar",
    "patientpage:unsubscribe",
    # Outcome measures, patient page: a questionnaire the program asks for, under the
    # token as above; another program's schedule is the same plain 404
    # (tests/patientpage/test_questionnaires.py).
    "patientpage:questionnaire",
}


def object_routes(patterns=None, namespace=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in SKIP_NAMESPACES:
                continue
            yield from object_routes(entry.url_patterns, f"{namespace}{ns}:" if ns else namespace)
        elif (
            isinstance(entry, URLPattern)
            and entry.name
            and entry.pattern.converters
            and entry.name not in PUBLIC_ROUTES
            and f"{namespace}{entry.name}" not in PUBLIC_ROUTES
        ):
            yield f"{namespace}{entry.name}", sorted(entry.pattern.converters)


ROUTES = sorted(object_routes())


def test_the_walk_covers_the_object_pages():
    names = {name for name, _ in ROUTES}
    assert {
        "patients:detail",
        "patients:edit",
        "prescriptions:detail",
        "prescriptions:edit",
        "prescriptions:handout",
        "prescriptions:email",
        "exercises:detail",
    } <= names


def admin_only(url) -> bool:
    view = getattr(resolve(url).func, "view_class", None)
    return view is not None and issubclass(view, ClinicAdminMixin)


@pytest.fixture
def objects(patient, alice, clinic):
    rx = PrescriptionFactory(patient=patient, therapist=alice)
    services.prescription_add_exercise(
        prescription=rx, exercise=ExerciseFactory(), actor=Actor(rx.therapist)
    )
    private = ExerciseFactory(name="Clinic private", clinic=clinic)
    photo, _ = clinic_media(clinic, private, alice)
    delivery = Delivery.objects.create(
        prescription=rx, recipient=patient.email, status=Delivery.Status.FAILED
    )
    invitation = Invitation.objects.create(
        clinic=clinic, email="new@clinic.example", token_hash="0" * 64, expires_at=rx.created_at
    )
    return {
        "patient": patient,
        "prescription": rx,
        "exercise": private,
        "delivery": delivery,
        "membership": alice.membership,
        "invitation": invitation,
        "clinic_media": photo,
        **outcome_objects(patient, rx, clinic, alice),
    }


def clinic_media(clinic, exercise, user) -> tuple[ClinicMedia, ClinicMedia]:
    """The clinic's own photo and video file for ``exercise`` (the section's every part)."""
    photo = ClinicMedia.objects.create(
        clinic=clinic,
        exercise=exercise,
        kind=ClinicMedia.Kind.PHOTO,
        file=ContentFile(PNG, name="photo.png"),
        content_type="image/png",
        caption="The start position",
        created_by=user,
    )
    video = ClinicMedia.objects.create(
        clinic=clinic,
        exercise=exercise,
        kind=ClinicMedia.Kind.VIDEO,
        file=ContentFile(mp4(20), name="clip.mp4"),
        content_type="video/mp4",
        seconds=20,
        created_by=user,
    )
    return photo, video


def outcome_objects(patient, rx, clinic, alice) -> dict:
    """Outcome measures, staff side: a questionnaire the clinic imported (the bundled
    ones every clinic sees), a schedule asking for it and an answer."""
    questionnaire = import_pain_copy(clinic, alice)
    actor = Actor(alice)
    return {
        "questionnaire": questionnaire,
        "schedule": schedule_add(
            prescription=rx, questionnaire=questionnaire, when="now", actor=actor
        ),
        "response": response_record(
            patient=patient,
            questionnaire=questionnaire,
            answers={"now": 4, "average": 5, "worst": 7},
            source="paper",
            actor=actor,
        ),
    }


def issued_elsewhere(objects):
    """An issued program of another patient of the clinic, made only for the pages that
    need one (the page code's card): issuing renders a handout."""
    if "issued" not in objects:
        patient = PatientFactory(clinic=objects["patient"].clinic)
        rx = PrescriptionFactory(patient=patient, therapist=objects["prescription"].therapist)
        actor = Actor(rx.therapist)
        services.prescription_add_exercise(prescription=rx, exercise=ExerciseFactory(), actor=actor)
        services.prescription_issue(prescription=rx, actor=actor)
        objects["issued"] = rx
    return objects["issued"]


def url_for(name, params, objects):
    kwargs = {}
    for param in params:
        if param == "slug":
            kwargs[param] = objects["exercise"].slug
        elif name.startswith("exercises:media_"):
            kwargs[param] = objects["clinic_media"].pk
        elif param == "delivery_pk":
            kwargs[param] = objects["delivery"].pk
        # Outcome measures, staff side
        elif param == "schedule_pk":
            kwargs[param] = objects["schedule"].pk
        elif param == "response_pk":
            kwargs[param] = objects["response"].pk
        elif param == "questionnaire_pk" or name.startswith("outcomes:"):
            kwargs[param] = objects["questionnaire"].pk
        elif name == "member_action":
            kwargs[param] = objects["membership"].pk
        elif name == "invitation_action":
            kwargs[param] = objects["invitation"].pk
        elif param == "patient_pk" or name.startswith("patients:"):
            kwargs[param] = objects["patient"].pk
        elif name == "loop:link_card":
            kwargs[param] = issued_elsewhere(objects).pk
        elif name.startswith(("prescriptions:", "loop:")):
            kwargs[param] = objects["prescription"].pk
        else:
            raise AssertionError(f"Add {name}'s {param} to the access walk")
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize(("name", "params"), ROUTES, ids=[n for n, _ in ROUTES])
def test_other_clinic_gets_404(client, charlie, objects, name, params):
    url = url_for(name, params, objects)
    if admin_only(url):
        # Admins of the other clinic: their role lets them past the role check.
        Membership.objects.filter(user=charlie).update(role=Membership.Role.ADMIN)
    client.force_login(charlie)
    assert client.get(url).status_code in (404, 405)
    assert client.post(url, {"recipient": "x@evil.example"}).status_code in (404, 405)
    # Nothing changed hands.
    assert objects["prescription"].deliveries.get().status == Delivery.Status.FAILED
    assert objects["patient"].prescriptions.count() == 1
    objects["patient"].refresh_from_db()
    assert objects["patient"].first_name == "Jordan"
    objects["membership"].user.refresh_from_db()
    assert objects["membership"].user.is_active
    objects["invitation"].refresh_from_db()
    assert objects["invitation"].cancelled_at is None
    # Outcome measures, staff side
    assert Questionnaire.objects.get(pk=objects["questionnaire"].pk).is_active
    objects["schedule"].refresh_from_db()
    assert objects["schedule"].stopped_at is None
    assert objects["patient"].questionnaire_responses.count() == 1


@pytest.mark.parametrize(("name", "params"), ROUTES, ids=[n for n, _ in ROUTES])
def test_anonymous_is_sent_to_login(client, objects, name, params):
    url = url_for(name, params, objects)
    for response in (client.get(url), client.post(url)):
        if response.status_code == 405:
            continue
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("name", "params"), ROUTES, ids=[n for n, _ in ROUTES])
def test_colleague_in_the_same_clinic_gets_in(client, bob, clinic, objects, name, params):
    url = url_for(name, params, objects)
    if admin_only(url):
        client.force_login(bob)  # A therapist: these are the clinic admins' pages.
        assert client.get(url).status_code in (403, 405)
        assert client.post(url).status_code == 403
        bob = MembershipFactory(clinic=clinic, role=Membership.Role.ADMIN).user
    client.force_login(bob)
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    assert response.status_code in (200, 302)


NO_STORE_PAGES = [
    "dashboard",
    "patients:list",
    "patients:detail",
    "patients:edit",
    "prescriptions:detail",
    "prescriptions:edit",
    "prescriptions:handout",
    "prescriptions:handout_state",
    "exercises:list",
    "audit_log",
]


@pytest.mark.parametrize("name", NO_STORE_PAGES)
def test_pages_with_patient_data_are_not_kept_in_the_browser_cache(
    client, clinic_admin, objects, name
):
    client.force_login(clinic_admin)
    kwargs = {}
    if name.startswith("patients:") and name != "patients:list":
        kwargs = {"pk": objects["patient"].pk}
    elif name.startswith("prescriptions:"):
        kwargs = {"pk": objects["prescription"].pk}
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200, name
    assert "no-store" in response["Cache-Control"], name
