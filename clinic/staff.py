"""Clinic staff: invitations by email with a one-time link, roles, deactivation.

Only a clinic's admins call these (the views check); every function keeps at
least one active admin in the clinic.
"""

import secrets
from datetime import timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry, Clinic, Invitation, Membership, User


def _new_token(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = Invitation.hash_token(token)
    invitation.expires_at = timezone.now() + timedelta(days=settings.OPENHEP_INVITATION_DAYS)
    return token


@transaction.atomic
def _staff_event(*, actor: Actor, clinic: Clinic, target: str, detail: str) -> None:
    audit_record(
        actor=actor,
        action=AuditEntry.Action.STAFF,
        clinic=clinic,
        target=target,
        detail=detail,
    )


def invitation_create(*, clinic: Clinic, actor: Actor, form) -> tuple[Invitation, str]:
    """Create an invitation from a valid ``InvitationForm``; returns it and the token
    for the link (only the token's hash is stored). An open invitation for the same
    address is replaced, so only the newest link works."""
    now = timezone.now()
    clinic.invitations.filter(
        email__iexact=form.cleaned_data["email"], accepted_at=None, cancelled_at=None
    ).update(cancelled_at=now)
    invitation = form.save(commit=False)
    invitation.clinic = clinic
    invitation.invited_by = actor.user
    token = _new_token(invitation)
    invitation.save()
    _staff_event(
        actor=actor,
        clinic=clinic,
        target=f"invitation {invitation.pk}",
        detail=f"Invited {invitation.email} as {invitation.get_role_display().lower()}",
    )
    return invitation, token


@transaction.atomic
def invitation_renew(*, invitation: Invitation, actor: Actor) -> str:
    """A fresh link (the old one stops working) valid for another full period."""
    token = _new_token(invitation)
    invitation.save(update_fields=["token_hash", "expires_at"])
    _staff_event(
        actor=actor,
        clinic=invitation.clinic,
        target=f"invitation {invitation.pk}",
        detail=f"Sent the invitation for {invitation.email} again",
    )
    return token


@transaction.atomic
def invitation_cancel(*, invitation: Invitation, actor: Actor) -> None:
    if invitation.accepted_at is None and invitation.cancelled_at is None:
        invitation.cancelled_at = timezone.now()
        invitation.save(update_fields=["cancelled_at"])
        _staff_event(
            actor=actor,
            clinic=invitation.clinic,
            target=f"invitation {invitation.pk}",
            detail=f"Cancelled the invitation for {invitation.email}",
        )


def invitation_send(*, invitation: Invitation, token: str, base_url: str) -> None:
    """Email the link. Raises what the mail server raised: the caller reports it."""
    clinic = invitation.clinic
    context = {
        "invitation": invitation,
        "clinic": clinic,
        "link": base_url + reverse("invitation_accept", args=[token]),
        "days": settings.OPENHEP_INVITATION_DAYS,
        "inviter": invitation.invited_by,
    }
    from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    EmailMessage(
        subject=f"You are invited to join {' '.join(clinic.name.split())} on OpenHEP",
        body=render_to_string("emails/invitation.txt", context),
        from_email=formataddr(("OpenHEP", from_address)),
        to=[invitation.email],
    ).send()


def invitation_for_token(token: str) -> Invitation | None:
    """The open invitation the link belongs to, or None (unknown, used, cancelled, expired)."""
    invitation = (
        Invitation.objects.select_related("clinic")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )
    if invitation is None or not invitation.is_open(timezone.now()):
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, form, ip: str | None = None) -> User:
    """Create the invited person's account and membership; the link is spent. The new
    member is the actor of the audit entry (from ``ip``, the address they joined from)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open(timezone.now()):
        raise ValidationError("This invitation has already been used or has expired.")
    if User.objects.with_email(invitation.email).exists():
        raise ValidationError("This address already has an OpenHEP account. Sign in instead.")
    user = User.objects.create_user(
        email=invitation.email,
        password=form.cleaned_data["password1"],
        first_name=form.cleaned_data["first_name"],
        last_name=form.cleaned_data["last_name"],
    )
    Membership.objects.create(
        user=user, clinic=invitation.clinic, role=invitation.role, title=invitation.title
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    _staff_event(
        actor=Actor(user=user, ip=ip),
        clinic=invitation.clinic,
        target=f"invitation {invitation.pk}",
        detail=f"Joined as {invitation.get_role_display().lower()}",
    )
    return user


def _other_active_admins(membership: Membership) -> bool:
    return (
        Membership.objects.filter(
            clinic=membership.clinic, role=Membership.Role.ADMIN, user__is_active=True
        )
        .exclude(pk=membership.pk)
        .exists()
    )


def _locked(membership: Membership) -> Membership:
    """The membership reloaded under a lock on its clinic: two admins changing each
    other at the same moment take turns, so the last-admin check sees the truth."""
    Clinic.objects.select_for_update().only("pk").get(pk=membership.clinic_id)
    membership = Membership.objects.select_related("user").get(pk=membership.pk)
    if membership.user.is_staff or membership.user.is_superuser:
        # The site operators' own accounts are theirs to manage, in the Django admin.
        raise ValidationError("This account is managed by the site's administrators.")
    return membership


@transaction.atomic
def member_set_active(*, membership: Membership, active: bool, actor: Actor) -> Membership:
    """Deactivate (they can no longer sign in; their work stays, signed with their name)
    or reactivate a member of staff."""
    membership = _locked(membership)
    user = membership.user
    if not active:
        if actor.user is not None and user.pk == actor.user.pk:
            raise ValidationError("You cannot deactivate your own account.")
        if membership.is_admin and not _other_active_admins(membership):
            raise ValidationError("The clinic needs at least one active admin.")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        _staff_event(
            actor=actor,
            clinic=membership.clinic,
            target=f"member {user.email}",
            detail="Reactivated" if active else "Deactivated",
        )
    return membership


@transaction.atomic
def member_set_role(*, membership: Membership, role: str, actor: Actor) -> Membership:
    if role not in Membership.Role.values:
        raise ValidationError("Choose a role.")
    membership = _locked(membership)
    demoting = role != Membership.Role.ADMIN and membership.is_admin
    if demoting and not _other_active_admins(membership):
        raise ValidationError("The clinic needs at least one active admin.")
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
        _staff_event(
            actor=actor,
            clinic=membership.clinic,
            target=f"member {membership.user.email}",
            detail=f"Role set to {membership.get_role_display().lower()}",
        )
    return membership
