"""Reasons to call a patient: raised from what they log, listed on the dashboard as
"Who needs a call", and gone once marked handled."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.audit import Actor
from clinic.models import AuditEntry
from patientpage.followups import followups_inactive
from patientpage.models import FollowUp
from patientpage.services import SessionReport, session_enter_from_paper, session_record
from prescriptions.models import ProgramLink
from tests.factories import PatientFactory, PrescriptionFactory
from tests.patientpage.helpers import issue_on, log

Reason = FollowUp.Reason
PATIENT = Actor(user=None, name="patient (own page)")


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


def finish(link, *, pain=None, note="", difficulty=None, done=None):
    """A session finished on the patient's page."""
    items = list(link.prescription.items.all())
    return session_record(
        link=link,
        report=SessionReport(
            client_ref=uuid.uuid4(),
            started_at=timezone.now(),
            done={item.pk for item in (done if done is not None else items)},
            difficulty=difficulty or {},
            finished=True,
            pain=pain,
            note=note,
        ),
        actor=PATIENT,
    )


def open_reasons(patient) -> set[str]:
    return set(
        FollowUp.objects.filter(patient=patient, handled_at__isnull=True).values_list(
            "reason", flat=True
        )
    )


def test_a_calm_session_raises_nothing(link):
    finish(link, pain=2)
    assert open_reasons(link.patient) == set()


def test_pain_of_7_or_more_is_raised(link):
    finish(link, pain=7)
    assert open_reasons(link.patient) == {Reason.PAIN_HIGH}


def test_pain_up_2_since_the_first_is_raised(link):
    finish(link, pain=2)
    finish(link, pain=3)
    assert open_reasons(link.patient) == set()
    finish(link, pain=4)
    assert open_reasons(link.patient) == {Reason.PAIN_UP}


def test_an_exercise_too_hard_and_a_note_are_raised(link):
    bridge = link.prescription.items.last()
    finish(link, difficulty={bridge.pk: "hard"}, note="The bridge pinches.")
    assert open_reasons(link.patient) == {Reason.TOO_HARD, Reason.NOTE}


def test_a_paper_session_raises_too(issued, alice):
    session_enter_from_paper(
        prescription=issued,
        day=days_ago(1),
        done={issued.items.first().pk},
        pain=8,
        actor=Actor(alice),
    )
    assert open_reasons(issued.patient) == {Reason.PAIN_HIGH}


def test_one_open_follow_up_per_reason(link):
    finish(link, pain=8)
    finish(link, pain=9)
    assert FollowUp.objects.filter(reason=Reason.PAIN_HIGH).count() == 1


def test_inactive_after_7_days(link, issued):
    issue_on(issued, days_ago(10))
    assert followups_inactive() == 1
    assert open_reasons(issued.patient) == {Reason.INACTIVE}
    assert followups_inactive() == 0  # Still open: not raised twice.


def test_not_inactive_with_a_recent_session_or_a_new_program(link, issued):
    assert followups_inactive() == 0  # Issued today.
    issue_on(issued, days_ago(10))
    log(issued, days_ago(3), done=[issued.items.first()])
    assert followups_inactive() == 0


def test_not_inactive_when_the_page_is_off(link, issued):
    issue_on(issued, days_ago(10))
    ProgramLink.objects.filter(pk=link.pk).update(
        ended_at=timezone.now(), ended_reason=ProgramLink.Ended.OFF
    )
    assert followups_inactive() == 0


@pytest.fixture
def called(link):
    """Jordan reported pain 8 with a note: two reasons to call."""
    finish(link, pain=8, note="Worse today.")
    return link.patient


def test_dashboard_lists_who_needs_a_call(alice_client, called, issued):
    page = alice_client.get(reverse("dashboard")).content.decode()
    assert "Who needs a call" in page
    assert called.full_name in page
    assert "Pain 7 or more" in page and "New note" in page
    assert f"{issued.get_absolute_url()}#progress" in page
    assert reverse("loop:followups_handled", args=[called.pk]) in page
    assert "just now" in page or "minute" in page


