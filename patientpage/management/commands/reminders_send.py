from django.core.management.base import BaseCommand

from patientpage.reminders import reminders_send


class Command(BaseCommand):
    help = (
        "Queue the reminder emails patients asked for that are due now (a moment missed "
        "by up to two hours still goes). Safe to run often and twice at once: each email "
        "goes once. The scheduler runs it every five minutes."
    )

    def handle(self, *args, **options):
        count = reminders_send()
        self.stdout.write(f"{count} reminder email(s) queued.")
