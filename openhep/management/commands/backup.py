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
        "With --since PREVIOUS, an incremental one: only the media files that PREVIOUS "
        "and its chain do not hold. With --verify ARCHIVE, read an archive through and "
        "check it instead (--chain: and the earlier archives of an incremental one)."
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
        parser.add_argument(
            "--since",
            type=Path,
            metavar="PREVIOUS",
            help="Incremental: a full database snapshot, but only the media files not in "
            "the archive PREVIOUS (or the earlier archives of its chain); restore then needs "
            "PREVIOUS and its chain too. Only its manifest is read: PREVIOUS may be a copy of "
            "it, ARCHIVE.manifest.jsonl.gz (for an archive kept only encrypted).",
        )
        parser.add_argument(
            "--chain",
            type=Path,
            nargs="+",
            default=[],
            metavar="EARLIER",
            help="With --verify of an incremental archive: the earlier archives of its chain, "
            "checked too, and that they hold every file it lists as held in them.",
        )

    def handle(self, *args, output=None, verify=None, since=None, chain=(), **options):
        if verify is not None:
            if output is not None or since is not None:
                raise CommandError("--verify checks an archive: it takes no --output or --since.")
            self._verify(verify, chain)
            return
        if chain:
            raise CommandError("--chain goes with --verify (or restore), not with a back-up.")
        if output is None:
            output = backup.default_backup_path()
        elif output.is_dir():
            output = output / backup.default_backup_path().name
        try:
            result = backup.backup_create(output=output, since=since)
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
        if since is not None:
            self.stdout.write(
                f"Incremental since {since}: {summary.get('elsewhere', 0)} more media files "
                f"({megabytes(summary.get('elsewhere_bytes', 0))}) are listed as held in it or "
                "the earlier archives of its chain. Keep those: restore needs them."
            )
        self.stdout.write(
            "It holds patient records: encrypt it and keep a copy off this machine "
            "(docs/operations.md)."
        )

    def _verify(self, path: Path, chain: list[Path]) -> None:
        try:
            checked = backup.archive_verify(path=path)
            parts = backup.chain_verify(checked, chain) if chain else []
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
        if not checked.elsewhere:
            if chain:
                self.stdout.write("It is a full back-up: it needs no earlier archive.")
            return
        previous = manifest["previous"]
        self.stdout.write(
            f"Incremental since {previous['file']} (made {previous['created_at']}): "
            f"{len(checked.elsewhere)} more media files "
            f"({megabytes(checked.elsewhere_bytes)}) are held in earlier archives."
        )
        if chain:
            self.stdout.write(
                self.style.SUCCESS(
                    f"The chain is whole: {', '.join(str(p) for p, _ in parts)} "
                    "hold every one, and every checksum matches."
                )
            )
        else:
            self.stdout.write(
                "Those were not checked: pass the earlier archives with --chain to check "
                "the whole chain."
            )
