"""How long the audit trail keeps its entries.

Every page view of a patient's record writes an entry, so the trail grows with use
and would never shrink. Two retention periods, set to what the clinics' law asks
(docs/security.md):

- **reads** (viewed, printed or downloaded): ``AUDIT_KEEP_READS_DAYS``, two years
  by default;
- **changes** (everything else: creating, changing, issuing, emailing, exporting,
  erasing, staff and settings): ``AUDIT_KEEP_CHANGES_DAYS``, seven years by
  default, as long as Australian health records are kept for an adult.

``audit_prune`` deletes older entries in batches (short transactions, no long lock)
and writes one entry per clinic saying how many went, as the command's doing.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry, Clinic

READS = (AuditEntry.Action.VIEW, AuditEntry.Action.PRINT)
BATCH = 5000
ACTOR = Actor.command("manage.py audit_prune")


@dataclass(frozen=True)
class Cutoffs:
    reads: object
    changes: object

    @classmethod
    def now(cls) -> "Cutoffs":
        now = timezone.now()
        return cls(
            reads=now - timedelta(days=settings.OPENHEP_AUDIT_KEEP_READS_DAYS),
            changes=now - timedelta(days=settings.OPENHEP_AUDIT_KEEP_CHANGES_DAYS),
        )


def _expired(cutoffs: Cutoffs):
    reads = AuditEntry.objects.filter(action__in=READS, at__lt=cutoffs.reads)
    changes = AuditEntry.objects.exclude(action__in=READS).filter(at__lt=cutoffs.changes)
    return reads, changes


def audit_expired_counts(cutoffs: Cutoffs | None = None) -> dict[int, int]:
    """Entries past their retention, per clinic id (what a prune would delete)."""
    counts: dict[int, int] = {}
    for queryset in _expired(cutoffs or Cutoffs.now()):
        for clinic_id, count in queryset.values_list("clinic").annotate(n=Count("pk")).order_by():
            counts[clinic_id] = counts.get(clinic_id, 0) + count
    return counts


def audit_prune(cutoffs: Cutoffs | None = None) -> int:
    """Delete the entries past their retention, a batch at a time; returns how many."""
    cutoffs = cutoffs or Cutoffs.now()
    per_clinic = audit_expired_counts(cutoffs)
    deleted = 0
    for queryset in _expired(cutoffs):
        while ids := list(queryset.values_list("pk", flat=True)[:BATCH]):
            with transaction.atomic():
                deleted += AuditEntry.objects.filter(pk__in=ids).delete()[0]
    for clinic in Clinic.objects.filter(pk__in=per_clinic):
        audit_record(
            actor=ACTOR,
            action=AuditEntry.Action.SETTINGS,
            clinic=clinic,
            target="audit trail",
            detail=(
                f"{per_clinic[clinic.pk]} entries past retention removed (reads kept "
                f"{settings.OPENHEP_AUDIT_KEEP_READS_DAYS} days, changes "
                f"{settings.OPENHEP_AUDIT_KEEP_CHANGES_DAYS})"
            ),
        )
    return deleted
