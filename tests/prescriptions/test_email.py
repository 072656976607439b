import email
import email.policy
import uuid

import pytest
from aiosmtpd.controller import Controller
from django.urls import reverse

from clinic.mailers import mailer_from_url
from prescriptions import services
from prescriptions.models import Delivery
from tests.helpers import free_port

# Real commits, as in production: the email task runs when the request's
# transaction commits, before the page is rendered.
pytestmark = pytest.mark.django_db(transaction=True)


class Recorder:
    def __init__(self, reply="250 OK"):
        self.reply = reply
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        if self.reply.startswith("250"):
            self.envelopes.append(envelope)
        return self.reply


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback; the app's default mailer points at it."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.MAILERS = {
        "default": mailer_from_url(f"smtp://127.0.0.1:{controller.port}/", timeout=5)
    }
    settings.DEFAULT_FROM_EMAIL = "OpenHEP <handouts@openhep.example>"
    yield recorder
    controller.stop()


def post_email(client, rx, recipient="jordan@patient.example", key=None):
    return client.post(
        reverse("prescriptions:email", args=[rx.pk]),
        {"recipient": recipient, "request_key": str(key or uuid.uuid4())},
        follow=True,
    )


def test_email_arrives_with_the_stored_handout(alice_client, issued, smtp):
    response = post_email(alice_client, issued)
    assert "Handout emailed to jordan@patient.example." in response.content.decode()
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["jordan@patient.example"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "Your home exercise program from Northside Myotherapy"
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "Northside Myotherapy",
        "handouts@openhep.example",
    )
    assert message["Reply-To"] == "front-desk@northside-myotherapy.example"
    attachments = list(message.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    assert attachments[0].get_content() == issued.handout.pdf.open("rb").read()
    assert attachments[0].get_filename() == "hips-and-back.pdf"
    body = message.get_body(("plain",)).get_content()
    assert "Hello Jordan Ellis" in body
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert delivery.message_id == message["Message-ID"] and delivery.sent_at is not None
    assert "sent" in alice_client.get(issued.get_absolute_url()).content.decode().lower()


def test_double_submit_sends_once(alice_client, issued, smtp):
    key = uuid.uuid4()
    post_email(alice_client, issued, key=key)
    response = post_email(alice_client, issued, key=key)
    assert "already requested" in response.content.decode()
    assert len(smtp.envelopes) == 1 and Delivery.objects.count() == 1


def test_server_rejection_is_recorded_as_failed_with_a_clear_message(alice_client, issued, smtp):
    smtp.reply = "554 Transaction failed"
    response = post_email(alice_client, issued)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.last_error == "The mail server answered 554: it did not accept the message."
    assert delivery.last_error in response.content.decode()


def test_server_down_is_recorded_as_failed(alice_client, issued, settings):
    from tests.helpers import free_port as closed_port

    settings.MAILERS = {"default": mailer_from_url(f"smtp://127.0.0.1:{closed_port()}/", timeout=2)}
    post_email(alice_client, issued)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    assert "could not be reached" in delivery.last_error


def test_drafts_cannot_be_emailed(alice_client, draft, smtp):
    response = post_email(alice_client, draft)
    assert "Issue the prescription before emailing" in response.content.decode()
    assert not Delivery.objects.exists()


def test_email_needs_recorded_consent(alice_client, issued, smtp):
    issued.patient.email_consent = False
    issued.patient.save()
    response = post_email(alice_client, issued)
    assert "has not agreed to receive handouts by email" in response.content.decode()
    assert not Delivery.objects.exists()


def test_bad_address_gets_a_clear_message(alice_client, issued, smtp):
    response = post_email(alice_client, issued, recipient="not an address")
    assert "Enter a valid email address." in response.content.decode()
    assert not Delivery.objects.exists()


def test_newlines_in_names_cannot_add_headers(alice_client, issued, smtp):
    issued.clinic.name = "Evil\r\nBcc: victim@evil.example"
    issued.clinic.save()
    issued.patient.first_name = "Jo\nBcc: other@evil.example"
    issued.patient.save()
    post_email(alice_client, issued)
    for envelope in smtp.envelopes:
        assert envelope.rcpt_tos == ["jordan@patient.example"]
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert message["Bcc"] is None
        assert message["From"].addresses[0].display_name == "Evil Bcc: victim@evil.example"
    delivery = Delivery.objects.get()
    assert delivery.status == "sent", delivery.last_error
    assert len(smtp.envelopes) == 1


def test_service_refuses_a_draft_directly(draft, alice):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.delivery_request(
            prescription=draft, by=alice, recipient="x@y.example", request_key=uuid.uuid4()
        )
