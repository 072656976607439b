from django.core.management.base import BaseCommand

from clinic.workers import tasks_reap_abandoned
from prescriptions.services import deliveries_requeue, handouts_requeue


class Command(BaseCommand):
    help = (
        "Queue again handout emails and issued handouts still to draw that are stuck (a "
        "lost task, or a worker that died mid-send or mid-draw), and mark failed the tasks "
        "of workers that stopped. Safe to run often: the scheduler runs it every minute."
    )

    def handle(self, *args, **options):
        reaped = tasks_reap_abandoned()
        handouts = handouts_requeue()
        count = deliveries_requeue()
        self.stdout.write(
            f"{count} delivery(ies) and {handouts} handout(s) queued again; {reaped} task(s) "
            "of stopped workers marked failed."
        )
