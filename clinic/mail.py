"""What a mail failure means: worth retrying or not, and in words a therapist can act on."""

import smtplib
import socket


def is_temporary(error: Exception) -> bool:
    """Worth trying again later: the server was away, busy or said 4xx."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return True  # A settings problem an administrator can fix; the handout is fine.
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(
        error,
        (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError, socket.timeout, OSError),
    )


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
    if isinstance(
        error,
        (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError, socket.timeout, OSError),
    ):
        return "The mail server could not be reached."
    return "The email could not be sent because of an unexpected error."
