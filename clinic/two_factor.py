"""Two-factor sign-in: an authenticator app (TOTP) and single-use recovery codes.

A set-up's secret belongs to the session that shows it: every session that opens
set-up gets a fresh one, so a key seen by someone else (who knew the password
before two-factor was on) is never the key the owner confirms. Confirming keeps
only the confirmed device and makes a new set of recovery codes.

Recovery codes are django-otp's static device: each code works once. A member of
a clinic's staff turning two-factor on or off, or making new codes, is recorded
in the clinic's audit trail.
"""

import secrets

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.access import membership_of
from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry

SETUP_SESSION_KEY = "openhep_totp_setup_device"
RECOVERY_CODES = 10
# Letters and digits that cannot be mistaken for one another when read off paper.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10  # About 49 bits each; django-otp stores up to 16 characters.


def _event(actor: Actor, user, detail: str) -> None:
    """A staff event in the user's clinic's trail (site operators have no clinic)."""
    membership = membership_of(user)
    if membership is not None:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.STAFF,
            clinic=membership.clinic,
            target=f"member {user.email}",
            detail=detail,
        )


def has_authenticator(user) -> bool:
    """Two-factor sign-in is on: the user has a confirmed authenticator app. Recovery
    codes back it up; without the app they are not a second factor of their own."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def setup_device(*, user, session) -> TOTPDevice:
    """The unconfirmed authenticator this session is setting up, or a fresh one (a
    new secret) remembered in the session. Never another session's."""
    device_id = session.get(SETUP_SESSION_KEY)
    device = (
        TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
        if device_id
        else None
    )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        session[SETUP_SESSION_KEY] = device.pk
    return device


@transaction.atomic
def two_factor_confirm(*, device: TOTPDevice, actor: Actor, session) -> list[str]:
    """The code matched: ``device`` is the user's authenticator from now on. Every
    other authenticator of theirs (other sessions' unconfirmed set-ups) is deleted.
    Returns the new recovery codes, to be shown once."""
    user = device.user
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    session.pop(SETUP_SESSION_KEY, None)
    codes = _new_recovery_codes(user)
    _event(actor, user, "Turned on two-factor sign-in")
    return codes


@transaction.atomic
def two_factor_remove(*, user, actor: Actor) -> None:
    """Turn two-factor sign-in off: the authenticator and the recovery codes go."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _event(actor, user, "Turned off two-factor sign-in")


@transaction.atomic
def recovery_codes_replace(*, user, actor: Actor) -> list[str]:
    """A new set of recovery codes; the old ones stop working. Returns the new codes."""
    codes = _new_recovery_codes(user)
    _event(actor, user, "Made new recovery codes")
    return codes


def recovery_code_used(*, user, actor: Actor) -> None:
    """Signing in with a recovery code is worth a line: it may mean a lost phone."""
    _event(actor, user, f"Signed in with a recovery code ({recovery_codes_left(user)} left)")


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def recovery_device(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def normalise_recovery_code(text: str) -> str:
    """As typed or pasted: spaces, dashes and capitals do not matter."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def format_recovery_code(code: str) -> str:
    """Shown in two halves, easier to copy by hand."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODES)
    ]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes
