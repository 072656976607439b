"""The latest scores on the handout, when the therapist asks for them in the builder."""

import datetime

from django.urls import reverse
from django.utils import timezone

from clinic.audit import Actor
from prescriptions import services
from prescriptions.models import Prescription
from tests.helpers import pdf_text
from tests.outcomes.conftest import answered
from tests.prescriptions.test_builder import builder_data


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


def scores(patient, measures):
    pain = measures["pain-rating"]
    answered(patient, pain, {"now": 7, "average": 7, "worst": 7}, days_ago(30))
    answered(patient, pain, {"now": 4, "average": 4, "worst": 5}, days_ago(2))
    answered(patient, measures["global-change"], {"change": 2}, days_ago(2))


def stored_text(rx) -> str:
    with rx.handout.pdf.open("rb") as pdf:
        return pdf_text(pdf.read())


def test_the_builder_sets_it_and_the_issued_handout_prints_the_scores(
    alice_client, alice, draft, patient, measures
):
    scores(patient, measures)
    url = reverse("prescriptions:edit", args=[draft.pk])
    assert "Print the latest scores on the handout" in alice_client.get(url).content.decode()
    alice_client.post(url, builder_data(draft, print_scores="on"))
    draft.refresh_from_db()
    assert draft.print_scores
    services.prescription_issue(prescription=draft, actor=Actor(alice))
    rx = Prescription.objects.get(pk=draft.pk)
    # The issue's check of the snapshot found it unchanged: the scores are fixed by date.
    assert rx.status == "issued"
    progress = rx.handout.snapshot["progress"]
    assert [row["title"] for row in progress] == ["Change", "Pain"]
    pain = progress[1]
    assert (pain["first"], pain["latest"], pain["change"]) == ("7", "4.3", "-2.7")
    assert pain["verdict"] == "better"
    text = stored_text(rx)
    assert "Your progress" in text
    assert "Pain (0–10, lower is better)" in text
    assert "-2.7: better by an amount that matters" in text
    assert "Change (-3–3, higher is better)" in text
    assert "Much better (2)" in text


def test_off_by_default_no_progress_box(alice, draft, patient, measures):
    scores(patient, measures)
    assert not draft.print_scores
    services.prescription_issue(prescription=draft, actor=Actor(alice))
    rx = Prescription.objects.get(pk=draft.pk)
    assert rx.handout.snapshot["progress"] == []
    assert "Your progress" not in stored_text(rx)


def test_a_new_version_keeps_the_choice(alice, draft):
    Prescription.objects.filter(pk=draft.pk).update(print_scores=True)
    services.prescription_issue(prescription=draft, actor=Actor(alice))
    new = services.prescription_new_version(prescription=draft, actor=Actor(alice))
    assert new.print_scores


def test_a_score_after_the_issue_does_not_change_the_stored_snapshot(
    alice, draft, patient, measures
):
    from prescriptions.selectors import handout_snapshot, prescription_for_handout

    scores(patient, measures)
    Prescription.objects.filter(pk=draft.pk).update(print_scores=True)
    services.prescription_issue(prescription=draft, actor=Actor(alice))
    rx = Prescription.objects.get(pk=draft.pk)
    later = days_ago(-1)  # After the issue, whatever the hour.
    answered(patient, measures["pain-rating"], {"now": 1, "average": 1, "worst": 1}, later)
    again = handout_snapshot(prescription_for_handout(rx.pk), issued_at=rx.issued_at)
    assert again["progress"] == rx.handout.snapshot["progress"]
