"""One clinic's rows and files in one archive, to load into another installation.

    manage.py clinic_export --clinic northside-physio --output northside.tar

The archive holds patients' records: keep it as safe as a back-up, and delete it
once the clinic is imported. The clinic's trail records the export.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from clinic.audit import Actor
from clinic.models import Clinic
from openhep.clinic_move import ClinicMoveError, clinic_export

ACTOR = Actor.command("manage.py clinic_export")


class Command(BaseCommand):
    help = "Write one clinic's rows and files to an archive for manage.py clinic_import."

    def add_arguments(self, parser):
        parser.add_argument("--clinic", required=True, metavar="SLUG", help="The clinic's slug.")
        parser.add_argument("--output", required=True, type=Path, help="The archive to write.")

    def handle(self, *args, clinic: str, output: Path, **options):
        found = Clinic.objects.filter(slug=clinic).first()
        if found is None:
            raise CommandError(f"No clinic with the slug {clinic!r}.")
        try:
            result = clinic_export(clinic=found, output=output, actor=ACTOR)
        except (ClinicMoveError, DatabaseError, OSError) as error:
            raise CommandError(str(error)) from error
        if result.pending_deliveries:
            self.stderr.write(
                self.style.WARNING(
                    f"Warning: {result.pending_deliveries} handout emails were not sent yet; "
                    "the imported clinic shows them as they are but will not send them."
                )
            )
        if result.unready_handouts:
            self.stderr.write(
                self.style.WARNING(
                    f"Warning: {result.unready_handouts} issued handouts were still being "
                    "prepared (or their drawing had failed); the imported clinic draws them "
                    "again from their stored programs."
                )
            )
        rows = sum(result.rows.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {result.path}: clinic {found.slug}, {rows} rows, {result.users} staff "
                f"accounts, {result.files} files ({result.file_bytes / 1_000_000:.1f} MB)."
            )
        )
