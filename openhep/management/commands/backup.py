from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from openhep import backup


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


class Command(BaseCommand):
    help = (
        "Write one archive with a consistent snapshot of the database, every media file "
        "and a manifest of checksums (default: var/backups/openhep-backup-<time>.tar). "
        "With --verify ARCHIVE, read an archive through and check it instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="Archive file, or a folder to write it in.")
        parser.add_argument(
            "--verify",
            type=Path,
            metavar="ARCHIVE",
            help="Read ARCHIVE whole, check every checksum against its manifest and report "
            "what it holds; writes nothing.",
        )

    def handle(self, *args, output=None, verify=None, **options):
        if verify is not None:
            if output is not None:
                raise CommandError("--verify checks an archive: it takes no --output.")
            self._verify(verify)
            return
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
        for name, why in sorted(result.skipped.items()):
            self.stderr.write(
                self.style.WARNING(
                    f"Warning: {name!r} has {why}, which restore would refuse: not backed up."
                )
            )
        summary = result.summary
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {result.path} ({megabytes(result.path.stat().st_size)}): the "
                f"{result.manifest['database']['vendor']} database and "
                f"{summary['media_files']} media files ({megabytes(summary['media_bytes'])})."
            )
        )
        self.stdout.write(
            "It holds patient records: encrypt it and keep a copy off this machine "
            "(docs/operations.md)."
        )

    def _verify(self, path: Path) -> None:
        try:
            checked = backup.archive_verify(path=path)
        except backup.BackupError as error:
            raise CommandError(f"{error} It is not a good back-up.") from error
        manifest = checked.manifest
        self.stdout.write(
            self.style.SUCCESS(
                f"{path}: format {manifest['format']}, made {manifest['created_at']}; "
                f"the {manifest['database']['vendor']} database "
                f"({megabytes(checked.database_bytes)}) and {checked.media_files} media files "
                f"({megabytes(checked.media_bytes)}). Every checksum matches its manifest."
            )
        )
