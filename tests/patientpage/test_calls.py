""" "Who needs a call" at a clinic's size: the dashboard shows the first few patients and
the true number, the calls page shows everyone a page at a time, each in a fixed number
of queries, the signed-in therapist's own patients first."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from patientpage.loop import CALLS_ON_DASHBOARD, CALLS_PER_PAGE
from patientpage.models import FollowUp
from tests.factories import PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db


def raise_calls(clinic, therapist, count: int, *, start: int = 0, reason="note") -> list:
    """``count`` patients of ``therapist`` with an open follow-up, the later the newer."""
    patients = []
    now = timezone.now()
    for n in range(start, start + count):
        patient = PatientFactory(clinic=clinic, first_name="Caller", last_name=f"No{n:03d}")
        rx = PrescriptionFactory(patient=patient, therapist=therapist)
        follow_up = FollowUp.objects.create(
            clinic=clinic, patient=patient, prescription=rx, reason=reason
        )
        FollowUp.objects.filter(pk=follow_up.pk).update(
            created_at=now - datetime.timedelta(hours=1000 - n)
        )
        patients.append(patient)
    return patients


def calls_section(html: str) -> str:
    return html.split('id="needs-a-call"')[1].split("</section>")[0]


def test_the_dashboard_shows_the_first_few_and_the_true_number(alice_client, clinic, alice):
    patients = raise_calls(clinic, alice, CALLS_ON_DASHBOARD + 5)
    html = alice_client.get(reverse("dashboard")).content.decode()
    section = calls_section(html)
    shown = [p for p in patients if p.full_name in section]
    # The newest first; the five oldest wait on the calls page.
    assert shown == patients[5:]
    assert f">{CALLS_ON_DASHBOARD + 5}<span" in html  # the count beside the heading
    assert f"All {CALLS_ON_DASHBOARD + 5} patients who need a call" in section
    assert reverse("loop:calls") in section


def test_no_link_to_the_calls_page_when_everyone_is_shown(alice_client, clinic, alice):
    raise_calls(clinic, alice, 2)
    section = calls_section(alice_client.get(reverse("dashboard")).content.decode())
    assert reverse("loop:calls") not in section


def test_the_calls_page_lists_everyone_a_page_at_a_time(alice_client, clinic, alice):
    patients = raise_calls(clinic, alice, CALLS_PER_PAGE + 3)
    first = alice_client.get(reverse("loop:calls")).content.decode()
    second = alice_client.get(reverse("loop:calls"), {"page": 2}).content.decode()
    newest_first = list(reversed(patients))
    assert [p for p in newest_first if p.full_name in first] == newest_first[:CALLS_PER_PAGE]
    assert [p for p in newest_first if p.full_name in second] == newest_first[CALLS_PER_PAGE:]
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    # A line marked handled on this page comes back to it.
    assert 'name="back" value="calls"' in first


def test_the_therapists_own_patients_come_first_on_every_page(alice_client, clinic, alice, bob):
    colleagues = raise_calls(clinic, bob, CALLS_ON_DASHBOARD, start=100)  # all newer
    own = raise_calls(clinic, alice, 2)
    section = calls_section(alice_client.get(reverse("dashboard")).content.decode())
    order = [
        section.index(p.full_name)
        for p in [*reversed(own), *reversed(colleagues)]
        if p.full_name in section
    ]
    assert order == sorted(order)
    assert all(p.full_name in section for p in own)
    assert "Bob" in section and "program" in section  # whose program the others are


def test_another_clinics_calls_are_not_listed(client, charlie, clinic, alice):
    patients = raise_calls(clinic, alice, 3)
    client.force_login(charlie)
    for url in (reverse("dashboard"), reverse("loop:calls")):
        html = client.get(url).content.decode()
        assert not any(p.full_name in html for p in patients)
        assert "Nobody at the moment" in html


def test_marking_handled_from_the_calls_page_returns_to_it(alice_client, clinic, alice):
    (patient,) = raise_calls(clinic, alice, 1)
    ids = list(FollowUp.objects.filter(patient=patient).values_list("pk", flat=True))
    response = alice_client.post(
        reverse("loop:followups_handled", args=[patient.pk]), {"follow_up": ids, "back": "calls"}
    )
    assert response.status_code == 302 and response.url == reverse("loop:calls")
    assert not FollowUp.objects.filter(patient=patient, handled_at__isnull=True).exists()


@pytest.mark.parametrize("name", ["dashboard", "loop:calls"])
def test_queries_stay_flat_however_many_need_a_call(
    alice_client, clinic, alice, bob, django_assert_max_num_queries, name
):
    raise_calls(clinic, alice, 2)
    with django_assert_max_num_queries(100) as few:
        alice_client.get(reverse(name))
    raise_calls(clinic, alice, 30, start=10)
    raise_calls(clinic, bob, 30, start=50)
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice_client.get(reverse(name))
