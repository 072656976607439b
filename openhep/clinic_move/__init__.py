"""Moving one clinic to another installation: ``manage.py clinic_export`` writes
its rows and files to one archive, ``manage.py clinic_import`` loads that into
an installation, empty or with other clinics, under new ids.

- ``rows``: which tables are the clinic's, and its rows as JSON values
  (users by email, exercises by slug, other rows by their old id);
- ``export``: ``clinic_export``, the archive;
- ``load``: ``clinic_archive_verify``, ``clinic_import_plan`` (``--check``) and
  ``clinic_import``.

The archive is a tar like the back-up's (format 2: checksums in a line-by-line
manifest, written to a temporary file and renamed)::

    clinic.json.gz               the rows
    media/<storage>/<name>       each file the rows name, as stored
    manifest.jsonl.gz            {"kind": "openhep-clinic", …}, a line a member, summary

See docs/operations.md, "Move one clinic".
"""

from .export import ClinicMoveError, ExportResult, clinic_export
from .load import (
    ClinicArchive,
    ImportPlan,
    ImportResult,
    clinic_archive_verify,
    clinic_import,
    clinic_import_plan,
    clinic_import_problems,
)

__all__ = [
    "ClinicArchive",
    "ClinicMoveError",
    "ExportResult",
    "ImportPlan",
    "ImportResult",
    "clinic_archive_verify",
    "clinic_export",
    "clinic_import",
    "clinic_import_plan",
    "clinic_import_problems",
]
