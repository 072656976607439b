"""The Questionnaires box of a program's page: asking for a questionnaire and stopping."""

from django.urls import reverse

from clinic.audit import Actor
from clinic.models import AuditEntry
from outcomes.models import Schedule
from outcomes.services import schedule_add
from tests.factories import PrescriptionFactory


def add(client, rx, **data):
    return client.post(reverse("prescriptions:questionnaire_add", args=[rx.pk]), data, follow=True)


def test_the_box_is_on_draft_and_issued_pages(alice_client, draft, measures):
    page = alice_client.get(draft.get_absolute_url()).content.decode()
    assert "Questionnaires" in page and "Pain – Pain rating (0 to 10)" in page
    assert "When the program is issued" in page


def test_asking_every_two_weeks_from_the_program_page(alice_client, issued, measures):
    pain = measures["pain-rating"]
    response = add(alice_client, issued, questionnaire=pain.pk, when="every", every_weeks="2")
    assert "Pain: asked for every 2 weeks." in response.content.decode()
    schedule = Schedule.objects.get(prescription=issued)
    assert (schedule.questionnaire, schedule.every_weeks) == (pain, 2)
    assert AuditEntry.objects.filter(
        patient=issued.patient, detail__startswith=f"Questionnaire {pain.pk} asked for"
    ).exists()
    page = alice_client.get(issued.get_absolute_url()).content.decode()
    assert "every 2 weeks" in page and "Stop" in page


def test_problems_come_back_as_messages(alice_client, draft, measures):
    pain = measures["pain-rating"]
    page = add(alice_client, draft, questionnaire=pain.pk, when="every").content.decode()
    assert "Say every how many weeks (1 to 52)." in page
    page = add(alice_client, draft, questionnaire=pain.pk, when="review").content.decode()
    assert "This program has no review date yet: set one first." in page
    page = add(alice_client, draft, questionnaire="99999", when="now").content.decode()
    assert "Select a valid choice." in page
    assert not Schedule.objects.exists()


def test_stopping_a_schedule(alice_client, alice, issued, measures):
    schedule = schedule_add(
        prescription=issued, questionnaire=measures["pain-rating"], when="now", actor=Actor(alice)
    )
    url = reverse("prescriptions:questionnaire_stop", args=[issued.pk, schedule.pk])
    page = alice_client.post(url, follow=True).content.decode()
    assert "Pain: no longer asked for." in page
    schedule.refresh_from_db()
    assert schedule.stopped_at is not None


def test_another_program_or_clinic_cannot_stop_or_add(client, alice, charlie, issued, measures):
    schedule = schedule_add(
        prescription=issued, questionnaire=measures["pain-rating"], when="now", actor=Actor(alice)
    )
    client.force_login(alice)
    # The schedule through another program's URL: not found.
    elsewhere = PrescriptionFactory(patient=issued.patient, therapist=alice)
    other = reverse("prescriptions:questionnaire_stop", args=[elsewhere.pk, schedule.pk])
    assert client.post(other).status_code == 404
    client.force_login(charlie)
    mine = reverse("prescriptions:questionnaire_stop", args=[issued.pk, schedule.pk])
    assert client.post(mine).status_code == 404
    assert (
        add(client, issued, questionnaire=measures["pain-rating"].pk, when="now").status_code == 404
    )
    schedule.refresh_from_db()
    assert schedule.stopped_at is None and Schedule.objects.count() == 1
