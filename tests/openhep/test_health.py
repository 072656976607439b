"""Liveness, readiness and the queue check a monitor polls (openhep/health.py)."""

import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone

from clinic.audit import Actor
from clinic.models import WorkerHeartbeat
from openhep import health
from openhep.management.commands import db_worker
from prescriptions import services, tasks
from prescriptions.models import Delivery, Handout

PROBE_HOST = "10.1.2.3:8000"  # A pod's address: not in ALLOWED_HOSTS.
TOKEN = "monitor-token-0123456789abcdef"


@pytest.fixture(autouse=True)
def _fresh_checks(monkeypatch):
    """Each test checks again: nothing trusted from an earlier test's storage or graph."""
    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(health, "_storage_ok_until", 0.0)


@pytest.fixture
def monitor(settings):
    settings.OPENHEP_HEALTH_TOKEN = TOKEN
    return Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


# Liveness.


def test_healthz_answers_without_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_stays_up_when_the_database_is_down(client, db):
    """Liveness must not fail with the database: that would restart every web process."""
    with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.cursor") as cursor:
        cursor.side_effect = DatabaseError("down")
        response = client.get("/healthz")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_any_host(client, db, path):
    response = client.get(path, HTTP_HOST=PROBE_HOST)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ok"


def test_other_pages_still_refuse_an_unknown_host(client, db):
    assert client.get("/accounts/login/", HTTP_HOST=PROBE_HOST).status_code == 400
    # Only the exact paths, only GET and HEAD, are answered before the host check.
    assert client.get("/healthz/", HTTP_HOST=PROBE_HOST).status_code == 400
    assert client.post("/readyz", HTTP_HOST=PROBE_HOST).status_code == 400


def test_a_post_is_refused(client, db):
    assert client.post("/readyz").status_code == 405


def test_head_is_answered(client, db):
    assert client.head("/healthz", HTTP_HOST=PROBE_HOST).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/healthz/queue", "/metrics"])
def test_monitoring_urls_are_not_redirected_to_https(db, settings, path):
    settings.SECURE_SSL_REDIRECT = True
    settings.OPENHEP_METRICS_ENABLED = True
    settings.OPENHEP_HEALTH_TOKEN = TOKEN
    client = Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert client.get("/accounts/login/").status_code == 301
    response = client.get(path, HTTP_HOST=PROBE_HOST)
    assert response.status_code == 200, response.content
    # SecurityMiddleware still ran: its headers are there.
    assert response["X-Content-Type-Options"] == "nosniff"


# Readiness.


def test_readyz_reports_each_check(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "storage": "ok"},
    }


def test_readyz_leaves_no_probe_file_behind(client, db, settings):
    client.get("/readyz")
    folder = settings.MEDIA_ROOT / "healthcheck"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_readyz_is_503_when_the_database_is_down(client, db):
    secret = "password authentication failed for user openhep-secret-user"
    with mock.patch.object(health.connection, "cursor", side_effect=DatabaseError(secret)):
        response = client.get("/readyz", HTTP_HOST=PROBE_HOST)
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "checks": {"database": "error", "migrations": "skipped", "storage": "ok"},
    }
    assert b"openhep-secret-user" not in response.content


def test_readyz_is_503_while_migrations_are_pending(client, db):
    with mock.patch.object(
        health.MigrationExecutor, "migration_plan", return_value=[("clinic", "0099_next")]
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "pending"
    # Applied since: ready, and the graph is not read again.
    assert client.get("/readyz").status_code == 200
    with mock.patch.object(health, "MigrationExecutor", side_effect=AssertionError("read again")):
        assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_storage_refuses_writes(client, db):
    from django.core.files.storage import FileSystemStorage

    refusal = PermissionError("Access Denied for bucket openhep-secret-bucket")
    with mock.patch.object(FileSystemStorage, "save", side_effect=refusal):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "storage": "error",
    }
    assert b"openhep-secret-bucket" not in response.content


