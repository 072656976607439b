"""Issuing returns at once; the handout is drawn by a task from the stored snapshot.

With the immediate backend (``make run``, the suite's default) the task runs inside
the issue and the handout comes back ready. With the database backend (``db_tasks``)
the issue returns while the handout is preparing, and the pieces are run here by hand
or by ``db_worker --batch``.
"""

import hashlib
import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clinic.audit import Actor
from clinic.models import AuditEntry
from prescriptions import handouts, links, services, tasks
from prescriptions.models import Delivery, Handout, Prescription, ProgramLink
from tests.helpers import pdf_text


def queued(task) -> int:
    """How many runs of ``task`` wait in the database queue."""
    return DBTaskResult.objects.filter(task_path=task.module_path, status="READY").count()


def drawn_directly(handout: Handout) -> bytes:
    """What a synchronous render of the stored snapshot gives, for comparison."""
    token = links.token_of(ProgramLink.objects.get(prescription=handout.prescription))
    return handouts.render_pdf(handout.snapshot, draft=False, program_url=links.page_url(token))


def due_now(handout: Handout) -> None:
    """As if a retry's wait had passed."""
    Handout.objects.filter(pk=handout.pk).update(next_attempt_at=timezone.now())


@pytest.fixture
def failing_render(monkeypatch):
    """``failing_render(n)``: the next ``n`` drawings fail, later ones succeed."""
    render = handouts.render_pdf
    state = {"failures": 0, "calls": 0}

    def flaky(*args, **kwargs):
        state["calls"] += 1
        if state["failures"] > 0:
            state["failures"] -= 1
            raise RuntimeError("Pango is out of memory for Jordan Ellis")
        return render(*args, **kwargs)

    monkeypatch.setattr(handouts, "render_pdf", flaky)

    def arm(failures: int) -> dict:
        state["failures"] = failures
        return state

    return arm


# The immediate backend: issuing draws the handout before it returns.


def test_issuing_with_the_immediate_backend_returns_a_ready_handout(draft, alice):
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    assert handout.status == Handout.Status.READY and handout.ready_at is not None
    stored = handout.pdf.read()
    assert hashlib.sha256(stored).hexdigest() == handout.sha256 and len(stored) == handout.size
    # The same bytes as drawing the stored snapshot directly, real page address included.
    assert stored == drawn_directly(handout)
    assert "Hips and back" in pdf_text(stored)


def test_the_printed_page_address_is_real_and_never_stored(draft, alice):
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    link = ProgramLink.objects.get(prescription=draft)
    assert handout.program_link == link
    token = links.token_of(link)
    assert token and links.hash_token(token) == link.token_hash
    stored = json.dumps(handout.snapshot)
    assert token not in stored and "/p/" not in stored
    # Printed under the QR code, in groups (handouts.printable_link).
    assert "/p/" in pdf_text(handout.pdf.read())


# The database backend: the issue returns while the handout is drawn elsewhere.


# The worker runs as in production: real commits (it closes its connection).
@pytest.mark.django_db(transaction=True)
def test_issue_returns_at_once_with_everything_frozen_but_the_pdf(draft, alice, db_tasks):
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    draft.refresh_from_db()
    assert draft.status == Prescription.Status.ISSUED and draft.issued_at is not None
    assert handout.status == Handout.Status.PREPARING
    assert not handout.pdf and handout.sha256 == "" and handout.size == 0
    assert [item["name"] for item in handout.snapshot["items"]] == [
        "Standing psoas stretch",
        "Standing quadriceps stretch",
        "Glute bridge",
    ]
    assert ProgramLink.objects.get(prescription=draft) == handout.program_link
    assert AuditEntry.objects.filter(target=f"prescription {draft.pk}", detail="Issued").exists()
    assert queued(tasks.render_handout) == 1

    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    handout.refresh_from_db()
    assert handout.status == Handout.Status.READY and handout.attempts == 1
    assert handout.pdf.read() == drawn_directly(handout)


