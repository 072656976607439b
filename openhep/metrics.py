"""Prometheus metrics (``METRICS_ENABLED``), served at ``/metrics`` (openhep/health.py).

Counted in the web processes:

- ``openhep_http_requests_total{view, method, status}`` and
  ``openhep_http_request_duration_seconds{view, method}``: ``view`` is the URL's
  name (``patients:detail``), never the path, so a label never holds an id;
- ``openhep_handout_render_seconds{kind}``: handouts drawn (``issued`` or
  ``preview``); its ``_count`` is the number of renders.

Read from the database at each scrape, so right whichever process answers:
``openhep_deliveries{status}``, ``openhep_deliveries_failed_last_day``,
``openhep_delivery_oldest_waiting_seconds``, ``openhep_tasks_ready``,
``openhep_task_oldest_ready_seconds``, ``openhep_worker_last_seen_seconds`` and
``openhep_queue_up`` (0 when the database did not answer).

Several gunicorn workers: each process counts its own requests, and a scrape
reaches one of them. Set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder that only
the app writes (a tmpfs, emptied at each start: ``on_starting`` below does it) and
every process writes its counts there; ``/metrics`` then adds them all up, so the
numbers are the installation's whatever worker answers. Without it (one process,
``runserver``) the counts are that process's.

This module imports no model and reads settings only when called: gunicorn's
configuration file may import it for the two hooks at the end.
"""

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A request no URL matched (a 404, a static file, a request refused by middleware).
UNMATCHED = "<unmatched>"

REQUESTS = Counter(
    "openhep_http_requests",
    "HTTP requests answered, by URL name, method and status code.",
    ["view", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "openhep_http_request_duration_seconds",
    "Time to answer an HTTP request (up to the response, not its streaming).",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HANDOUT_SECONDS = Histogram(
    "openhep_handout_render_seconds",
    "Time to draw a handout PDF: issued (stored for the patient) or a preview.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
)


class MetricsMiddleware:
    """Counts and times every request (in MIDDLEWARE right after the request id)."""

    def __init__(self, get_response):
        from django.conf import settings
        from django.core.exceptions import MiddlewareNotUsed

        if not settings.OPENHEP_METRICS_ENABLED:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else UNMATCHED
        method = request.method if request.method in METHODS else "other"
        with counting():
            REQUESTS.labels(view, method, str(response.status_code)).inc()
            REQUEST_SECONDS.labels(view, method).observe(seconds)
        return response


def handout_rendered(sender, *, draft: bool, seconds: float, **kwargs) -> None:
    """Receiver of ``prescriptions.handouts.handout_rendered``."""
    from django.conf import settings

    if settings.OPENHEP_METRICS_ENABLED:
        with counting():
            HANDOUT_SECONDS.labels("preview" if draft else "issued").observe(seconds)


@contextmanager
def counting() -> Iterator[None]:
    """A count that cannot be written (PROMETHEUS_MULTIPROC_DIR missing or full) is
    lost and logged; the request or the handout goes on."""
    try:
        yield
    except OSError as error:
        logger.warning("Metrics not counted (%s: %s)", type(error).__name__, error)


def queue_families(status) -> list[GaugeMetricFamily]:
    """The queue figures as gauges; ``status`` is a ``health.QueueStatus`` or None when
    the database did not answer."""
    up = GaugeMetricFamily("openhep_queue_up", "1 if the queue figures could be read.")
    up.add_metric([], 0 if status is None else 1)
    families = [up]
    if status is None:
        return families
    deliveries = GaugeMetricFamily(
        "openhep_deliveries", "Handout emails by status (all time).", labels=["status"]
    )
    for name, count in status.deliveries.items():
        deliveries.add_metric([name], count)
    families.append(deliveries)
    families.append(
        GaugeMetricFamily(
            "openhep_deliveries_failed_last_day",
            "Handout emails that failed in the last 24 hours.",
            value=status.deliveries_failed_last_day,
        )
    )
    for name, documentation, value in (
        ("openhep_handouts_waiting", "Issued handouts still to draw.", status.handouts_waiting),
        (
            "openhep_handouts_failed",
            "Issued handouts whose drawing failed (waiting for Try again).",
            status.handouts_failed,
        ),
    ):
        families.append(GaugeMetricFamily(name, documentation, value=value))
    optional = [
        (
            "openhep_handout_oldest_waiting_seconds",
            "How long the issued handout waiting longest to be drawn has waited.",
            status.oldest_handout_seconds,
        ),
        (
            "openhep_delivery_oldest_waiting_seconds",
            "How long the handout email waiting longest to be sent has waited.",
            status.oldest_delivery_seconds,
        ),
        (
            "openhep_tasks_ready",
            "Background tasks waiting for the worker.",
            status.tasks_ready,
        ),
        (
            "openhep_task_oldest_ready_seconds",
            "How long the task waiting longest for the worker has waited.",
            status.oldest_task_seconds,
        ),
        (
            "openhep_worker_last_seen_seconds",
            "Seconds since a background worker last wrote its heartbeat.",
            status.worker_last_seen_seconds,
        ),
    ]
    for name, documentation, value in optional:
        if value is not None:  # No value (no worker, nothing waiting): no sample.
            families.append(GaugeMetricFamily(name, documentation, value=value))
    return families


class _Families:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def exposition(status) -> tuple[bytes, str]:
    """The body and content type of ``/metrics``."""
    if os.environ.get(MULTIPROC_ENV):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    read_now = CollectorRegistry(auto_describe=False)
    read_now.register(_Families(queue_families(status)))
    # The classic text format, which every Prometheus reads (our names need nothing newer).
    return generate_latest(counted) + generate_latest(read_now), CONTENT_TYPE_PLAIN_0_0_4


# gunicorn hooks, for multiprocess mode. In gunicorn's configuration file:
#     from openhep.metrics import child_exit, on_starting  # noqa: F401


def on_starting(server) -> None:
    """Clear PROMETHEUS_MULTIPROC_DIR before the workers start: counts left by an
    earlier run would be added to this one's. Only prometheus_client's own files
    (``*.db``) are removed, whatever else the folder holds."""
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        for entry in path.glob("*.db"):
            entry.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    """A worker ended: its counts stay in the totals (they are counters); the hook lets
    prometheus_client drop what belonged to the live process only."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(worker.pid)