def test_readyz_is_503_when_storage_gives_back_other_bytes(client, db):
    from django.core.files.base import ContentFile
    from django.core.files.storage import FileSystemStorage

    with mock.patch.object(FileSystemStorage, "open", return_value=ContentFile(b"??")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "error"


def test_a_passed_storage_check_is_trusted_for_a_minute(client, db):
    from django.core.files.storage import FileSystemStorage

    assert client.get("/readyz").status_code == 200
    with mock.patch.object(FileSystemStorage, "save", side_effect=AssertionError("probed")):
        assert client.get("/readyz").status_code == 200


def test_failed_probes_are_not_reported_as_server_errors(client, db, caplog):
    """Each failing probe would otherwise be an ERROR (and an email to ADMINS)."""
    with mock.patch.object(health.connection, "cursor", side_effect=DatabaseError("down")):
        client.get("/readyz")
    assert not [r for r in caplog.records if r.name == "django.request"]
    assert any("database unreachable" in r.getMessage() for r in caplog.records)


# The queue check: who may read it.


def test_queue_needs_the_token(client, db, settings):
    assert client.get("/healthz/queue").status_code == 403  # No token configured.
    settings.OPENHEP_HEALTH_TOKEN = TOKEN
    assert client.get("/healthz/queue").status_code == 403
    wrong = client.get("/healthz/queue", HTTP_AUTHORIZATION="Bearer not-the-token-at-all")
    assert wrong.status_code == 403 and wrong.json() == {"status": "forbidden"}
    ok = client.get("/healthz/queue", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_HOST=PROBE_HOST)
    assert ok.status_code == 200


def test_queue_from_an_allowed_network(client, db, settings):
    settings.OPENHEP_HEALTH_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.7"]
    assert client.get("/healthz/queue", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/healthz/queue", REMOTE_ADDR="192.0.2.7").status_code == 200
    assert client.get("/healthz/queue", REMOTE_ADDR="192.0.2.8").status_code == 403
    # Without trusted proxies (PROXY_COUNT=0) X-Forwarded-For is the client's own claim.
    forged = client.get(
        "/healthz/queue", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.1"
    )
    assert forged.status_code == 403


def test_a_mistyped_allowed_network_stops_start_up(settings):
    settings.OPENHEP_HEALTH_ALLOWED_IPS = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="HEALTH_ALLOWED_IPS"):
        health.ProbeMiddleware(lambda request: None)


# The queue check: what it reports.


def test_queue_without_a_worker_backend_checks_the_emails_only(monitor, db):
    """The immediate backend (development) sends inside the request: no worker to watch."""
    response = monitor.get("/healthz/queue")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert body["worker_required"] is False and body["worker_last_seen_seconds"] is None
    assert body["deliveries"] == {s: 0 for s in Delivery.Status.values}


def test_queue_is_503_without_a_worker_heartbeat(monitor, db_tasks, db):
    response = monitor.get("/healthz/queue")
    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]


def test_queue_ok_with_a_fresh_heartbeat_and_503_with_a_stale_one(monitor, db_tasks, db):
    db_worker.heartbeat("w-1", timezone.now())
    body = monitor.get("/healthz/queue").json()
    assert body["status"] == "ok" and body["worker_last_seen_seconds"] < 5
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=3))
    response = monitor.get("/healthz/queue")
    assert response.status_code == 503 and response.json()["failing"] == ["worker"]


