"""The audit trail: who did what to which patient's record, and to the clinic itself.

Services that change data write their entry themselves, inside their own
transaction, from the ``Actor`` they are given (zulip's ``do_*`` actions with
``acting_user`` are the model): whatever calls them, a view, a command or the
admin, nothing escapes the trail. Views write only reads (view, print).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from clinic.access import client_ip
from clinic.models import AuditEntry, Clinic, Patient

if TYPE_CHECKING:
    from clinic.models import User


@dataclass(frozen=True)
class Actor:
    """Who acts, and from which address (``None`` for a command on the server).

    A site operator's command that no staff account runs (``clinic_create``) acts
    as ``Actor.command("manage.py clinic_create")``: no user, the command named."""

    user: User | None
    ip: str | None = None
    name: str = ""

    @classmethod
    def command(cls, name: str) -> Actor:
        return cls(user=None, name=name)

    @property
    def label(self) -> str:
        """What the trail writes as who acted: the account's email, or the command."""
        return self.user.email if self.user is not None else self.name

    @classmethod
    def of(cls, request) -> Actor:
        return cls(user=request.user, ip=client_ip(request))


def audit_record(
    *,
    actor: Actor,
    action: str,
    patient: Patient | None = None,
    clinic: Clinic | None = None,
    target: str = "",
    detail: str = "",
) -> AuditEntry:
    """Write down that ``actor`` did ``action`` to ``patient``'s record.

    ``target`` and ``detail`` are fixed words and ids chosen by the code, never
    text a user typed about a patient: the entry must hold no personal data once
    the patient is erased. Without a patient, the entry is about ``clinic`` itself
    (its staff and settings).
    """
    if patient is None and clinic is None:
        raise ValueError("An audit entry is about a patient or a clinic.")
    return AuditEntry.objects.create(
        clinic_id=patient.clinic_id if patient is not None else clinic.pk,  # type: ignore[union-attr]
        actor=actor.user,
        actor_email=actor.label,
        action=action,
        patient=patient,
        patient_ref=patient.pk if patient is not None else None,
        target=target[:60],
        detail=detail[:200],
        ip_address=actor.ip,
    )


def changed_fields(form) -> str:
    """An audit detail naming the changed fields by their labels (never their values)."""
    return "Changed: " + ", ".join(
        str(form.fields[name].label).lower() for name in form.changed_data
    )
