import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from openhep import backup


class Command(BaseCommand):
    help = (
        "Replace the database and media files with those in a back-up archive made by "
        "`manage.py backup`. Reads the archive through and checks every checksum first; "
        "then restores the database and writes each media file to its place. "
        "Runs no migrations. An incremental archive (backup --since) needs the earlier "
        "archives of its chain: --chain PREVIOUS [EARLIER ...]."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The archive to restore.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument(
            "--chain",
            type=Path,
            nargs="+",
            default=[],
            metavar="EARLIER",
            help="For an incremental archive: the earlier archives of its chain (the one it "
            "was made --since, and so on back to a full back-up), in any order. Each is "
            "checked whole first.",
        )

    def handle(self, *args, path, yes=False, chain=(), **options):
        with tempfile.TemporaryDirectory(prefix="openhep-restore-") as work:
            try:
                staged = backup.archive_verify(path=path, into=Path(work))
                backup.check_compatible(staged.manifest)
                parts = backup.chain_verify(staged, chain) if staged.elsewhere or chain else []
            except backup.BackupError as error:
                raise CommandError(f"{error} Nothing was changed.") from error

            manifest = staged.manifest
            self.stdout.write(
                f"{path}: made {manifest['created_at']}, {manifest['database']['vendor']} "
                f"database and {staged.media_files} media files "
                f"({staged.media_bytes / 1_000_000:.1f} MB); checksums match."
            )
            if staged.elsewhere:
                self.stdout.write(
                    f"Incremental: {len(staged.elsewhere)} more media files "
                    f"({staged.elsewhere_bytes / 1_000_000:.1f} MB) from "
                    f"{', '.join(str(p) for p, _ in parts)}; checksums match."
                )
            if not yes:
                self._confirm()
            try:
                result = backup.backup_restore(staged=staged, chain=parts)
            except (backup.BackupError, DatabaseError, OSError) as error:
                raise CommandError(str(error)) from error

        self.stdout.write(
            self.style.SUCCESS(
                f"Restored the database and {result.media_files} media files from {path}."
            )
        )
        if result.unknown_migrations:
            self.stderr.write(
                self.style.WARNING(
                    "The back-up was made by newer code (migrations unknown here: "
                    f"{', '.join(result.unknown_migrations)}): install that version."
                )
            )
        if result.pending_migrations:
            self.stdout.write(
                f"This code has {len(result.pending_migrations)} migrations the back-up "
                "has not applied: run `manage.py migrate` now."
            )
        else:
            self.stdout.write(
                "No migrations were run; the schema matches this code "
                "(if you upgrade the code later, run `manage.py migrate`)."
            )

    def _confirm(self) -> None:
        if not sys.stdin.isatty():
            raise CommandError(
                "Restoring replaces the database and media files: pass --yes to confirm. "
                "Nothing was changed."
            )
        target = connections[DEFAULT_DB_ALIAS].settings_dict
        where = str(target["NAME"]) + (f" on {target['HOST']}" if target.get("HOST") else "")
        answer = input(
            f"This replaces every record in the database {where} and files of the same name "
            f"in {settings.MEDIA_ROOT}. Type 'yes' to continue: "
        )
        if answer.strip().lower() != "yes":
            raise CommandError("Restore cancelled. Nothing was changed.")
