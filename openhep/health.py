"""The installation's health, for load balancers, orchestrators and monitors.

- ``/healthz``, liveness: the process answers. It asks nothing of the database, so
  a database outage does not get every web process restarted.
- ``/readyz``, readiness: the database answers, every migration is applied, and the
  file storages take a write, a read and a delete. 503 names what failed.
- ``/healthz/queue``: the background worker's heartbeat, the queue of tasks and the
  handout emails waiting or failed; 503 past the limits in settings. Counts and ages
  only, behind ``HEALTH_TOKEN`` (or ``HEALTH_ALLOWED_IPS``).
- ``/metrics``: Prometheus, with ``METRICS_ENABLED``, behind the same token.

Probes come with whatever Host they were given (a pod's address, ``localhost``), so
``ProbeMiddleware`` answers these four paths before anything checks the Host against
ALLOWED_HOSTS. That is safe because no answer here is built from the Host: no
redirect, no absolute URL, no page. All four are exempt from the HTTPS redirect.
"""

import hmac
import ipaddress
import logging
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Max, Min
from django.db.models.functions import Coalesce
from django.http import HttpResponse, JsonResponse
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django.urls import resolve
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from clinic.access import client_ip
from clinic.models import WorkerHeartbeat
from openhep import metrics as openhep_metrics
from prescriptions.models import Delivery, Handout
from prescriptions.tasks import claimable

logger = logging.getLogger(__name__)

PROBE_PATHS = frozenset({"/healthz", "/readyz", "/healthz/queue", "/metrics"})
# The storages a readiness probe writes to: private files (handouts) and public ones.
CHECKED_STORAGES = ("default", "public")
# A storage that passed is trusted this long: on object storage each check is three
# requests, and probes come every few seconds from every web process.
STORAGE_OK_FOR = 60.0


class ProbeMiddleware:
    """Answers GET and HEAD of the monitoring URLs before host validation (see above).

    Placed right after SecurityMiddleware, whose HTTPS redirect skips these paths
    (``SECURE_REDIRECT_EXEMPT``), so the answers still carry its headers. The views
    are the ones in the URLconf; nothing after this middleware runs for them (no
    session, no user)."""

    def __init__(self, get_response):
        self.get_response = get_response
        allowed_networks()  # A mistyped HEALTH_ALLOWED_IPS stops start-up.

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and request.path_info in PROBE_PATHS:
            match = resolve(request.path_info)
            request.resolver_match = match
            return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)


