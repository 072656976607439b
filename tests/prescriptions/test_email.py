"""Emailing handouts through a real SMTP server on loopback (aiosmtpd)."""

import email
import email.policy
import io
import threading
import uuid
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clinic.audit import Actor
from clinic.models import Membership
from openhep.mailers import mailer_from_url
from prescriptions import services, tasks
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


class SMTPServer:
    """aiosmtpd on a fixed loopback port that can be stopped and started again."""

    def __init__(self):
        self.port = free_port()
        self.recorder = Recorder()
        self.controller = None

    def start(self):
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return [
            email.message_from_bytes(e.content, policy=email.policy.default)
            for e in self.recorder.envelopes
        ]


@pytest.fixture
def smtp_server(settings):
    server = SMTPServer()
    settings.MAILERS = {"default": mailer_from_url(f"smtp://127.0.0.1:{server.port}/", timeout=5)}
    settings.DEFAULT_FROM_EMAIL = "OpenHEP <handouts@openhep.example>"
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server):
    return smtp_server.recorder


def run_worker(*, due_now=True):
    """Run the queued tasks as `manage.py db_worker --batch` would, making deferred ones due."""
    from django_tasks_db.models import DBTaskResult

    if due_now:
        # As if the back-off time had passed.
        DBTaskResult.objects.update(run_after=timezone.now())
        Delivery.objects.filter(status=Delivery.Status.RETRY).update(next_attempt_at=timezone.now())
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)


def post_email(client, rx, key=None, **data):
    return client.post(
        reverse("prescriptions:email", args=[rx.pk]),
        {"request_key": str(key or uuid.uuid4()), **data},
        follow=True,
    )


def test_email_arrives_with_the_stored_handout(alice_client, issued, smtp_server):
    response = post_email(alice_client, issued)
    assert "Handout emailed to jordan@patient.example." in response.content.decode()
    [envelope] = smtp_server.recorder.envelopes
    assert envelope.rcpt_tos == ["jordan@patient.example"]
    [message] = smtp_server.messages
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
    assert "Hello Jordan Ellis" in message.get_body(("plain",)).get_content()
    assert "Hello Jordan Ellis" in message.get_body(("html",)).get_content()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert delivery.message_id == message["Message-ID"] and delivery.sent_at is not None
    assert delivery.requested_by.email == "alice@clinic.example"
    page = alice_client.get(issued.get_absolute_url()).content.decode()
    assert 'class="badge delivery-sent">Sent<' in page


def test_carer_copy_personal_message_and_clinic_wording(alice_client, issued, smtp_server):
    clinic = issued.clinic
    clinic.email_subject = "{patient}: your {program} from {clinic}"
    clinic.email_message = "Here is {program}, {patient}."
    clinic.reply_to = "therapists@northside.example"
    clinic.save()
    post_email(
        alice_client,
        issued,
        extra_recipient="carer@family.example",
        message="Lovely work today – see you in two weeks.",
    )
    [envelope] = smtp_server.recorder.envelopes
    assert sorted(envelope.rcpt_tos) == ["carer@family.example", "jordan@patient.example"]
    [message] = smtp_server.messages
    assert message["Subject"] == "Jordan Ellis: your Hips and back from Northside Myotherapy"
    assert message["Cc"] == "carer@family.example"
    assert message["Reply-To"] == "therapists@northside.example"
    body = message.get_body(("plain",)).get_content()
    assert "Lovely work today – see you in two weeks." in body
    assert "Here is Hips and back, Jordan Ellis." in body


def test_double_submit_sends_once(alice_client, issued, smtp):
    key = uuid.uuid4()
    post_email(alice_client, issued, key=key)
    response = post_email(alice_client, issued, key=key)
    assert "already requested" in response.content.decode()
    assert len(smtp.envelopes) == 1 and Delivery.objects.count() == 1


