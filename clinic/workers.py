"""Background workers seen from the database: which are alive, and the tasks of those
that are not.

Each ``manage.py db_worker`` writes a heartbeat (``WorkerHeartbeat``) every 30
seconds. A worker killed outright (``kill -9``, a node lost) leaves its task rows
``RUNNING`` for ever; ``tasks_reap_abandoned`` marks them failed once none of their
workers has shown a heartbeat for ``TASK_ABANDONED_SECONDS``. The work of such a
task is not lost: the handout email's delivery, or the issued handout being drawn,
has a lease that runs out, and ``requeue_deliveries`` queues it again.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clinic.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def tasks_reap_abandoned(*, now=None) -> int:
    """Mark failed every running task none of whose workers is alive; returns how many."""
    now = now or timezone.now()
    silent_since = now - timedelta(seconds=settings.OPENHEP_TASK_ABANDONED_SECONDS)
    alive = set(
        WorkerHeartbeat.objects.filter(seen_at__gte=silent_since).values_list(
            "worker_id", flat=True
        )
    )
    running = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=silent_since
    ).only("pk", "worker_ids")
    abandoned = [task.pk for task in running if not alive.intersection(task.worker_ids)]
    if abandoned:
        DBTaskResult.objects.filter(pk__in=abandoned, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            exception_class_path="builtins.SystemExit",
            traceback="The worker running this task stopped (no heartbeat); marked failed.",
        )
        logger.warning("%s task(s) of stopped workers marked failed", len(abandoned))
    return len(abandoned)
