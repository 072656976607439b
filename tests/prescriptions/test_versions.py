"""Version numbers on program titles (issue 15): "v2", "v3"… along ``supersedes``; the
first version shows "v1" only once a later version exists."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from clinic.audit import Actor
from prescriptions import services
from prescriptions.models import Prescription
from prescriptions.selectors import patient_prescriptions
from tests.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db


def new_version(rx, alice):
    draft = services.prescription_new_version(prescription=rx, actor=Actor(alice))
    return draft


def issue(rx, alice):
    services.prescription_issue(prescription=rx, actor=Actor(alice))
    rx.refresh_from_db()
    return rx


def test_a_lone_program_has_no_number(alice_client, issued, patient):
    assert issued.version == 1 and issued.version_label == ""
    page = alice_client.get(patient.get_absolute_url()).content.decode()
    assert "rx-version" not in page


def test_versions_are_numbered_everywhere_the_title_is_listed(alice_client, issued, alice):
    second = issue(new_version(issued, alice), alice)
    third = new_version(second, alice)
    assert (second.version, third.version) == (2, 3)
    patient_page = alice_client.get(issued.patient.get_absolute_url()).content.decode()
    for label in ("v1", "v2", "v3"):
        assert f'<span class="rx-version">{label}</span>' in patient_page
    dashboard = alice_client.get(reverse("dashboard")).content.decode()
    assert '<span class="rx-version">v3</span>' in dashboard
    detail = alice_client.get(second.get_absolute_url()).content.decode()
    assert detail.count('<span class="rx-version">v2</span>') == 2  # breadcrumb and heading
    builder = alice_client.get(reverse("prescriptions:edit", args=[third.pk])).content.decode()
    assert '<span class="rx-version">v3</span>' in builder
    assert 'Hips and back <span class="rx-version">v2</span>' in builder  # "New version of …"
    first = alice_client.get(issued.get_absolute_url()).content.decode()
    assert '<span class="rx-version">v1</span>' in first


def test_the_patients_list_asks_once_whatever_the_number_of_versions(
    issued, alice, django_assert_num_queries
):
    patient = issued.patient

    def labels():
        return [rx.version_label for rx in patient_prescriptions(patient=patient)]

    with django_assert_num_queries(3):  # prescriptions, their items, their deliveries
        assert labels() == [""]
    rx = issued
    for _ in range(3):
        rx = issue(new_version(rx, alice), alice)
    with django_assert_num_queries(3):
        assert sorted(labels()) == ["v1", "v2", "v3", "v4"]


def test_the_migration_numbers_existing_chains(patient, alice):
    first = PrescriptionFactory(patient=patient, therapist=alice)
    second = PrescriptionFactory(patient=patient, therapist=alice, supersedes=first)
    third = PrescriptionFactory(patient=patient, therapist=alice, supersedes=second)
    other = PrescriptionFactory(patient=patient, therapist=alice, supersedes=first)
    alone = PrescriptionFactory(patient=patient, therapist=alice)
    migration = importlib.import_module("prescriptions.migrations.0011_presets_and_versions")
    migration.number_versions(apps, None)
    versions = dict(Prescription.objects.values_list("pk", "version"))
    assert [versions[rx.pk] for rx in (first, second, third, other, alone)] == [1, 2, 3, 2, 1]