def test_marking_handled_removes_from_the_dashboard(alice_client, alice, called):
    ids = list(FollowUp.objects.values_list("pk", flat=True))
    response = alice_client.post(
        reverse("loop:followups_handled", args=[called.pk]), {"follow_up": ids}
    )
    assert response.status_code == 302 and response.url == reverse("dashboard")
    assert not FollowUp.objects.filter(handled_at__isnull=True).exists()
    assert set(FollowUp.objects.values_list("handled_by", flat=True)) == {alice.pk}
    assert AuditEntry.objects.filter(patient=called, detail__startswith="Handled").count() == 2
    page = alice_client.get(reverse("dashboard")).content.decode()
    assert called.full_name not in page.split("Who needs a call")[1].split("</section>")[0]
    assert "Nobody at the moment" in page


def test_marking_handled_with_htmx_swaps_the_line(alice_client, called):
    ids = list(FollowUp.objects.values_list("pk", flat=True))
    response = alice_client.post(
        reverse("loop:followups_handled", args=[called.pk]),
        {"follow_up": ids},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="call-{called.pk}"' in body and "marked handled" in body
    # The count beside the heading is updated too (empty: nobody left).
    assert 'id="calls-count"' in body and 'hx-swap-oob="true"' in body
    assert "patient</span>" not in body
    assert not FollowUp.objects.filter(handled_at__isnull=True).exists()


def test_a_reason_raised_after_the_page_loaded_stays_open(alice_client, called, link):
    shown = list(FollowUp.objects.values_list("pk", flat=True))
    bridge = link.prescription.items.last()
    finish(link, difficulty={bridge.pk: "hard"})
    alice_client.post(reverse("loop:followups_handled", args=[called.pk]), {"follow_up": shown})
    assert open_reasons(called) == {Reason.TOO_HARD}


def test_other_clinic_cannot_mark_handled(client, charlie, called):
    client.force_login(charlie)
    ids = list(FollowUp.objects.values_list("pk", flat=True))
    response = client.post(reverse("loop:followups_handled", args=[called.pk]), {"follow_up": ids})
    assert response.status_code == 404
    assert FollowUp.objects.filter(handled_at__isnull=True).count() == 2
    # Nor see them on their own dashboard.
    assert called.full_name not in client.get(reverse("dashboard")).content.decode()


def test_follow_ups_of_another_patient_are_not_handled_through_this_one(
    alice_client, clinic, called
):
    other = PatientFactory(clinic=clinic)
    ids = list(FollowUp.objects.values_list("pk", flat=True))
    alice_client.post(reverse("loop:followups_handled", args=[other.pk]), {"follow_up": ids})
    assert FollowUp.objects.filter(handled_at__isnull=True).count() == 2


def test_dashboard_queries_do_not_grow_with_the_calls(
    alice_client, clinic, called, django_assert_max_num_queries
):
    with django_assert_max_num_queries(40) as one:
        alice_client.get(reverse("dashboard"))
    for n in range(8):
        patient = PatientFactory(clinic=clinic, last_name=f"Many{n}")
        rx = PrescriptionFactory(patient=patient)
        for reason in (Reason.PAIN_HIGH, Reason.NOTE):
            FollowUp.objects.create(clinic=clinic, patient=patient, prescription=rx, reason=reason)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = alice_client.get(reverse("dashboard")).content.decode()
    assert page.count("Mark handled<span") == 9


def test_a_handled_session_can_be_raised_again(alice_client, called, link):
    ids = list(FollowUp.objects.values_list("pk", flat=True))
    alice_client.post(reverse("loop:followups_handled", args=[called.pk]), {"follow_up": ids})
    finish(link, pain=9)
    assert open_reasons(called) == {Reason.PAIN_HIGH}


def test_a_therapist_sees_their_own_patients_first(client, bob, called, clinic):
    """Bob's patient comes first on Bob's dashboard; Alice's follows, named as hers."""
    bobs_patient = PatientFactory(clinic=clinic, first_name="Robin", last_name="Ngata")
    bobs = PrescriptionFactory(patient=bobs_patient, therapist=bob)
    FollowUp.objects.create(
        clinic=clinic, patient=bobs_patient, prescription=bobs, reason=Reason.TOO_HARD
    )
    # Alice's follow-up is the newer one: recency alone would list it first.
    FollowUp.objects.filter(patient=called).update(created_at=timezone.now())
    client.force_login(bob)
    page = client.get(reverse("dashboard")).content.decode()
    calls = page[page.index('id="needs-a-call"') :]
    assert calls.index("Robin Ngata") < calls.index(called.full_name)
    assert "Alice" in calls[calls.index(called.full_name) :]
    assert "'s program" in calls[calls.index(called.full_name) :]
