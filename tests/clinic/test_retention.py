"""The audit trail keeps reads two years and changes seven (by default), then lets go."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from clinic.retention import BATCH

pytestmark = pytest.mark.django_db


def entry(clinic, user, action, days_ago: int, patient=None) -> AuditEntry:
    made = audit_record(
        actor=Actor(user), action=action, clinic=clinic, patient=patient, target="x"
    )
    AuditEntry.objects.filter(pk=made.pk).update(at=timezone.now() - timedelta(days=days_ago))
    return made


def test_reads_go_after_two_years_and_changes_after_seven(clinic, other_clinic, alice, patient):
    view, print_ = AuditEntry.Action.VIEW, AuditEntry.Action.PRINT
    change, email = AuditEntry.Action.CHANGE, AuditEntry.Action.EMAIL
    kept = [
        entry(clinic, alice, view, 729, patient),
        entry(clinic, alice, change, 2554, patient),
        entry(clinic, alice, email, 800, patient),
    ]
    gone = [
        entry(clinic, alice, view, 731, patient),
        entry(clinic, alice, print_, 1000, patient),
        entry(clinic, alice, change, 2556, patient),
        entry(other_clinic, alice, AuditEntry.Action.STAFF, 3000),
    ]
    out = io.StringIO()
    call_command("audit_prune", dry_run=True, stdout=out)
    assert "4 audit entries are past their retention." in out.getvalue()
    assert AuditEntry.objects.count() == 7

    call_command("audit_prune", stdout=out)

    assert "4 audit entries past their retention deleted." in out.getvalue()
    left = set(AuditEntry.objects.values_list("pk", flat=True))
    assert {e.pk for e in kept} <= left and not {e.pk for e in gone} & left
    # Each clinic's trail says what went, as the command's doing.
    notes = AuditEntry.objects.filter(actor_email="manage.py audit_prune").order_by("clinic")
    assert [(n.clinic_id, n.detail.split(" entries")[0]) for n in notes] == sorted(
        [(clinic.pk, "3"), (other_clinic.pk, "1")]
    )


def test_the_periods_are_settings(clinic, alice, settings):
    settings.OPENHEP_AUDIT_KEEP_READS_DAYS = 30
    entry(clinic, alice, AuditEntry.Action.VIEW, 31)
    entry(clinic, alice, AuditEntry.Action.VIEW, 29)
    call_command("audit_prune", stdout=io.StringIO())
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VIEW).count() == 1


def test_more_than_a_batch_is_deleted_in_batches(clinic, alice, monkeypatch):
    monkeypatch.setattr("clinic.retention.BATCH", 3)
    for _ in range(7):
        entry(clinic, alice, AuditEntry.Action.VIEW, 800)
    assert BATCH == 5000
    call_command("audit_prune", stdout=io.StringIO())
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.VIEW).exists()