@pytest.mark.django_db(transaction=True)
def test_the_handout_is_drawn_outside_any_transaction(draft, alice, db_tasks, monkeypatch):
    """The issue's transaction is short, and the task holds none while it draws: on
    SQLite a write lock would stop the whole clinic."""
    from django.db import connection

    seen = []
    render = handouts.render_pdf

    def watching(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return render(*args, **kwargs)

    monkeypatch.setattr(handouts, "render_pdf", watching)
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    assert seen == []  # Not in the request.
    tasks.render_handout.call(handout.pk)
    assert seen == [False]


def test_a_superseded_version_still_prints_its_own_link(issued, alice, db_tasks):
    """The link moves on to the new version at once; a handout still being drawn prints
    the link it was issued with (kept on the handout, not looked up by prescription)."""
    first_link = ProgramLink.objects.get(prescription=issued)
    draft = services.prescription_new_version(prescription=issued, actor=Actor(alice))
    second = services.prescription_issue(prescription=draft, actor=Actor(alice))
    assert ProgramLink.objects.get(prescription=draft) == first_link
    tasks.render_handout.call(second.pk)
    second.refresh_from_db()
    token = links.token_of(first_link)
    assert second.pdf.read() == handouts.render_pdf(
        second.snapshot, draft=False, program_url=links.page_url(token)
    )


def test_download_while_preparing_is_a_self_reloading_page_not_a_file(
    alice_client, draft, alice, db_tasks
):
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    url = reverse("prescriptions:handout", args=[draft.pk])
    prints = AuditEntry.objects.filter(action=AuditEntry.Action.PRINT)
    response = alice_client.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "2" and response["Refresh"] == "2"
    assert response["Content-Type"].startswith("text/html")
    assert "still being prepared" in response.content.decode()
    assert not prints.exists()  # Nothing was printed.

    tasks.render_handout.call(handout.pk)
    response = alice_client.get(url)
    assert response.status_code == 200
    handout.refresh_from_db()
    assert b"".join(response.streaming_content) == handout.pdf.read()
    assert prints.count() == 1


def test_the_page_shows_preparing_and_its_poll_turns_ready(alice_client, draft, alice, db_tasks):
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    page = alice_client.get(reverse("prescriptions:detail", args=[draft.pk])).content.decode()
    state_url = reverse("prescriptions:handout_state", args=[draft.pk])
    assert "Preparing handout…" in page and f'hx-get="{state_url}?n=1"' in page
    assert reverse("prescriptions:handout", args=[draft.pk]) not in page

    views = AuditEntry.objects.filter(action=AuditEntry.Action.VIEW).count()
    polled = alice_client.get(state_url, {"n": "1"}).content.decode()
    assert "Preparing handout…" in polled and 'hx-trigger="load delay:500ms"' in polled
    assert f'hx-get="{state_url}?n=2"' in polled
    # After ten seconds of quick polls, a page left open asks every five seconds.
    slow = alice_client.get(state_url, {"n": "25"}).content.decode()
    assert 'hx-trigger="load delay:5s"' in slow and f'hx-get="{state_url}?n=26"' in slow
    assert alice_client.get(state_url, {"n": "x<"}).status_code == 200
    tasks.render_handout.call(handout.pk)
    polled = alice_client.get(state_url).content.decode()
    assert "Handout PDF" in polled and "hx-get" not in polled
    assert reverse("prescriptions:handout", args=[draft.pk]) in polled
    # Polling records nothing: the page itself was the view.
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VIEW).count() == views


def test_the_patient_page_opens_while_the_handout_is_drawn(client, draft, alice, db_tasks):
    services.prescription_issue(prescription=draft, actor=Actor(alice))
    token = links.token_of(ProgramLink.objects.get(prescription=draft))
    response = client.get(f"/p/{token}/")
    assert response.status_code == 200
    assert "Standing psoas stretch" in response.content.decode()


# Failures: retried a bounded number of times, then shown with "Try again".


def test_a_failed_drawing_is_retried_and_then_succeeds(draft, alice, db_tasks, failing_render):
    state = failing_render(1)
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    assert tasks.render_handout.call(handout.pk) == Handout.Status.PREPARING
    handout.refresh_from_db()
    assert handout.attempts == 1 and not handout.pdf
    assert "could not be drawn (RuntimeError)" in handout.last_error
    assert "Jordan" not in handout.last_error  # The exception's text may name the patient.
    assert handout.next_attempt_at > timezone.now() + timedelta(seconds=5)
    retry = DBTaskResult.objects.filter(task_path=tasks.render_handout.module_path).latest(
        "enqueued_at"
    )
    assert retry.run_after is not None and retry.run_after > timezone.now()
    # Not due yet: a task run early draws nothing.
    assert tasks.render_handout.call(handout.pk) == "skipped"
    due_now(handout)
    assert tasks.render_handout.call(handout.pk) == Handout.Status.READY
    handout.refresh_from_db()
    assert handout.attempts == 2 and handout.last_error == "" and state["calls"] == 2
    assert handout.pdf.read() == drawn_directly(handout)


