from django.core.management.base import BaseCommand

from prescriptions.services import deliveries_requeue


class Command(BaseCommand):
    help = (
        "Queue again handout emails that are stuck: a lost task, or a worker that died "
        "mid-send. Safe to run often (e.g. every 5 minutes from cron)."
    )

    def handle(self, *args, **options):
        count = deliveries_requeue()
        self.stdout.write(f"{count} delivery(ies) queued again.")
