"""What a mail failure means: worth retrying or not, and in words a therapist can act on.

Every ``SMTPException`` and ``ssl.SSLError`` is an ``OSError``, so "any OSError is a
network problem" would retry a bad certificate or a missing STARTTLS five times and
call it "could not be reached". The order below goes from the most to the least
specific: what the server answered, then TLS, then the protocol, then the network.
"""

import errno
import smtplib
import socket
import ssl

# Connection failures that come and go (a server restarting, a route flapping).
NETWORK_ERRNOS = {
    errno.ENETUNREACH,
    errno.EHOSTUNREACH,
    errno.ENETDOWN,
    errno.EHOSTDOWN,
}
# A TLS connection cut off mid-way is a disconnect, not a configuration problem.
TLS_CUT_OFF = (ssl.SSLEOFError, ssl.SSLZeroReturnError)
CHECK_SETTINGS = "Ask your administrator to check EMAIL_URL."


def _unreachable(error: Exception) -> bool:
    return isinstance(
        error,
        (
            smtplib.SMTPServerDisconnected,
            ConnectionError,
            TimeoutError,
            socket.gaierror,
            *TLS_CUT_OFF,
        ),
    ) or (type(error) is OSError and error.errno in NETWORK_ERRNOS)


def is_temporary(error: Exception) -> bool:
    """Worth trying again later: the server was away, busy or said 4xx. A certificate,
    TLS or protocol mismatch is a setting to fix, not something time will mend."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return True  # A settings problem an administrator can fix; the handout is fine.
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return _unreachable(error)


def explain(error: Exception) -> str:
    """The failure in words a therapist can act on (no patient data)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "The mail server refused the address. Check the patient's email address."
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "The mail server refused our login. Ask your administrator to check EMAIL_URL."
    if isinstance(error, smtplib.SMTPResponseException):
        if 400 <= error.smtp_code < 500:
            return f"The mail server was busy (it answered {error.smtp_code})."
        return f"The mail server answered {error.smtp_code}: it did not accept the message."
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            "The mail server's certificate could not be verified "
            f"({error.verify_message or 'not trusted'}). Ask your administrator to check "
            "EMAIL_URL: the host name must be the one on the server's certificate."
        )
    if _unreachable(error):
        return "The mail server could not be reached."
    if isinstance(error, ssl.SSLError):
        return (
            "A secure connection to the mail server could not be set up. "
            "Ask your administrator to check EMAIL_URL (tls=1 for STARTTLS on port 587, "
            "smtps:// for port 465)."
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        # smtplib's own words name what is missing: STARTTLS or AUTH.
        missing = "STARTTLS" if "STARTTLS" in str(error) else "a login (AUTH)"
        return (
            f"The mail server does not offer {missing}, which EMAIL_URL asks for. " + CHECK_SETTINGS
        )
    if isinstance(error, smtplib.SMTPException):
        return "The mail server and OpenHEP could not agree how to talk. " + CHECK_SETTINGS
    if isinstance(error, FileNotFoundError):
        return "The stored handout file is missing. Restore it from a backup, then retry."
    return "The email could not be sent because of an unexpected error."
