"""Program links: made when a program is first issued, kept for its new versions,
turned off or replaced by the clinic. Each writes its own audit entry."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from prescriptions import links
from prescriptions.models import Prescription, ProgramLink

Action = AuditEntry.Action


def _audit(actor: Actor, link: ProgramLink, detail: str) -> None:
    audit_record(
        actor=actor,
        action=Action.CHANGE,
        patient=link.patient,
        target=f"program link {link.pk}",
        detail=detail,
    )


def _create(*, prescription: Prescription, actor: Actor) -> tuple[ProgramLink, str]:
    nonce = links.new_nonce()
    token = links.token_for_nonce(nonce)
    link = ProgramLink.objects.create(
        clinic_id=prescription.clinic_id,
        patient_id=prescription.patient_id,
        nonce=nonce,
        token_hash=links.hash_token(token),
        created_by=actor.user,
    )
    return link, token


@transaction.atomic
def program_link_for_issue(*, prescription: Prescription, actor: Actor) -> tuple[ProgramLink, str]:
    """The link (and its token) a draft's handout prints when it is issued: the link of
    the version it replaces while that is on, else a new one. It opens the program once
    ``program_link_attach`` points it at the issued version."""
    if prescription.supersedes_id:
        kept = (
            ProgramLink.objects.select_for_update()
            .filter(prescription_id=prescription.supersedes_id, ended_at__isnull=True)
            .first()
        )
        if kept is not None:
            token = links.token_of(kept)
            if token is not None:
                return kept, token
            # The key that made it is gone: the new version gets a new link.
            _end(kept, ProgramLink.Ended.REPLACED)
            _audit(actor, kept, "Replaced: the server's secret key changed")
    pending = ProgramLink.objects.filter(
        patient_id=prescription.patient_id, prescription__isnull=True, ended_at__isnull=True
    ).first()
    if pending is not None and (token := links.token_of(pending)) is not None:
        return pending, token  # Made by an issue that did not complete.
    link, token = _create(prescription=prescription, actor=actor)
    _audit(actor, link, "Created")
    return link, token


def program_link_attach(*, link: ProgramLink, prescription: Prescription) -> None:
    """Point the link at a newly issued version (inside the issue's transaction, whose
    audit entry records it)."""
    ProgramLink.objects.filter(pk=link.pk).update(prescription=prescription)


def _end(link: ProgramLink, reason: str) -> None:
    link.ended_at = timezone.now()
    link.ended_reason = reason
    link.save(update_fields=["ended_at", "ended_reason"])


@transaction.atomic
def program_link_turn_off(*, link: ProgramLink, actor: Actor) -> None:
    """The page stops opening at once; printed codes lead to the plain 'not found' page."""
    link = ProgramLink.objects.select_for_update().get(pk=link.pk)
    if link.ended_at is None:
        _end(link, ProgramLink.Ended.OFF)
        _audit(actor, link, "Turned off")


@transaction.atomic
def program_link_renew(*, link: ProgramLink, actor: Actor) -> tuple[ProgramLink, str]:
    """A new link for the same program (a lost or shared handout): the old code stops
    working, and the new one is shown to staff once, to print or email."""
    link = ProgramLink.objects.select_for_update().get(pk=link.pk)
    if link.prescription is None:
        raise ValidationError("This program has not been issued yet.")
    if link.ended_at is None:
        _end(link, ProgramLink.Ended.REPLACED)
    prescription = link.prescription
    new, token = _create(prescription=prescription, actor=actor)
    new.prescription = prescription
    new.save(update_fields=["prescription"])
    _audit(actor, new, f"New link in place of program link {link.pk}")
    return new, token
