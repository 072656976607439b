from django.core.management.base import BaseCommand

from patientpage.followups import INACTIVE_DAYS, followups_inactive


class Command(BaseCommand):
    help = (
        f"Open a 'no activity for {INACTIVE_DAYS} days' follow-up on the dashboard for each "
        "patient whose program page is open and who has logged nothing for that long. "
        "Running it twice opens nothing new. The scheduler runs it daily."
    )

    def handle(self, *args, **options):
        count = followups_inactive()
        self.stdout.write(f"{count} follow-up(s) opened.")