def test_server_rejection_fails_at_once_without_retry(alice_client, issued, smtp, db_tasks):
    smtp.reply = "554 Transaction failed"
    post_email(alice_client, issued)
    run_worker()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "The mail server answered 554: it did not accept the message."
    assert delivery.next_attempt_at is None
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(status="READY").count() == 0
    page = alice_client.get(issued.get_absolute_url()).content.decode()
    assert delivery.last_error in page and "Retry now" in page


def test_server_down_then_up_retries_and_sends_once(alice_client, issued, smtp_server, db_tasks):
    smtp_server.stop()
    response = post_email(alice_client, issued)
    assert "on its way" in response.content.decode()
    run_worker()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("retry", 1)
    assert delivery.get_status_display() == "Failed – will retry"
    assert delivery.last_error == "The mail server could not be reached."
    assert timezone.now() + timedelta(seconds=50) < delivery.next_attempt_at
    # Not due yet: the worker leaves it alone.
    run_worker(due_now=False)
    assert Delivery.objects.get().attempts == 1
    smtp_server.start()
    run_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(smtp_server.recorder.envelopes) == 1
    run_worker()
    assert len(smtp_server.recorder.envelopes) == 1


def test_temporary_failures_stop_after_the_limit(issued, alice, smtp_server, db_tasks):
    smtp_server.stop()
    delivery, _ = services.delivery_request(
        prescription=issued, actor=Actor(alice), request_key=uuid.uuid4()
    )
    for _ in range(tasks.MAX_ATTEMPTS + 2):
        run_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", tasks.MAX_ATTEMPTS)


def test_a_settings_mismatch_fails_at_once_with_words_an_admin_can_act_on(
    issued, alice, smtp_server, db_tasks, settings
):
    # EMAIL_URL asks for STARTTLS; this server does not offer it. Retrying cannot help.
    settings.MAILERS = {
        "default": mailer_from_url(f"smtp://127.0.0.1:{smtp_server.port}/?tls=1", timeout=5)
    }
    delivery, _ = services.delivery_request(
        prescription=issued, actor=Actor(alice), request_key=uuid.uuid4()
    )
    for _ in range(3):
        run_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == (
        "The mail server does not offer STARTTLS, which EMAIL_URL asks for. "
        "Ask your administrator to check EMAIL_URL."
    )
    assert not smtp_server.recorder.envelopes


def test_4xx_is_temporary_5xx_is_permanent():
    import smtplib

    assert tasks.is_temporary(smtplib.SMTPDataError(451, b"try later"))
    assert not tasks.is_temporary(smtplib.SMTPDataError(550, b"no"))
    assert tasks.is_temporary(smtplib.SMTPRecipientsRefused({"a@b.example": (452, b"full")}))
    assert not tasks.is_temporary(smtplib.SMTPRecipientsRefused({"a@b.example": (550, b"no")}))
    assert tasks.is_temporary(ConnectionRefusedError())
    assert not tasks.is_temporary(ValueError("bad header"))


def test_without_a_worker_a_failure_offers_retry_and_retry_sends(alice_client, issued, smtp_server):
    # The immediate backend (make run) cannot defer: a failure waits for the Retry button.
    smtp_server.stop()
    response = post_email(alice_client, issued)
    assert "Press Retry to try again." in response.content.decode()
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    smtp_server.start()
    url = reverse("prescriptions:delivery_retry", args=[issued.pk, delivery.pk])
    response = alice_client.post(url, follow=True)
    assert "Handout emailed to jordan@patient.example." in response.content.decode()
    assert alice_client.post(url, follow=True).status_code == 200  # a second click: no resend
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(smtp_server.recorder.envelopes) == 1


def test_a_worker_that_died_mid_send_is_picked_up_and_sends_once(issued, alice, smtp, db_tasks):
    delivery, _ = services.delivery_request(
        prescription=issued, actor=Actor(alice), request_key=uuid.uuid4()
    )
    # A worker claimed it and died before the server accepted anything.
    assert tasks.claim(delivery.pk) is not None
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # ...and its task is gone too.
    assert services.deliveries_requeue() == 0  # Its lease has not run out yet.
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1),
        updated_at=timezone.now() - timedelta(minutes=10),
    )
    call_command("requeue_deliveries", verbosity=0)
    run_worker()
    run_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(smtp.envelopes) == 1


