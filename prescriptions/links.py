"""Program links: the secret ``/p/<token>/`` address printed as a QR code on a handout.

A token is 26 letters and digits of base32 (130 bits). It is never stored: it is the
HMAC of the link's random ``nonce`` under the server's secret key, so a new version of
a program prints the same code as the first, and a copy of the database alone opens no
page. The page finds its link by the token's SHA-256 (``token_hash``), which does not
depend on the key: rotating ``SECRET_KEY`` leaves every printed link working (the next
version of such a program is printed with a new link, see ``token_of``).
"""

import base64
import datetime
import hashlib
import re
import secrets

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from prescriptions.models import ProgramLink

TOKEN_LENGTH = 26
# What a token looks like once typed letters are lower-cased and spaces and dashes dropped.
TOKEN_SHAPE = re.compile(r"[a-z2-7]{26}\Z")
KEY_SALT = "openhep.prescriptions.program-link"


def new_nonce() -> str:
    return secrets.token_hex(16)


def token_for_nonce(nonce: str, *, secret: str | None = None) -> str:
    digest = salted_hmac(KEY_SALT, nonce, secret=secret, algorithm="sha256").digest()
    return base64.b32encode(digest).decode().lower()[:TOKEN_LENGTH]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise(raw: str) -> str:
    """A token as typed from paper: any case, with spaces or dashes between groups."""
    return re.sub(r"[\s-]", "", raw or "").lower()


def token_of(link: ProgramLink) -> str | None:
    """The link's token, or ``None`` when the secret key that made it is gone (rotated
    out of ``SECRET_KEY_FALLBACKS``): the printed token still opens the page, but cannot
    be printed again."""
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        token = token_for_nonce(link.nonce, secret=secret)
        if hash_token(token) == link.token_hash:
            return token
    return None


def site_origin() -> str:
    """Where patients open their page: ``SITE_URL``, or ``make run``'s address."""
    return settings.SITE_URL or "http://127.0.0.1:8000"


def page_url(token: str) -> str:
    return f"{site_origin()}/p/{token}/"


def printed_page_url(link: ProgramLink | None) -> str:
    """The page address an issued handout prints for ``link``, its token made again
    from the nonce (a token is never stored). Empty when there is no link or the key
    that made its token is gone (rotated out of ``SECRET_KEY_FALLBACKS``, or the clinic
    was moved to another installation): the handout then prints no code, and the link
    panel prints a card with a new one."""
    if link is None:
        return ""
    token = token_of(link)
    return page_url(token) if token else ""


def sample_page_url() -> str:
    """What a draft's preview prints in place of the patient's own code."""
    return page_url("sample-your-own-code-when-issued")


def expires_on(link: ProgramLink) -> datetime.date | None:
    """The last day the page opens: the clinic's number of days after the program's
    review date (none when either is unset)."""
    prescription = link.prescription
    days = link.clinic.program_link_days
    if prescription is None or prescription.review_date is None or not days:
        return None
    return prescription.review_date + datetime.timedelta(days=days)


def is_open(link: ProgramLink, *, today: datetime.date | None = None) -> bool:
    """Whether the page opens: the link is on, shows an issued program, and the patient
    is neither archived nor past the page's last day."""
    if link.ended_at is not None or link.prescription is None or link.patient.archived:
        return False
    last_day = expires_on(link)
    return last_day is None or (today or timezone.localdate()) <= last_day


def open_page_url(prescription) -> str | None:
    """The page address to give with this version's handout: ``None`` unless a link
    opens it now (issued, on, not expired) and its token can still be made."""
    link = (
        ProgramLink.objects.select_related("clinic", "patient", "prescription")
        .filter(prescription=prescription, ended_at__isnull=True)
        .first()
    )
    if link is None or not is_open(link):
        return None
    token = token_of(link)
    return page_url(token) if token else None
