"""``manage.py db_worker``: django-tasks-db's worker, kept alive across a database outage.

The stock worker exits when it loses the database, and a task it was running is
left ``RUNNING`` for ever. This one waits and reconnects with back-off (1 s, 2 s,
4 s … up to ``MAX_PAUSE``), then marks the tasks it had claimed before the outage
as failed, so the record is true. Handout e-mails lost that way are sent again by
``requeue_deliveries`` once their lease runs out (docs/email.md).
"""

import logging
import time

from django.db import InterfaceError, OperationalError, connections
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.management.commands import db_worker as stock
from django_tasks_db.models import DBTaskResult

from openhep.checks import refuse_unsafe_production

logger = logging.getLogger("openhep.worker")

MAX_PAUSE = 60
# A --batch run (cron, tests) gives up after this many outages in a row instead of
# waiting for ever; a long-running worker never gives up.
BATCH_OUTAGES = 5
OUTAGE = (OperationalError, InterfaceError)


def pause_for(seconds: float) -> None:
    time.sleep(seconds)


class ResilientWorker(stock.Worker):
    def run(self) -> None:
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
