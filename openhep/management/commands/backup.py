from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from openhep import backup


class Command(BaseCommand):
    help = (
        "Write one archive with a consistent snapshot of the database, every media file "
        "and a manifest of checksums (default: var/backups/openhep-backup-<time>.tar.gz)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="Archive file, or a folder to write it in.")

    def handle(self, *args, output=None, **options):
        if output is None:
            output = backup.default_backup_path()
        elif output.is_dir():
            output = output / backup.default_backup_path().name
        try:
            result = backup.backup_create(output=output)
        except (backup.BackupError, DatabaseError, OSError) as error:
            raise CommandError(str(error)) from error

        for name, where in sorted(result.missing.items()):
            self.stderr.write(
                self.style.WARNING(
                    f"Warning: {name} ({where}) is not in MEDIA_ROOT: not backed up."
                )
            )
        manifest = result.manifest
        size = result.path.stat().st_size
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {result.path} ({size / 1_000_000:.1f} MB): the "
                f"{manifest['database']['vendor']} database and "
                f"{manifest['media_file_count']} media files."
            )
        )
        self.stdout.write(
            "It holds patient records: encrypt it and keep a copy off this machine "
            "(docs/operations.md)."
        )
