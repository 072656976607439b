"""Prometheus metrics at /metrics (openhep/metrics.py), behind METRICS_ENABLED and the token."""

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from clinic.audit import Actor
from openhep import metrics
from prescriptions import services
from prescriptions.models import Delivery

TOKEN = "monitor-token-0123456789abcdef"


@pytest.fixture
def scraper(settings, db):
    settings.OPENHEP_METRICS_ENABLED = True
    settings.OPENHEP_HEALTH_TOKEN = TOKEN
    return Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_HOST="10.1.2.3:8000")


def scrape(scraper) -> dict:
    """Every sample as {(name, sorted labels): value}."""
    response = scraper.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_by_default(client, db, settings):
    settings.OPENHEP_HEALTH_TOKEN = TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 404
    assert b"openhep_" not in response.content


def test_metrics_need_the_token(scraper, settings):
    assert Client().get("/metrics").status_code == 403
    wrong = Client(HTTP_AUTHORIZATION="Bearer wrong-token-wrong-token")
    assert wrong.get("/metrics").status_code == 403


def test_metrics_from_an_allowed_network(settings, db):
    settings.OPENHEP_METRICS_ENABLED = True
    settings.OPENHEP_HEALTH_ALLOWED_IPS = ["10.0.0.0/8"]
    assert Client(REMOTE_ADDR="10.9.8.7").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="198.51.100.1").get("/metrics").status_code == 403


def test_requests_are_counted_by_url_name_method_and_status(scraper, alice_client, patient):
    before = scrape(scraper)
    alice_client.get(reverse("patients:detail", args=[patient.pk]))
    alice_client.get(reverse("patients:detail", args=[patient.pk]))
    alice_client.get("/no-such-page/")
    after = scrape(scraper)
    labels = {"view": "patients:detail", "method": "GET", "status": "200"}
    assert value(after, "openhep_http_requests_total", **labels) - value(
        before, "openhep_http_requests_total", **labels
    ) == pytest.approx(2)
    unmatched = {"view": "<unmatched>", "method": "GET", "status": "404"}
    assert value(after, "openhep_http_requests_total", **unmatched) > value(
        before, "openhep_http_requests_total", **unmatched
    )
    timed = {"view": "patients:detail", "method": "GET"}
    assert value(after, "openhep_http_request_duration_seconds_count", **timed) - value(
        before, "openhep_http_request_duration_seconds_count", **timed
    ) == pytest.approx(2)
    assert value(after, "openhep_http_request_duration_seconds_sum", **timed) > value(
        before, "openhep_http_request_duration_seconds_sum", **timed
    )
    # The scrape itself is a request like any other; no label ever holds a path or an id.
    names = {dict(labels).get("view") for (_, labels) in after}
    assert "metrics" in names and not any("/" in (n or "") for n in names)


def test_handout_renders_are_timed_issued_apart_from_previews(scraper, alice_client, draft):
    before = scrape(scraper)
    alice_client.get(reverse("prescriptions:handout", args=[draft.pk]))  # A preview.
    alice_client.post(reverse("prescriptions:issue", args=[draft.pk]))
    after = scrape(scraper)
    for kind in ("issued", "preview"):
        count = "openhep_handout_render_seconds_count"
        assert value(after, count, kind=kind) - value(before, count, kind=kind) == 1, kind
        total = "openhep_handout_render_seconds_sum"
        assert value(after, total, kind=kind) > value(before, total, kind=kind)


def test_queue_figures_come_from_the_database(
    scraper, issued, db_tasks, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_request(prescription=issued, actor=Actor(alice), request_key=uuid.uuid4())
    Delivery.objects.create(
        prescription=issued, recipient=issued.patient.email, status=Delivery.Status.FAILED
    )
    samples = scrape(scraper)
    assert value(samples, "openhep_queue_up") == 1
    assert value(samples, "openhep_deliveries", status="queued") == 1
    assert value(samples, "openhep_deliveries", status="failed") == 1
    assert value(samples, "openhep_deliveries", status="sent") == 0
    assert value(samples, "openhep_deliveries_failed_last_day") == 1
    assert value(samples, "openhep_tasks_ready") == 1
    assert ("openhep_task_oldest_ready_seconds", ()) in samples
    assert ("openhep_delivery_oldest_waiting_seconds", ()) in samples
    # No worker has beaten yet: no sample rather than a made-up age.
    assert ("openhep_worker_last_seen_seconds", ()) not in samples


def test_metrics_still_answer_when_the_database_is_down(scraper):
    from unittest import mock

    from django.db import DatabaseError

    from openhep import health

    with mock.patch.object(health, "queue_status", side_effect=DatabaseError("down")):
        samples = scrape(scraper)
    assert value(samples, "openhep_queue_up") == 0


def test_without_metrics_enabled_the_middleware_costs_nothing(client, db, settings):
    from django.core.exceptions import MiddlewareNotUsed

    settings.OPENHEP_METRICS_ENABLED = False
    with pytest.raises(MiddlewareNotUsed):
        metrics.MetricsMiddleware(lambda request: None)


# Several gunicorn workers: PROMETHEUS_MULTIPROC_DIR adds up every process's counts.

WORKER = textwrap.dedent(
    """
    import django
    django.setup()
    from openhep import metrics
    for _ in range({n}):
        metrics.REQUESTS.labels("patients:list", "GET", "200").inc()
    metrics.HANDOUT_SECONDS.labels("issued").observe(0.2)
    """
)
SCRAPER = textwrap.dedent(
    """
    import django
    django.setup()
    from openhep import metrics
    body, _ = metrics.exposition(None)
    print(body.decode())
    """
)


def run(script: str, env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_multiprocess_mode_adds_up_every_workers_counts(tmp_path):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "DJANGO_SETTINGS_MODULE": "openhep.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    run(WORKER.format(n=3), env)  # Two worker processes, one after the other here.
    run(WORKER.format(n=4), env)
    body = run(SCRAPER, env)  # A third answers the scrape.
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    labels = (("method", "GET"), ("status", "200"), ("view", "patients:list"))
    assert samples[("openhep_http_requests_total", labels)] == 7
    assert samples[("openhep_handout_render_seconds_count", (("kind", "issued"),))] == 2
    assert samples[("openhep_queue_up", ())] == 0


def test_the_gunicorn_hook_clears_only_the_metrics_files(tmp_path, monkeypatch):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old")
    (folder / "keep.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    metrics.on_starting(server=None)
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]


def test_gunicorns_configuration_can_import_the_hooks_without_django(tmp_path):
    """gunicorn reads its configuration before Django is set up."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    run("from openhep.metrics import child_exit, on_starting", env)


def test_a_count_that_cannot_be_written_never_fails_the_work(tmp_path):
    """PROMETHEUS_MULTIPROC_DIR set but missing: the handout is still drawn, the
    request still answered; the lost count is logged."""
    script = textwrap.dedent(
        """
        import django
        django.setup()
        from openhep import metrics
        metrics.handout_rendered(None, draft=False, seconds=0.1)
        answered = types.SimpleNamespace(status_code=200)
        middleware = metrics.MetricsMiddleware(lambda request: answered)
        request = types.SimpleNamespace(method="GET", resolver_match=None)
        assert middleware(request).status_code == 200
        print("answered")
        """
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "DJANGO_SETTINGS_MODULE": "openhep.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "METRICS_ENABLED": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "missing"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    result = subprocess.run(
        [sys.executable, "-c", "import types\n" + script],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "answered" in result.stdout
    assert result.stderr.count("Metrics not counted") == 2
