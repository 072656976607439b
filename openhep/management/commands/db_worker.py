"""``manage.py db_worker``: django-tasks-db's worker, kept alive across a database outage.

The stock worker exits when it loses the database, and a task it was running is
left ``RUNNING`` for ever. This one waits and reconnects with back-off (1 s, 2 s,
4 s … up to ``MAX_PAUSE``), then marks the tasks it had claimed before the outage
as failed, so the record is true. Handout e-mails lost that way are sent again by
``requeue_deliveries`` once their lease runs out (docs/email.md).

It also writes a heartbeat (``clinic.WorkerHeartbeat``) that ``/healthz/queue``
reads: at start and then every ``HEARTBEAT_EVERY`` seconds while it runs. Each task
runs under the id of the request that queued it, so its log lines carry that id.
"""

import logging
import os
import socket
import threading
import time
from datetime import timedelta

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.management.commands import db_worker as stock
from django_tasks_db.models import DBTaskResult

from clinic.models import WorkerHeartbeat
from openhep.checks import refuse_unsafe_production
from openhep.logs import request_id_bound, request_id_of_task

logger = logging.getLogger("openhep.worker")

MAX_PAUSE = 60
# A --batch run (cron, tests) gives up after this many outages in a row instead of
# waiting for ever; a long-running worker never gives up.
BATCH_OUTAGES = 5
OUTAGE = (OperationalError, InterfaceError)
# Seconds between heartbeats; HEALTH_WORKER_MAX_AGE (120 by default) allows a few misses.
HEARTBEAT_EVERY = 30
# Heartbeats of workers gone this long are removed when a worker starts.
HEARTBEAT_KEPT = timedelta(days=7)


def pause_for(seconds: float) -> None:
    time.sleep(seconds)


def heartbeat(worker_id: str, started_at) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"seen_at": now},
        create_defaults={
            "seen_at": now,
            "started_at": started_at,
            "process": f"{socket.gethostname()}:{os.getpid()}"[:255],
        },
    )


class Heartbeat(threading.Thread):
    """Writes the worker's heartbeat every ``HEARTBEAT_EVERY`` seconds, beside the main
    loop (which sleeps or runs a task). A beat that fails (the database is away) is
    logged once and tried again at the next one."""

    def __init__(self, worker_id: str, started_at):
        super().__init__(name="heartbeat", daemon=True)
        self.worker_id, self.started_at = worker_id, started_at
        self.stopping = threading.Event()

    def run(self) -> None:
        failing = False
        while not self.stopping.wait(HEARTBEAT_EVERY):
            try:
                heartbeat(self.worker_id, self.started_at)
                failing = False
            except DatabaseError as error:
                if not failing:
                    name = type(error).__name__
                    logger.warning("Worker %s: heartbeat not written (%s)", self.worker_id, name)
                failing = True
            finally:
                connections.close_all()  # This thread's own connection.

    def stop(self) -> None:
        self.stopping.set()


class ResilientWorker(stock.Worker):
    def run(self) -> None:
        started_at = timezone.now()
        try:
            WorkerHeartbeat.objects.filter(seen_at__lt=started_at - HEARTBEAT_KEPT).delete()
            heartbeat(self.worker_id, started_at)
        except OUTAGE:
            pass  # The loop below waits for the database.
        # A --batch run (cron) is short: its first beat says a worker ran. A long-running
        # worker beats on from a thread of its own.
        beating = None if self.batch else Heartbeat(self.worker_id, started_at)
        if beating is not None:
            beating.start()
        try:
            self.run_resiliently()
        finally:
            if beating is not None:
                beating.stop()

    def run_task(self, db_task_result: DBTaskResult) -> None:
        # The task's lines, the worker's included, carry the queuing request's id.
        with request_id_bound(request_id_of_task(db_task_result)):
            super().run_task(db_task_result)

    def run_resiliently(self) -> None:
        pause, outages = 1, 0
        while self.running:
            try:
                super().run()
                return  # --batch or --max-tasks: finished normally.
            except OUTAGE as error:
                outages += 1
                if not self.running or (self.batch and outages >= BATCH_OUTAGES):
                    raise
                logger.warning(
                    "Worker %s: database unreachable (%s); trying again in %s s",
                    self.worker_id,
                    type(error).__name__,
                    pause,
                )
                connections.close_all()
                pause_for(pause)
                pause = min(pause * 2, MAX_PAUSE)
                self.startup_delay = False
                try:
                    self.release_orphans()
                except OUTAGE:
                    continue  # Still away; the next round tries again.
                pause, outages = 1, 0

    def release_orphans(self) -> int:
        """Tasks this worker claimed and never finished (the database went away mid-task)
        are marked failed: nothing is running them any more."""
        running = DBTaskResult.objects.filter(
            status=TaskResultStatus.RUNNING, backend_name=self.backend_name
        )
        mine = [r.pk for r in running.only("pk", "worker_ids") if self.worker_id in r.worker_ids]
        if mine:
            DBTaskResult.objects.filter(pk__in=mine).update(
                status=TaskResultStatus.FAILED,
                finished_at=timezone.now(),
                exception_class_path="django.db.utils.OperationalError",
                traceback="The worker lost the database while running this task.",
            )
            logger.warning(
                "Worker %s: %s interrupted task(s) marked failed", self.worker_id, len(mine)
            )
        return len(mine)


class Command(stock.Command):
    help = stock.Command.help or "Run tasks from the database queue; survives database outages."

    def handle(self, *args, **options):
        refuse_unsafe_production()
        # The stock command builds its worker from this module-level name.
        stock.Worker = ResilientWorker
        return super().handle(*args, **options)
