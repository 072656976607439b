"""Back-up and restore: one archive holding a consistent database snapshot,
every media file and a manifest with a SHA-256 per member.

- ``archive``: the layout (format 2: a tar of the snapshot, the media stored as
  they are, and a line-by-line manifest), member checks, the manifest's
  writer and reader;
- ``create``: ``backup_create``, the database snapshot and the media walk;
- ``verify``: ``archive_verify``, reading a whole archive against its manifest;
- ``restore``: ``backup_restore``, the database, then each file to its place;
- ``chain``: incremental back-ups (``--since``): the previous archive's
  manifest, and ``chain_verify``, checking a chain before a restore;
- ``media``: MEDIA_ROOT and the storages of files in a bucket;
- ``postgres``: pg_dump and pg_restore.

The commands (``manage.py backup`` / ``restore``) are thin wrappers around
these; see docs/operations.md.
"""

from .archive import (
    DATABASE_MEMBERS,
    FORMAT,
    FORMAT_INCREMENTAL,
    MANIFEST,
    MANIFEST_V1,
    MEDIA,
    BackupError,
    Member,
    manifest_read,
)
from .chain import SIDECAR, chain_verify, previous_read
from .create import BackupResult, backup_create, default_backup_path
from .postgres import pg_command, pg_run
from .restore import RestoreResult, backup_restore, check_compatible
from .verify import VerifiedArchive, archive_verify

__all__ = [
    "DATABASE_MEMBERS",
    "FORMAT",
    "FORMAT_INCREMENTAL",
    "MANIFEST",
    "MANIFEST_V1",
    "MEDIA",
    "SIDECAR",
    "BackupError",
    "BackupResult",
    "Member",
    "RestoreResult",
    "VerifiedArchive",
    "archive_verify",
    "backup_create",
    "backup_restore",
    "chain_verify",
    "check_compatible",
    "default_backup_path",
    "manifest_read",
    "pg_command",
    "pg_run",
    "previous_read",
]
