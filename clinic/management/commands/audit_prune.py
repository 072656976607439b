from django.core.management.base import BaseCommand

from clinic.retention import audit_expired_counts, audit_prune


class Command(BaseCommand):
    help = (
        "Delete audit entries past their retention (AUDIT_KEEP_READS_DAYS for views and "
        "downloads, AUDIT_KEEP_CHANGES_DAYS for the rest). Run daily by the scheduler."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say how many would be deleted."
        )

    def handle(self, *args, dry_run: bool, **options):
        if dry_run:
            count = sum(audit_expired_counts().values())
            self.stdout.write(f"{count} audit entries are past their retention.")
            return
        self.stdout.write(f"{audit_prune()} audit entries past their retention deleted.")