def test_after_three_failures_staff_see_it_and_try_again(
    alice_client, draft, alice, db_tasks, failing_render
):
    failing_render(3)
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    for _ in range(tasks.RENDER_ATTEMPTS - 1):
        assert tasks.render_handout.call(handout.pk) == Handout.Status.PREPARING
        due_now(handout)
    assert tasks.render_handout.call(handout.pk) == Handout.Status.FAILED
    handout.refresh_from_db()
    assert handout.status == Handout.Status.FAILED and handout.next_attempt_at is None
    # Not queued again by the scheduler: it needs a person.
    assert services.handouts_requeue() == 0

    page = alice_client.get(draft.get_absolute_url()).content.decode()
    assert "could not be drawn (RuntimeError)" in page and "Try again" in page
    assert "hx-get" not in page  # No polling of a failed handout.
    download = alice_client.get(reverse("prescriptions:handout", args=[draft.pk]))
    assert download.status_code == 409 and "could not be made" in download.content.decode()

    retry_url = reverse("prescriptions:handout_retry", args=[draft.pk])
    response = alice_client.post(retry_url, follow=True)
    assert "being prepared again" in response.content.decode()
    handout.refresh_from_db()
    assert (handout.status, handout.attempts, handout.last_error) == ("preparing", 0, "")
    entry = AuditEntry.objects.get(detail="Handout drawn again (Try again)")
    assert entry.actor_email == alice.email and entry.patient_ref == draft.patient_id
    assert tasks.render_handout.call(handout.pk) == Handout.Status.READY
    # Pressed again (a second tab): nothing to do, nothing audited.
    response = alice_client.post(retry_url, follow=True)
    assert "nothing to try again" in response.content.decode()
    assert AuditEntry.objects.filter(detail="Handout drawn again (Try again)").count() == 1


def test_without_a_worker_a_failure_is_shown_at_once_and_try_again_draws_it(
    alice_client, draft, alice, failing_render
):
    """The immediate backend cannot wait to retry: the first failure offers the button,
    and the button draws it in the request."""
    failing_render(1)
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    assert handout.status == Handout.Status.FAILED
    assert "Press Try again" in handout.last_error
    response = alice_client.post(
        reverse("prescriptions:handout_retry", args=[draft.pk]), follow=True
    )
    assert "The handout is ready to print or email." in response.content.decode()
    handout.refresh_from_db()
    assert handout.status == Handout.Status.READY


# Emails wait for the file.


@pytest.fixture
def smtp_server(settings):
    from openhep.mailers import mailer_from_url
    from tests.prescriptions.test_email import SMTPServer

    server = SMTPServer()
    settings.MAILERS = {"default": mailer_from_url(f"smtp://127.0.0.1:{server.port}/", timeout=5)}
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_an_email_waits_for_the_handout_then_goes_once(
    alice_client, draft, alice, db_tasks, smtp_server
):
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    response = alice_client.post(
        reverse("prescriptions:email", args=[draft.pk]),
        {"request_key": str(uuid.uuid4())},
        follow=True,
    )
    assert "still being prepared" in response.content.decode()
    delivery = Delivery.objects.get()
    # The email's task runs first: it leaves the email queued, not failed.
    assert tasks.send_delivery.call(delivery.pk) == "skipped"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("queued", 0)
    Delivery.objects.update(updated_at=timezone.now() - timedelta(minutes=5))
    assert services.deliveries_requeue() == 0  # Waiting for the handout is not stuck.
    page = alice_client.get(draft.get_absolute_url()).content.decode()
    assert "Goes as soon as the handout is ready." in page
    assert smtp_server.recorder.envelopes == []

    DBTaskResult.objects.all().delete()
    assert tasks.render_handout.call(handout.pk) == Handout.Status.READY
    assert queued(tasks.send_delivery) == 1  # Drawing it queued the email.
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    [message] = smtp_server.messages
    [attachment] = message.iter_attachments()
    handout.refresh_from_db()
    assert attachment.get_content() == handout.pdf.read()
    assert len(smtp_server.recorder.envelopes) == 1


# Recovery and concurrency.


# The worker runs as in production: real commits (it closes its connection).
@pytest.mark.django_db(transaction=True)
def test_a_handout_left_by_a_dead_worker_is_queued_again(draft, alice, db_tasks):
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    assert tasks.claim_handout(handout.pk) is not None  # A worker took it, then died.
    DBTaskResult.objects.all().delete()
    assert services.handouts_requeue() == 0  # Its lease has not run out.
    Handout.objects.filter(pk=handout.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    call_command("requeue_deliveries", verbosity=0)
    assert queued(tasks.render_handout) == 1
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    handout.refresh_from_db()
    assert (handout.status, handout.attempts) == ("ready", 2)


def test_an_issue_whose_task_cannot_be_queued_is_still_issued(draft, alice, monkeypatch):
    """The database went away between the issue's commit and queueing its drawing: the
    therapist sees the program issued and preparing, not an error; requeue draws it."""
    from django.db import OperationalError

    class Unqueueable:
        def enqueue(self, *args):
            raise OperationalError("server closed the connection")

    real = tasks.render_handout
    monkeypatch.setattr(tasks, "render_handout", Unqueueable())
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    assert handout.status == Handout.Status.PREPARING
    draft.refresh_from_db()
    assert draft.status == Prescription.Status.ISSUED
    monkeypatch.setattr(tasks, "render_handout", real)
    Handout.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=2))
    assert services.handouts_requeue() == 1  # The immediate backend draws it here.
    handout.refresh_from_db()
    assert handout.status == Handout.Status.READY


