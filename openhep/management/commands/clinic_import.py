"""Load a clinic exported by ``manage.py clinic_export`` into this installation.

    manage.py clinic_import --check northside.tar   # what it would do; writes nothing
    manage.py clinic_import northside.tar

The archive is read through and checked first; then every row goes in under a
new id, in one transaction, beside the clinics already here (none of which is
touched). Refused, with nothing written, when the clinic's slug or one of its
exercise slugs is taken here, a shared-library exercise it uses is missing,
or one of its staff already belongs to a clinic here.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from clinic.audit import Actor
from openhep.clinic_move import (
    ClinicMoveError,
    clinic_archive_verify,
    clinic_import,
    clinic_import_plan,
)

ACTOR = Actor.command("manage.py clinic_import")


class Command(BaseCommand):
    help = "Load one clinic from an archive written by manage.py clinic_export."

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="The archive clinic_export wrote.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Verify the archive and report what the import would refuse and create; "
            "write nothing.",
        )

    def handle(self, *args, archive: Path, check: bool = False, **options):
        if check:
            return self._check(archive)
        try:
            checked = clinic_archive_verify(path=archive)
            result = clinic_import(archive=checked, actor=ACTOR)
        except (ClinicMoveError, DatabaseError, OSError) as error:
            raise CommandError(f"{error} Nothing was imported.") from error
        rows = sum(result.rows.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported clinic {result.clinic.name} ({result.clinic.slug}): {rows} rows, "
                f"{result.files} files; staff accounts: {result.users_created} created, "
                f"{result.users_reused} already here."
            )
        )

    def _check(self, archive: Path) -> None:
        try:
            plan = clinic_import_plan(clinic_archive_verify(path=archive))
        except (ClinicMoveError, DatabaseError, OSError) as error:
            raise CommandError(f"{error} Nothing was written.") from error
        self.stdout.write(f"Clinic {plan.slug}: the archive matches its manifest.")
        self.stdout.write("The import would create:")
        for label, count in plan.rows.items():
            self.stdout.write(f"  {label}: {count}")
        self.stdout.write(
            f"  staff and named accounts: {plan.users_created} created, "
            f"{plan.users_reused} already here"
        )
        self.stdout.write(f"  files: {plan.files} ({plan.file_bytes} bytes)")
        if plan.problems:
            raise CommandError(
                "The import would refuse: "
                + "; ".join(plan.problems)
                + ". Nothing was written (--check)."
            )
        self.stdout.write(self.style.SUCCESS("The import would go ahead. Nothing was written."))