def test_racing_workers_send_one_email(issued, alice, smtp):
    delivery = Delivery.objects.create(prescription=issued, recipient="jordan@patient.example")
    if connection.vendor != "postgresql":
        # SQLite has no row locks: its database-wide write lock serialises the claims.
        results = [tasks.send_delivery.call(delivery.pk) for _ in range(3)]
        assert results == ["sent", "skipped", "skipped"]
        assert len(smtp.envelopes) == 1
        return
    start = threading.Barrier(4)
    results = []

    def worker():
        start.wait()
        try:
            results.append(tasks.send_delivery.call(delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["sent", "skipped", "skipped", "skipped"]
    assert len(smtp.envelopes) == 1


def test_drafts_cannot_be_emailed(alice_client, draft, smtp):
    response = post_email(alice_client, draft)
    assert "Issue the prescription before emailing" in response.content.decode()
    assert not Delivery.objects.exists()


def test_email_needs_recorded_consent_and_consent_can_be_recorded(
    alice_client, alice, issued, smtp
):
    patient = issued.patient
    patient.email_consent = False
    patient.save()
    response = post_email(alice_client, issued)
    assert "has not agreed to receive handouts by email" in response.content.decode()
    assert not Delivery.objects.exists()
    page = alice_client.get(issued.get_absolute_url()).content.decode()
    assert "Patient agrees – record consent" in page
    alice_client.post(
        reverse("patients:consent", args=[patient.pk]), {"next": issued.get_absolute_url()}
    )
    patient.refresh_from_db()
    assert patient.email_consent and patient.email_consent_by == alice
    assert patient.email_consent_at is not None
    post_email(alice_client, issued)
    assert len(smtp.envelopes) == 1


def test_consent_redirect_stays_on_this_site(alice_client, patient):
    response = alice_client.post(
        reverse("patients:consent", args=[patient.pk]), {"next": "https://evil.example/"}
    )
    assert response.url == patient.get_absolute_url()


def test_bad_carer_address_gets_a_clear_message(alice_client, issued, smtp):
    response = post_email(alice_client, issued, extra_recipient="not an address")
    assert "Enter a valid email address." in response.content.decode()
    assert not Delivery.objects.exists()


def test_newlines_in_names_cannot_add_headers(alice_client, issued, smtp):
    issued.clinic.name = "Evil\r\nBcc: victim@evil.example"
    issued.clinic.email_subject = "Hi\r\nBcc: victim2@evil.example"
    issued.clinic.save()
    issued.patient.first_name = "Jo\nBcc: other@evil.example"
    issued.patient.save()
    post_email(alice_client, issued, message="Line one\r\nBcc: sneaky@evil.example")
    delivery = Delivery.objects.get()
    assert delivery.status == "sent", delivery.last_error
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["jordan@patient.example"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Bcc"] is None
    assert message["From"].addresses[0].display_name == "Evil Bcc: victim@evil.example"
    assert message["Subject"] == "Hi Bcc: victim2@evil.example"


def test_service_refuses_a_draft_directly(draft, alice):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.delivery_request(prescription=draft, actor=Actor(alice), request_key=uuid.uuid4())


def test_clinic_admins_see_the_clinics_email_log(client, alice, bob, charlie, issued, smtp):
    services.delivery_request(prescription=issued, actor=Actor(alice), request_key=uuid.uuid4())
    url = reverse("delivery_log")
    client.force_login(bob)
    assert client.get(url).status_code == 403
    Membership.objects.filter(user=bob).update(role="admin")
    page = client.get(url).content.decode()
    assert "Jordan Ellis" in page and "Hips and back" in page
    assert "Jordan Ellis" in client.get(url, {"status": "sent"}).content.decode()
    assert "Jordan Ellis" not in client.get(url, {"status": "failed"}).content.decode()
    Membership.objects.filter(user=charlie).update(role="admin")
    client.force_login(charlie)
    assert "Jordan Ellis" not in client.get(url).content.decode()


def test_a_request_key_from_another_clinic_reveals_nothing(issued, alice, charlie, other_clinic):
    """Clinic B posting clinic A's key learns neither that the email exists nor to whom."""
    from django.core.exceptions import ValidationError

    from tests.factories import PatientFactory, PrescriptionFactory

    key = uuid.uuid4()
    services.delivery_request(prescription=issued, actor=Actor(alice), request_key=key)
    theirs = PrescriptionFactory(
        patient=PatientFactory(clinic=other_clinic, email="b@patient.example"),
        therapist=charlie,
        status="issued",
        issued_at=timezone.now(),
    )
    with pytest.raises(ValidationError) as error:
        services.delivery_request(prescription=theirs, actor=Actor(charlie), request_key=key)
    assert issued.patient.email not in str(error.value)
    assert "expired" in str(error.value)
    assert Delivery.objects.filter(prescription=theirs).count() == 0


def test_every_attempt_of_a_delivery_carries_the_same_message_id(issued, alice, settings):
    """A repeated send (database lost after the server's 250) is one message to a
    receiving server that de-duplicates."""
    settings.DEFAULT_FROM_EMAIL = "OpenHEP <handouts@openhep.example>"
    delivery, _ = services.delivery_request(
        prescription=issued, actor=Actor(alice), request_key=uuid.uuid4()
    )
    first = tasks.build_message(delivery).extra_headers["Message-ID"]
    again = tasks.build_message(Delivery.objects.get(pk=delivery.pk)).extra_headers["Message-ID"]
    assert first == again
    assert first.startswith(f"<openhep.delivery.{delivery.pk}.") and first.endswith(
        "@openhep.example>"
    )
    other, _ = services.delivery_request(
        prescription=issued, actor=Actor(alice), request_key=uuid.uuid4()
    )
    assert tasks.build_message(other).extra_headers["Message-ID"] != first


def test_a_sent_email_is_recorded_after_a_short_database_outage(
    issued, alice, smtp, db_tasks, monkeypatch
):
    """The server accepted the message; the database comes back within the retry window:
    the delivery is recorded as sent and nothing is sent twice."""
    from django.db import OperationalError

    delivery, _ = services.delivery_request(
        prescription=issued, actor=Actor(alice), request_key=uuid.uuid4()
    )
    record, failures = tasks.record, []

    def flaky(d, **changes):
        if changes.get("status") == Delivery.Status.SENT and len(failures) < 2:
            failures.append(1)
            raise OperationalError("server closed the connection unexpectedly")
        return record(d, **changes)

    monkeypatch.setattr(tasks, "record", flaky)
    monkeypatch.setattr(tasks.time, "sleep", lambda seconds: None)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert len(smtp.envelopes) == 1 and len(failures) == 2


def test_the_worker_survives_a_database_outage(issued, alice, smtp, db_tasks, monkeypatch):
    """The stock worker exits when the database goes away; ours waits, reconnects with
    back-off and goes on to send what is queued."""
    from django.db import OperationalError
    from django_tasks_db.models import DBTaskResultQuerySet

    from openhep.management.commands import db_worker

    services.delivery_request(prescription=issued, actor=Actor(alice), request_key=uuid.uuid4())
    get_locked, outages, pauses = DBTaskResultQuerySet.get_locked, [], []

    def down_twice(self):
        if len(outages) < 2:
            outages.append(1)
            raise OperationalError("could not connect to server: Connection refused")
        return get_locked(self)

    monkeypatch.setattr(DBTaskResultQuerySet, "get_locked", down_twice)
    monkeypatch.setattr(db_worker, "pause_for", pauses.append)
    run_worker()
    assert pauses == [1, 1]  # Back-off restarts once the database answers again.
    assert Delivery.objects.get().status == Delivery.Status.SENT
    assert len(smtp.envelopes) == 1


def test_a_task_cut_off_by_an_outage_is_marked_failed_not_left_running(db_tasks):
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from openhep.management.commands.db_worker import ResilientWorker

    queued = tasks.send_delivery.enqueue(12345)
    DBTaskResult.objects.filter(pk=queued.id).update(
        status=TaskResultStatus.RUNNING, worker_ids=["w-1"]
    )
    worker = ResilientWorker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="w-1",
        excluded_queue_names=[],
    )
    assert worker.release_orphans() == 1
    row = DBTaskResult.objects.get(pk=queued.id)
    assert row.status == TaskResultStatus.FAILED
    assert "lost the database" in row.traceback
    assert worker.release_orphans() == 0  # Nothing of its own left running.


def test_a_batch_worker_gives_up_after_a_long_outage(db_tasks, monkeypatch):
    """Cron's --batch run ends with the error; only a long-running worker waits for ever."""
    from django.db import OperationalError
    from django_tasks_db.models import DBTaskResultQuerySet

    from openhep.management.commands import db_worker

    def always_down(self):
        raise OperationalError("could not connect to server: Connection refused")

    pauses = []
    monkeypatch.setattr(DBTaskResultQuerySet, "get_locked", always_down)
    monkeypatch.setattr(db_worker, "pause_for", pauses.append)
    monkeypatch.setattr(db_worker.ResilientWorker, "release_orphans", always_down)
    with pytest.raises(OperationalError):
        run_worker(due_now=False)
    assert pauses == [1, 2, 4, 8]  # Four waits, then the fifth outage ends the run.


def test_an_interrupted_email_goes_again_a_minute_after_its_lease(issued, alice, smtp, db_tasks):
    """Recovery in about a minute: a lapsed lease is requeued at once, and the scheduler
    runs requeue_deliveries every minute."""
    delivery, _ = services.delivery_request(
        prescription=issued, actor=Actor(alice), request_key=uuid.uuid4()
    )
    claimed = tasks.claim(delivery.pk)
    assert claimed.next_attempt_at - timezone.now() <= timedelta(seconds=60)
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # The worker and its task are gone.
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    # Claimed a moment ago (updated_at now): requeued anyway, its lease is what counts.
    assert services.deliveries_requeue() == 1
    run_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(smtp.envelopes) == 1


def test_a_queued_email_waiting_for_a_busy_worker_is_not_queued_twice(issued, alice, db_tasks):
    delivery, _ = services.delivery_request(
        prescription=issued, actor=Actor(alice), request_key=uuid.uuid4()
    )
    assert services.deliveries_requeue() == 0  # its task is still in the queue
    Delivery.objects.filter(pk=delivery.pk).update(updated_at=timezone.now() - timedelta(minutes=2))
    assert services.deliveries_requeue() == 1  # a minute on: its task was lost


def test_the_tasks_of_a_killed_worker_are_marked_failed(issued, alice, db_tasks, settings):
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from clinic.models import WorkerHeartbeat

    services.delivery_request(prescription=issued, actor=Actor(alice), request_key=uuid.uuid4())
    now = timezone.now()
    task = DBTaskResult.objects.get()
    long_ago = now - timedelta(seconds=settings.OPENHEP_TASK_ABANDONED_SECONDS + 60)
    DBTaskResult.objects.filter(pk=task.pk).update(
        status=TaskResultStatus.RUNNING, started_at=long_ago, worker_ids=["dead", "alive"]
    )
    WorkerHeartbeat.objects.create(
        worker_id="dead", started_at=long_ago, seen_at=long_ago + timedelta(seconds=5)
    )
    heartbeat = WorkerHeartbeat.objects.create(worker_id="alive", started_at=now, seen_at=now)
    out = io.StringIO()
    call_command("requeue_deliveries", stdout=out)
    assert "0 task(s) of stopped workers" in out.getvalue()  # one worker is alive
    heartbeat.delete()
    call_command("requeue_deliveries", stdout=out)
    assert "1 task(s) of stopped workers marked failed" in out.getvalue()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED and "no heartbeat" in task.traceback