def test_a_lost_task_is_queued_again_after_a_minute_not_before(draft, alice, db_tasks):
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    DBTaskResult.objects.all().delete()  # Enqueued, then lost.
    assert services.handouts_requeue() == 0  # Its task may still wait in a busy queue.
    Handout.objects.filter(pk=handout.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=2)
    )
    assert services.handouts_requeue() == 1
    assert tasks.render_handout.call(handout.pk) == Handout.Status.READY
    assert services.handouts_requeue() == 0


def test_one_handout_is_never_drawn_twice_at_once(draft, alice, db_tasks, monkeypatch):
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    calls = []
    render = handouts.render_pdf

    def counting(*args, **kwargs):
        calls.append(1)
        # A second worker gets the same task while this one draws.
        assert tasks.render_handout.call(handout.pk) == "skipped"
        return render(*args, **kwargs)

    monkeypatch.setattr(handouts, "render_pdf", counting)
    assert tasks.render_handout.call(handout.pk) == Handout.Status.READY
    assert len(calls) == 1
    assert tasks.render_handout.call(handout.pk) == "skipped"  # Drawn: nothing to do.


@pytest.mark.django_db(transaction=True)
def test_racing_workers_draw_one_handout_once(draft, alice, db_tasks, monkeypatch):
    import threading

    from django.db import connection

    from tests.prescriptions.test_issue import stored_handouts

    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    calls = []
    render = handouts.render_pdf

    def counting(*args, **kwargs):
        calls.append(1)
        return render(*args, **kwargs)

    monkeypatch.setattr(handouts, "render_pdf", counting)
    if connection.vendor != "postgresql":
        # SQLite has no row locks: its database-wide write lock serialises the claims.
        results = [tasks.render_handout.call(handout.pk) for _ in range(3)]
    else:
        start, results = threading.Barrier(3), []

        def worker():
            start.wait()
            try:
                results.append(tasks.render_handout.call(handout.pk))
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(results) == ["ready", "skipped", "skipped"] and len(calls) == 1
    assert len(stored_handouts(Handout._meta.get_field("pdf").storage)) == 1


def test_a_worker_whose_lease_ran_out_does_not_overwrite_the_new_claim(draft, alice, db_tasks):
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    slow = tasks.claim_handout(handout.pk)
    Handout.objects.filter(pk=handout.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    fresh = tasks.claim_handout(handout.pk)
    assert fresh is not None and fresh.attempts == 2
    assert not tasks.record_handout(slow, status=Handout.Status.FAILED, last_error="late")
    assert tasks.record_handout(fresh, status=Handout.Status.PREPARING)


def test_a_ready_handout_must_have_its_file(issued):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Handout.objects.filter(pk=issued.handout.pk).update(pdf="")


# Everything else that reads the file copes with one not drawn yet.


def test_a_patient_export_made_while_drawing_says_so(
    clinic_admin_client, patient, draft, alice, db_tasks
):
    import io
    import zipfile

    services.prescription_issue(prescription=draft, actor=Actor(alice))
    response = clinic_admin_client.post(reverse("patients:export", args=[patient.pk]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    [rx] = json.loads(archive.read("patient.json"))["prescriptions"]
    assert rx["handout"]["file"] is None and rx["handout"]["status"] == "preparing"
    assert f"handouts/prescription-{draft.pk}.pdf" in archive.read("NOT-READY.txt").decode()
    assert not [name for name in archive.namelist() if name.endswith(".pdf")]


def test_erasing_a_patient_while_the_handout_is_drawn_keeps_no_file(
    clinic_admin, patient, draft, alice, db_tasks, monkeypatch
):
    from records.services import patient_erase
    from tests.prescriptions.test_issue import stored_handouts

    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    render = handouts.render_pdf

    def erased_meanwhile(*args, **kwargs):
        patient_erase(patient=patient, actor=Actor(clinic_admin))
        return render(*args, **kwargs)

    monkeypatch.setattr(handouts, "render_pdf", erased_meanwhile)
    assert tasks.render_handout.call(handout.pk) == "skipped"
    assert not Handout.objects.exists()
    assert stored_handouts(Handout._meta.get_field("pdf").storage) == []