def answer(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    # Django would log every 4xx/5xx of a probe (each few seconds while something is
    # down), and its 5xx to ADMINS: each check logs its own reason instead.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def forbidden() -> JsonResponse:
    response = answer({"status": "forbidden"}, status=403)
    response["WWW-Authenticate"] = "Bearer"
    return response


@never_cache
@require_safe
def healthz(request):
    """Liveness: this process is up and serving requests."""
    return answer({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    """Readiness: ready for traffic. 503 with the failed checks named; the reasons go
    to the log, never into the answer (they may name hosts, buckets or users)."""
    checks = {"database": check_database()}
    checks["migrations"] = check_migrations() if checks["database"] == "ok" else "skipped"
    checks["storage"] = check_storage()
    ready = all(value == "ok" for value in checks.values())
    return answer(
        {"status": "ok" if ready else "error", "checks": checks}, status=200 if ready else 503
    )


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.warning("Readiness: database unreachable (%s: %s)", type(error).__name__, error)
        return "error"
    return "ok"


# Once every migration of this code is applied, it stays so for the life of the process
# (a new release is a new process), so the migration graph is read once.
_migrations_applied = False


def check_migrations() -> str:
    global _migrations_applied
    if _migrations_applied:
        return "ok"
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        logger.warning("Readiness: migrations unreadable (%s: %s)", type(error).__name__, error)
        return "error"
    if plan:
        logger.warning("Readiness: %s migration(s) not applied: run manage.py migrate", len(plan))
        return "pending"
    _migrations_applied = True
    return "ok"


_storage_ok_until = 0.0


def check_storage() -> str:
    """Write, read back and delete a tiny file under ``healthcheck/`` in each storage."""
    global _storage_ok_until
    if time.monotonic() < _storage_ok_until:
        return "ok"
    for alias in CHECKED_STORAGES:
        if alias not in settings.STORAGES:
            continue
        storage = storages[alias]
        try:
            name = storage.save(f"healthcheck/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
            try:
                with storage.open(name, "rb") as probe:
                    readable = probe.read() == b"ok"
            finally:
                storage.delete(name)
        except Exception as error:  # Each backend fails in its own way (OSError, boto…).
            logger.warning(
                "Readiness: storage %r failed (%s: %s)", alias, type(error).__name__, error
            )
            return "error"
        if not readable:
            logger.warning("Readiness: storage %r gave back other bytes", alias)
            return "error"
    _storage_ok_until = time.monotonic() + STORAGE_OK_FOR
    return "ok"


def monitor_allowed(request) -> bool:
    """The queue and the metrics are for the operator's monitor: the bearer token in
    ``HEALTH_TOKEN``, or a client address in ``HEALTH_ALLOWED_IPS``."""
    token = settings.OPENHEP_HEALTH_TOKEN
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    given_token = given.strip() if scheme.lower() == "bearer" else ""
    if token and given_token and hmac.compare_digest(given_token.encode(), token.encode()):
        return True
    networks = allowed_networks()
    address = client_ip(request) if networks else None
    if address:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)
    return False


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in settings.OPENHEP_HEALTH_ALLOWED_IPS:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"HEALTH_ALLOWED_IPS: {entry!r} is not an IP address or network."
            ) from None
    return networks


@dataclass
class QueueStatus:
    """The background work, in counts and ages (seconds): no names, no addresses."""

    # Only with the database task backend is there a worker to watch.
    worker_required: bool
    worker_last_seen_seconds: float | None = None
    tasks_ready: int | None = None
    oldest_task_seconds: float | None = None
    deliveries: dict[str, int] = field(default_factory=dict)
    deliveries_failed_last_day: int = 0
    # The delivery that has waited longest to be (re)sent, lost tasks and lapsed
    # claims included: what `requeue_deliveries` and the worker should be moving.
    oldest_delivery_seconds: float | None = None
    # Issued handouts still to draw, the longest wait since its issue, and those whose
    # drawing failed (they wait for staff to press "Try again").
    handouts_waiting: int = 0
    oldest_handout_seconds: float | None = None
    handouts_failed: int = 0

    def failing(self) -> list[str]:
        failing = []
        if self.worker_required and (
            self.worker_last_seen_seconds is None
            or self.worker_last_seen_seconds > settings.OPENHEP_HEALTH_WORKER_MAX_AGE
        ):
            failing.append("worker")
        limit = settings.OPENHEP_HEALTH_QUEUE_MAX_AGE
        if (self.oldest_task_seconds or 0) > limit:
            failing.append("tasks")
        if (self.oldest_delivery_seconds or 0) > limit:
            failing.append("deliveries")
        if (self.oldest_handout_seconds or 0) > limit:
            failing.append("handouts")
        if self.deliveries_failed_last_day > settings.OPENHEP_HEALTH_FAILED_DELIVERIES_MAX:
            failing.append("failed_deliveries")
        return failing


def seconds_since(moment, now) -> float | None:
    return None if moment is None else round(max((now - moment).total_seconds(), 0.0), 1)


def queue_status() -> QueueStatus:
    now = timezone.now()
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    status = QueueStatus(worker_required=isinstance(backend, DatabaseBackend))
    if status.worker_required:
        seen = WorkerHeartbeat.objects.aggregate(last=Max("seen_at"))["last"]
        status.worker_last_seen_seconds = seconds_since(seen, now)
        ready = DBTaskResult.objects.ready()
        status.tasks_ready = ready.count()
        never_deferred = get_date_max()
        oldest = [
            ready.filter(run_after=never_deferred).aggregate(at=Min("enqueued_at"))["at"],
            ready.exclude(run_after=never_deferred).aggregate(at=Min("run_after"))["at"],
        ]
        status.oldest_task_seconds = seconds_since(
            min((at for at in oldest if at is not None), default=None), now
        )
    rows = Delivery.objects.order_by().values("status").annotate(n=Count("pk"))
    counts = {row["status"]: row["n"] for row in rows}
    status.deliveries = {choice: counts.get(choice, 0) for choice in Delivery.Status.values}
    status.deliveries_failed_last_day = Delivery.objects.filter(
        status=Delivery.Status.FAILED, updated_at__gte=now - timedelta(days=1)
    ).count()
    waiting = Delivery.objects.filter(claimable(now)).aggregate(
        at=Min(Coalesce("next_attempt_at", "updated_at"))
    )["at"]
    status.oldest_delivery_seconds = seconds_since(waiting, now)
    not_ready = list(
        Handout.objects.filter(status__in=Handout.NOT_READY).values_list("status", "created_at")
    )
    issued = [at for state, at in not_ready if state in Handout.WAITING]
    status.handouts_waiting = len(issued)
    status.oldest_handout_seconds = seconds_since(min(issued, default=None), now)
    status.handouts_failed = len(not_ready) - len(issued)
    return status


@never_cache
@require_safe
def queue(request):
    """The worker and the email backlog, for a monitor: 503 when one is past its limit."""
    if not monitor_allowed(request):
        return forbidden()
    try:
        status = queue_status()
    except DatabaseError as error:
        logger.warning("Queue check: database unreachable (%s: %s)", type(error).__name__, error)
        return answer({"status": "error", "failing": ["database"]}, status=503)
    failing = status.failing()
    body = {"status": "error" if failing else "ok", "failing": failing, **asdict(status)}
    return answer(body, status=503 if failing else 200)


@never_cache
@require_safe
def metrics(request):
    """Prometheus' text format: this installation's counters (every web process's,
    in multiprocess mode) and the queue figures, read from the database now."""
    if not settings.OPENHEP_METRICS_ENABLED:
        return answer({"status": "not found"}, status=404)
    if not monitor_allowed(request):
        return forbidden()
    status = None
    try:
        status = queue_status()
    except DatabaseError as error:
        logger.warning("Metrics: database unreachable (%s: %s)", type(error).__name__, error)
    body, content_type = openhep_metrics.exposition(status)
    return HttpResponse(body, content_type=content_type)
