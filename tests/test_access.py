"""Every staff URL that takes an object id, walked from the URLconf.

A new view is covered automatically: another clinic's user gets 404 on GET and
POST, an anonymous visitor is sent to login, and colleagues in the same clinic
get in.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from prescriptions import services
from prescriptions.models import Delivery
from tests.factories import ExerciseFactory, PrescriptionFactory

SKIP_NAMESPACES = {"admin"}
# Public on purpose, each with its own tests: the short video link printed under
# a handout's QR code (patients never log in; it reveals only a video address).
PUBLIC_ROUTES = {"video"}


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


@pytest.fixture
def objects(patient, alice, clinic):
    rx = PrescriptionFactory(patient=patient, therapist=alice)
    services.prescription_add_exercise(prescription=rx, exercise=ExerciseFactory())
    private = ExerciseFactory(name="Clinic private", clinic=clinic)
    delivery = Delivery.objects.create(
        prescription=rx, recipient=patient.email, status=Delivery.Status.FAILED
    )
    return {"patient": patient, "prescription": rx, "exercise": private, "delivery": delivery}


def url_for(name, params, objects):
    kwargs = {}
    for param in params:
        if param == "slug":
            kwargs[param] = objects["exercise"].slug
        elif param == "delivery_pk":
            kwargs[param] = objects["delivery"].pk
        elif param == "patient_pk" or name.startswith("patients:"):
            kwargs[param] = objects["patient"].pk
        elif name.startswith("prescriptions:"):
            kwargs[param] = objects["prescription"].pk
        else:
            raise AssertionError(f"Add {name}'s {param} to the access walk")
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize(("name", "params"), ROUTES, ids=[n for n, _ in ROUTES])
def test_other_clinic_gets_404(client, charlie, objects, name, params):
    url = url_for(name, params, objects)
    client.force_login(charlie)
    assert client.get(url).status_code in (404, 405)
    assert client.post(url, {"recipient": "x@evil.example"}).status_code in (404, 405)
    # Nothing changed hands.
    assert objects["prescription"].deliveries.get().status == Delivery.Status.FAILED
    assert objects["patient"].prescriptions.count() == 1
    objects["patient"].refresh_from_db()
    assert objects["patient"].first_name == "Jordan"


@pytest.mark.parametrize(("name", "params"), ROUTES, ids=[n for n, _ in ROUTES])
def test_anonymous_is_sent_to_login(client, objects, name, params):
    url = url_for(name, params, objects)
    for response in (client.get(url), client.post(url)):
        if response.status_code == 405:
            continue
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("name", "params"), ROUTES, ids=[n for n, _ in ROUTES])
def test_colleague_in_the_same_clinic_gets_in(client, bob, objects, name, params):
    url = url_for(name, params, objects)
    client.force_login(bob)
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    assert response.status_code in (200, 302)