def test_queue_reports_a_backlog_without_patient_data(
    monitor, issued, db_tasks, alice, django_capture_on_commit_callbacks
):
    db_worker.heartbeat("w-1", timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_request(prescription=issued, actor=Actor(alice), request_key=uuid.uuid4())
    body = monitor.get("/healthz/queue").json()
    assert body["status"] == "ok"
    assert body["tasks_ready"] == 1 and body["deliveries"]["queued"] == 1
    # Nobody sent it for a quarter of an hour: both the task and the email are late.
    from django_tasks_db.models import DBTaskResult

    late = timezone.now() - timedelta(minutes=15)
    DBTaskResult.objects.update(enqueued_at=late)
    Delivery.objects.update(updated_at=late)
    response = monitor.get("/healthz/queue")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["tasks", "deliveries"]
    assert 899 < body["oldest_task_seconds"] < 960
    assert 899 < body["oldest_delivery_seconds"] < 960
    text = response.content.decode()
    for private in ("Jordan", "Ellis", "jordan@patient.example", "alice@clinic.example"):
        assert private not in text


def test_a_deferred_task_counts_from_when_it_is_due(monitor, db_tasks, db):
    db_worker.heartbeat("w-1", timezone.now())
    tasks.send_delivery.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(1)
    body = monitor.get("/healthz/queue").json()
    assert body["tasks_ready"] == 0 and body["oldest_task_seconds"] is None
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.update(run_after=timezone.now() - timedelta(seconds=30))
    body = monitor.get("/healthz/queue").json()
    assert body["tasks_ready"] == 1 and 29 < body["oldest_task_seconds"] < 90


def test_queue_is_503_when_an_issued_handout_waits_too_long_to_be_drawn(
    monitor, draft, alice, db_tasks
):
    db_worker.heartbeat("w-1", timezone.now())
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    body = monitor.get("/healthz/queue").json()
    assert body["status"] == "ok"
    assert (body["handouts_waiting"], body["handouts_failed"]) == (1, 0)
    assert body["oldest_handout_seconds"] < 60
    # Nobody drew it for a quarter of an hour (the worker's task too is late).
    late = timezone.now() - timedelta(minutes=15)
    Handout.objects.update(created_at=late)
    response = monitor.get("/healthz/queue")
    assert response.status_code == 503 and "handouts" in response.json()["failing"]
    assert 899 < response.json()["oldest_handout_seconds"] < 960
    # One whose drawing failed waits for a person: counted, not an alarm of its own.
    Handout.objects.filter(pk=handout.pk).update(status=Handout.Status.FAILED)
    body = monitor.get("/healthz/queue").json()
    assert (body["handouts_waiting"], body["handouts_failed"]) == (0, 1)
    assert "handouts" not in body["failing"] and body["oldest_handout_seconds"] is None


def test_queue_is_503_when_many_emails_failed_today(monitor, issued, settings):
    settings.OPENHEP_HEALTH_FAILED_DELIVERIES_MAX = 2
    for _ in range(3):
        Delivery.objects.create(
            prescription=issued, recipient="x@patient.example", status=Delivery.Status.FAILED
        )
    response = monitor.get("/healthz/queue")
    assert response.status_code == 503
    assert response.json()["failing"] == ["failed_deliveries"]
    assert response.json()["deliveries_failed_last_day"] == 3
    # Yesterday's failures are the clinic's to retry, not an alarm.
    Delivery.objects.update(updated_at=timezone.now() - timedelta(days=2))
    assert monitor.get("/healthz/queue").status_code == 200


def test_queue_is_503_when_the_database_is_down(monitor, db):
    with mock.patch.object(health, "queue_status", side_effect=DatabaseError("down")):
        response = monitor.get("/healthz/queue")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "failing": ["database"]}


# The worker's heartbeat.


@pytest.mark.django_db(transaction=True)
def test_a_worker_run_writes_its_heartbeat(db_tasks):
    from django.core.management import call_command

    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0, worker_id="w-cron")
    beat = WorkerHeartbeat.objects.get(worker_id="w-cron")
    assert timezone.now() - beat.seen_at < timedelta(minutes=1)
    assert beat.process.endswith(f":{__import__('os').getpid()}")


def test_old_heartbeats_are_cleared_when_a_worker_starts(db_tasks, db, monkeypatch):
    long_ago = timezone.now() - timedelta(days=30)
    WorkerHeartbeat.objects.create(worker_id="gone", started_at=long_ago, seen_at=long_ago)
    worker = db_worker.ResilientWorker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="w-new",
        excluded_queue_names=[],
    )
    monkeypatch.setattr(db_worker.ResilientWorker, "run_resiliently", lambda self: None)
    worker.run()
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["w-new"]


def test_a_long_running_worker_beats_from_its_own_thread(monkeypatch):
    beats = []
    three = threading.Event()

    def beat(worker_id, started_at):
        beats.append(worker_id)
        if len(beats) == 3:
            three.set()

    monkeypatch.setattr(db_worker, "HEARTBEAT_EVERY", 0.01)
    monkeypatch.setattr(db_worker, "heartbeat", beat)
    thread = db_worker.Heartbeat("w-1", timezone.now())
    thread.start()
    assert three.wait(5)
    thread.stop()
    thread.join(5)
    assert not thread.is_alive() and set(beats) == {"w-1"}


def test_a_failed_beat_is_logged_once_and_the_thread_goes_on(monkeypatch, caplog):
    calls = []
    done = threading.Event()

    def beat(worker_id, started_at):
        calls.append(1)
        if len(calls) >= 4:
            done.set()
        raise DatabaseError("down")

    monkeypatch.setattr(db_worker, "HEARTBEAT_EVERY", 0.01)
    monkeypatch.setattr(db_worker, "heartbeat", beat)
    thread = db_worker.Heartbeat("w-1", timezone.now())
    thread.start()
    assert done.wait(5)
    thread.stop()
    thread.join(5)
    warnings = [r for r in caplog.records if "heartbeat not written" in r.getMessage()]
    assert len(warnings) == 1


# Settings that stop start-up.


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"HEALTH_TOKEN": "short"}, "HEALTH_TOKEN is too short"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be json or plain"),
        ({"ADMINS": "Ops without address"}, "ADMINS"),
    ],
)
def test_bad_monitoring_settings_stop_start_up(tmp_path, variables, message):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "DJANGO_SETTINGS_MODULE": "openhep.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        **variables,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr
