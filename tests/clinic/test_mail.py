"""What a mail failure means, from real conversations with an SMTP server on loopback."""

import smtplib
import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from django.core.mail import EmailMessage

from clinic.mail import explain, is_temporary
from openhep.mailers import mailer_from_url
from tests.helpers import free_port


class Accept:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory):
    """A certificate no one trusts, made for this run (the openssl command line tool)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def server():
    """Start an aiosmtpd server with the given options; stopped after the test."""
    controllers = []

    def start(**options):
        port = free_port()
        controller = Controller(Accept(), hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


def send_through(settings, url: str) -> Exception:
    settings.MAILERS = {"default": mailer_from_url(url, timeout=5)}
    with pytest.raises(Exception) as caught:
        EmailMessage("Hi", "Body", "a@openhep.example", ["b@patient.example"]).send()
    return caught.value


def test_a_server_without_starttls_is_a_setting_to_fix_not_a_retry(settings, server):
    port = server()  # Offers no STARTTLS, while EMAIL_URL asks for it.
    error = send_through(settings, f"smtp://127.0.0.1:{port}/?tls=1")
    assert isinstance(error, smtplib.SMTPNotSupportedError)
    assert not is_temporary(error)
    assert explain(error) == (
        "The mail server does not offer STARTTLS, which EMAIL_URL asks for. "
        "Ask your administrator to check EMAIL_URL."
    )


def test_an_untrusted_certificate_on_starttls_is_permanent(settings, server, self_signed):
    port = server(tls_context=self_signed)
    error = send_through(settings, f"smtp://127.0.0.1:{port}/?tls=1")
    assert isinstance(error, ssl.SSLCertVerificationError)
    assert not is_temporary(error)
    words = explain(error)
    assert words.startswith("The mail server's certificate could not be verified (")
    assert "self-signed certificate" in words and "check EMAIL_URL" in words


def test_an_untrusted_certificate_on_smtps_is_permanent(settings, server, self_signed):
    port = server(ssl_context=self_signed)
    error = send_through(settings, f"smtps://127.0.0.1:{port}/")
    assert isinstance(error, ssl.SSLCertVerificationError)
    assert not is_temporary(error)
    assert "certificate could not be verified" in explain(error)


def test_smtps_to_a_plain_server_is_a_tls_setting_to_fix(settings, server):
    port = server()
    error = send_through(settings, f"smtps://127.0.0.1:{port}/")
    assert isinstance(error, ssl.SSLError)  # The server's "220" is no TLS handshake.
    assert not is_temporary(error)
    assert "secure connection to the mail server could not be set up" in explain(error)


def test_no_server_at_all_is_temporary(settings):
    error = send_through(settings, f"smtp://127.0.0.1:{free_port()}/")
    assert isinstance(error, ConnectionRefusedError)
    assert is_temporary(error)
    assert explain(error) == "The mail server could not be reached."


def test_classification_of_errors_that_are_hard_to_provoke():
    assert is_temporary(smtplib.SMTPServerDisconnected("gone"))
    assert is_temporary(TimeoutError())
    assert is_temporary(ssl.SSLEOFError())
    assert is_temporary(smtplib.SMTPDataError(421, b"closing"))
    assert not is_temporary(smtplib.SMTPException("No suitable authentication method found."))
    assert "could not agree" in explain(smtplib.SMTPException("No suitable method"))
    auth = smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    assert not is_temporary(auth)
    assert "does not offer a login (AUTH)" in explain(auth)
    missing = FileNotFoundError(2, "No such file")
    assert not is_temporary(missing)
    assert "handout file is missing" in explain(missing)
